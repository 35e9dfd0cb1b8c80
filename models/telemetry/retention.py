"""Retention: drop telemetry chunks past their age (a scheduled drop_chunks; the Apache build has no policies)."""

from __future__ import annotations

from datetime import timedelta

from psycopg.rows import scalar_row

from models.db import Connection

__all__ = ["RETAINED_HYPERTABLES", "drop_old_chunks"]

# Events and status changes are the lifecycle's evidence; only raw telemetry ages out.
RETAINED_HYPERTABLES = ("telemetry",)


def drop_old_chunks(conn: Connection, *, older_than: timedelta) -> list[str]:
    """Drop telemetry chunks whose data is all older than `older_than`; return the dropped chunk names."""
    dropped: list[str] = []
    with conn.cursor(row_factory=scalar_row) as cur:
        for table in RETAINED_HYPERTABLES:
            cur.execute("SELECT drop_chunks(%s::regclass, older_than => %s)", (table, older_than))
            dropped.extend(str(name) for name in cur.fetchall())
    return dropped
