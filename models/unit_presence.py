"""What ingest knows and updates about units: which ids exist, last seen, online/offline."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

import psycopg
from psycopg.rows import scalar_row

__all__ = [
    "StatusChange",
    "existing_unit_ids",
    "mark_silent_units_offline",
    "record_status_changes",
    "register_units",
    "touch_last_seen",
]

StatusChange = tuple[str, datetime, datetime, str]
"""(unit_id, time, received_at, state) with state 'online' or 'offline'."""


def existing_unit_ids(conn: psycopg.Connection[Any], ids: Collection[str] | None = None) -> set[str]:
    """The ids of registered units (all of them, or those among `ids`)."""
    with conn.cursor(row_factory=scalar_row) as cur:
        if ids is None:
            cur.execute("SELECT id FROM units")
        else:
            cur.execute("SELECT id FROM units WHERE id = ANY(%s)", (list(ids),))
        return set(cur.fetchall())


def register_units(conn: psycopg.Connection[Any], ids: Collection[str]) -> None:
    """Register unknown units on first contact (when auto-registration is configured)."""
    if ids:
        conn.execute(
            "INSERT INTO units (id, auto_registered) SELECT unnest(%s::text[]), true ON CONFLICT (id) DO NOTHING",
            (sorted(ids),),
        )


def touch_last_seen(conn: psycopg.Connection[Any], seen: Mapping[str, datetime]) -> None:
    """Move each unit's last_seen forward (never back) and mark it online; ids sorted so concurrent writers
    lock rows in one order."""
    if not seen:
        return
    ids = sorted(seen)
    # Data is a sign of life: a unit marked offline (by silence, or never announced) is online again, unless
    # an offline status newer than this data says otherwise (a batch can be processed after the last will).
    conn.execute(
        "UPDATE units AS u SET last_seen = GREATEST(u.last_seen, v.seen),"
        " online = u.online OR NOT EXISTS (SELECT 1 FROM unit_status_changes s"
        "   WHERE s.unit_id = v.id AND s.state = 'offline' AND s.time >= v.seen)"
        " FROM unnest(%s::text[], %s::timestamptz[]) AS v(id, seen)"
        " WHERE u.id = v.id AND (u.last_seen IS NULL OR u.last_seen < v.seen OR NOT u.online)",
        (ids, [seen[i] for i in ids]),
    )


def record_status_changes(conn: psycopg.Connection[Any], changes: Sequence[StatusChange]) -> None:
    """Store status messages and set each unit's online flag from its newest one."""
    if not changes:
        return
    with conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO unit_status_changes (unit_id, time, received_at, state) VALUES (%s, %s, %s, %s)"
            " ON CONFLICT DO NOTHING",
            changes,
        )
    newest: dict[str, StatusChange] = {}
    for change in changes:
        if change[0] not in newest or change[1] >= newest[change[0]][1]:
            newest[change[0]] = change
    ids = sorted(newest)
    # A status older than one already applied (out-of-order redelivery) must not flip the flag back.
    conn.execute(
        "UPDATE units AS u SET online = v.state = 'online', last_seen = GREATEST(u.last_seen, v.received_at),"
        " updated_at = now()"
        " FROM unnest(%s::text[], %s::timestamptz[], %s::timestamptz[], %s::text[]) AS v(id, time, received_at, state)"
        " WHERE u.id = v.id AND NOT EXISTS (SELECT 1 FROM unit_status_changes s"
        "   WHERE s.unit_id = v.id AND s.time > v.time)",
        (ids, [newest[i][1] for i in ids], [newest[i][2] for i in ids], [newest[i][3] for i in ids]),
    )


def mark_silent_units_offline(conn: psycopg.Connection[Any], *, now: datetime, silent_for: timedelta) -> list[str]:
    """Units marked online but not heard from for `silent_for`: set offline and record it; return their ids.

    A device that loses power behind a gateway never gets its last will published; silence is the only sign.
    """
    with conn.cursor(row_factory=scalar_row) as cur:
        cur.execute(
            "UPDATE units SET online = false, updated_at = now()"
            " WHERE online AND (last_seen IS NULL OR last_seen < %s) RETURNING id",
            (now - silent_for,),
        )
        ids = sorted(cur.fetchall())
    if ids:
        conn.execute(
            "INSERT INTO unit_status_changes (unit_id, time, received_at, state)"
            " SELECT unnest(%s::text[]), %s, %s, 'offline' ON CONFLICT DO NOTHING",
            (ids, now, now),
        )
    return ids
