"""Where each store derived from raw telemetry stands (`telemetry_marks`): rollups and the cold tier."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from models.db import Connection

__all__ = ["COLD_MARK", "Mark", "read_mark", "set_mark"]

# Every telemetry row before this mark's `until` is in the cold tier under its `location`, not in the hypertable.
COLD_MARK = "cold:telemetry"


@dataclass(frozen=True)
class Mark:
    """A derived store is complete before `until` as of `at` (the writer's clock); `location` says where it
    lives when not in the database."""

    until: datetime
    location: str | None
    at: datetime


def read_mark(conn: Connection, name: str) -> Mark | None:
    """The mark called `name`, or None before its store was first written."""
    query = "SELECT until, location, moved_at FROM telemetry_marks WHERE name = %(name)s"
    row = conn.execute(query, {"name": name}).fetchone()
    return None if row is None else Mark(row["until"], row["location"], row["moved_at"])  # type: ignore[arg-type]


def set_mark(conn: Connection, name: str, *, until: datetime, at: datetime, location: str | None = None) -> None:
    """Move the mark called `name` to `until` (and `location`) at `at`."""
    conn.execute(
        "INSERT INTO telemetry_marks (name, until, location, moved_at) VALUES (%(name)s, %(until)s, %(location)s,"
        " %(at)s) ON CONFLICT (name) DO UPDATE SET until = excluded.until, location = excluded.location,"
        " moved_at = excluded.moved_at",
        {"name": name, "until": until, "location": location, "at": at},
    )
