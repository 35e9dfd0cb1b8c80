"""Versioned detector models: one artifact per model family and version, with its training window and metrics.

The artifact is the learned state as JSON bytes (never a pickle: loading a model must not run code), kept in
the database so every brain replica sees the same versions.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from psycopg import sql
from psycopg.rows import class_row
from psycopg.types.json import Jsonb
from pydantic import BaseModel

from models.db import Connection

__all__ = ["DetectorModel", "latest_model", "save_model"]


class DetectorModel(BaseModel):
    """One stored model version."""

    id: int
    family: str
    version: int
    trained_from: datetime
    trained_until: datetime
    features: list[str]
    metrics: dict[str, Any]
    artifact: bytes
    created_at: datetime


_COLUMNS = sql.SQL("id, family, version, trained_from, trained_until, features, metrics, artifact, created_at")


def save_model(
    conn: Connection,
    *,
    family: str,
    trained_from: datetime,
    trained_until: datetime,
    features: Sequence[str],
    metrics: dict[str, Any],
    artifact: bytes,
    created_at: datetime,
) -> DetectorModel:
    """Store a new version of the family's model (version = previous + 1)."""
    # One writer per family at a time: the detection job holds its advisory lock, and the unique
    # (family, version) refuses a racing duplicate instead of storing two "latest" versions.
    with conn.cursor(row_factory=class_row(DetectorModel)) as cur:
        cur.execute(
            sql.SQL(
                "INSERT INTO detector_models (family, version, trained_from, trained_until, features, metrics,"
                " artifact, created_at) SELECT %s, coalesce(max(version), 0) + 1, %s, %s, %s, %s, %s, %s"
                " FROM detector_models WHERE family = %s RETURNING {}"
            ).format(_COLUMNS),
            (family, trained_from, trained_until, list(features), Jsonb(metrics), artifact, created_at, family),
        )
        row = cur.fetchone()
    assert row is not None
    return row


def latest_model(conn: Connection, *, family: str) -> DetectorModel | None:
    """The family's newest model version, if any."""
    with conn.cursor(row_factory=class_row(DetectorModel)) as cur:
        cur.execute(
            sql.SQL("SELECT {} FROM detector_models WHERE family = %s ORDER BY version DESC LIMIT 1").format(_COLUMNS),
            (family,),
        )
        return cur.fetchone()
