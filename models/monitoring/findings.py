"""Degradation findings: a detector's claim that a unit's component wears, with the features behind it.

One open finding per unit + component (a partial unique index): a repeat updates its score, evidence, window,
`last_seen` and `seen_count` instead of adding a row, so re-running a detection pass duplicates nothing. A
finding carries what an alarm needs (unit, type, severity, component, source, reason, evidence, time), so the
alarms aggregate can raise one from it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from psycopg import sql
from psycopg.rows import class_row, tuple_row
from psycopg.types.json import Jsonb
from pydantic import BaseModel

from models.db import Connection

__all__ = ["ALARM_TYPE", "Finding", "close_finding", "list_findings", "open_findings", "upsert_finding"]

# The alarm type a finding becomes once wired to the alarms aggregate.
ALARM_TYPE = "degradation"

_COLUMNS = sql.SQL(
    "id, unit_id, component_type, state, severity, score, reason, evidence, window_start, window_end, source, "
    "model_id, opened_at, last_seen, seen_count, closed_at, close_reason"
)


class Finding(BaseModel):
    """One degradation finding."""

    id: int
    unit_id: str
    component_type: str
    state: str
    severity: str
    score: float
    reason: str
    evidence: list[dict[str, Any]]
    window_start: datetime
    window_end: datetime
    source: str
    model_id: int | None
    opened_at: datetime
    last_seen: datetime
    seen_count: int
    closed_at: datetime | None
    close_reason: str | None


def upsert_finding(
    conn: Connection,
    *,
    unit_id: str,
    component_type: str,
    severity: str,
    score: float,
    reason: str,
    evidence: list[dict[str, Any]],
    window_start: datetime,
    window_end: datetime,
    source: str,
    model_id: int | None,
    at: datetime,
) -> int:
    """Open a finding for the unit's component, or refresh the open one; return its id."""
    with conn.cursor(row_factory=tuple_row) as cur:
        row = cur.execute(
        "INSERT INTO degradation_findings (unit_id, component_type, state, severity, score, reason, evidence,"
        " window_start, window_end, source, model_id, opened_at, last_seen)"
        " VALUES (%(u)s, %(c)s, 'open', %(sev)s, %(score)s, %(reason)s, %(ev)s, %(ws)s, %(we)s, %(src)s, %(m)s,"
        " %(at)s, %(at)s)"
        " ON CONFLICT (unit_id, component_type) WHERE state = 'open' DO UPDATE SET severity = EXCLUDED.severity,"
        " score = EXCLUDED.score, reason = EXCLUDED.reason, evidence = EXCLUDED.evidence,"
        " window_end = EXCLUDED.window_end, model_id = EXCLUDED.model_id,"
        " last_seen = greatest(degradation_findings.last_seen, EXCLUDED.last_seen),"
        # The same pass run again (same time) is not a new sighting.
        " seen_count = degradation_findings.seen_count"
        " + CASE WHEN EXCLUDED.last_seen > degradation_findings.last_seen THEN 1 ELSE 0 END"
        " RETURNING id",
        {"u": unit_id, "c": component_type, "sev": severity, "score": score, "reason": reason,
         "ev": Jsonb(evidence), "ws": window_start, "we": window_end, "src": source, "m": model_id, "at": at},
    ).fetchone()  # fmt: skip
    assert row is not None
    return int(row[0])


def close_finding(conn: Connection, *, unit_id: str, component_type: str, at: datetime, reason: str) -> bool:
    """Close the unit's open finding for the component (if any); True when one was closed."""
    cur = conn.execute(
        "UPDATE degradation_findings SET state = 'closed', closed_at = %s, close_reason = %s"
        " WHERE unit_id = %s AND component_type = %s AND state = 'open'",
        (at, reason, unit_id, component_type),
    )
    return cur.rowcount > 0


def open_findings(conn: Connection, *, unit_id: str) -> list[Finding]:
    """The unit's open findings, by component."""
    return list_findings(conn, unit_id=unit_id, state="open")


def list_findings(conn: Connection, *, unit_id: str | None = None, state: str | None = None) -> list[Finding]:
    """Findings (of one unit and/or in one state), oldest first."""
    query = sql.SQL(
        "SELECT {} FROM degradation_findings WHERE (%(unit)s::text IS NULL OR unit_id = %(unit)s)"
        " AND (%(state)s::text IS NULL OR state = %(state)s) ORDER BY opened_at, id"
    ).format(_COLUMNS)
    with conn.cursor(row_factory=class_row(Finding)) as cur:
        cur.execute(query, {"unit": unit_id, "state": state})
        return cur.fetchall()
