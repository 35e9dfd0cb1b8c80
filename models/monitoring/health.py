"""Health scores 0-100 of units and their components over time, each with its reasons.

Keyed by (unit, component, time): recording the same pass again replaces its rows. `component_type` is
'unit' for the unit as a whole; a NULL score means the unit cannot be judged yet and the reason says why.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from psycopg.rows import class_row
from psycopg.types.json import Jsonb
from pydantic import BaseModel

from models.db import Connection

__all__ = ["UNIT_COMPONENT", "HealthRow", "HealthScore", "health_history", "record_health"]

UNIT_COMPONENT = "unit"


@dataclass(frozen=True)
class HealthRow:
    """One score to record: a component's (or the unit's) health with its reasons."""

    component_type: str
    score: float | None
    reasons: list[dict[str, Any]]


class HealthScore(BaseModel):
    """A recorded health score."""

    unit_id: str
    component_type: str
    at: datetime
    score: float | None
    reasons: list[dict[str, Any]]
    model_id: int | None


def record_health(
    conn: Connection, *, unit_id: str, at: datetime, rows: Sequence[HealthRow], model_id: int | None
) -> None:
    """Record the unit's health scores at `at` (replacing any recorded for the same time)."""
    with conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO health_scores (unit_id, component_type, at, score, reasons, model_id)"
            " VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT (unit_id, component_type, at)"
            " DO UPDATE SET score = EXCLUDED.score, reasons = EXCLUDED.reasons, model_id = EXCLUDED.model_id",
            [(unit_id, row.component_type, at, row.score, Jsonb(row.reasons), model_id) for row in rows],
        )


def health_history(
    conn: Connection, *, unit_id: str, component_type: str = UNIT_COMPONENT, since: datetime | None = None
) -> list[HealthScore]:
    """A unit's (or one of its components') scores over time, oldest first."""
    with conn.cursor(row_factory=class_row(HealthScore)) as cur:
        cur.execute(
            "SELECT unit_id, component_type, at, score, reasons, model_id FROM health_scores"
            " WHERE unit_id = %s AND component_type = %s AND at >= coalesce(%s::timestamptz, '-infinity')"
            " ORDER BY at",
            (unit_id, component_type, since),
        )
        return cur.fetchall()
