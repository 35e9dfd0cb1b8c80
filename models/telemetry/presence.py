"""What ingest knows and updates about units: which ids exist, last seen, online/offline."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from psycopg.rows import scalar_row

from models.db import Connection
from models.telemetry.contract import StatusMessage

__all__ = [
    "StatusReport",
    "existing_unit_ids",
    "mark_silent_units_offline",
    "record_statuses",
    "register_units",
    "touch_last_seen",
]


@dataclass(frozen=True, slots=True)
class StatusReport:
    """A status message of a unit as ingest received it; `retained` when the broker replayed stored state."""

    unit_id: str
    received_at: datetime
    status: StatusMessage
    retained: bool = False

    @property
    def sighting(self) -> bool:
        """True when the device itself spoke just now: a live message it timestamped.

        A retained delivery is the broker repeating old state at every (re)subscribe, and a status without
        `ts` is a last will the broker publishes for a device that is gone: neither is a sign of life.
        """
        return self.status.ts is not None and not self.retained

    @property
    def time(self) -> datetime | None:
        """When the state began: the device's time, or receipt for a live last will; None when unknowable."""
        if self.status.ts is not None:
            return self.status.ts
        return None if self.retained else self.received_at


def existing_unit_ids(conn: Connection, *, ids: Collection[str] | None = None) -> set[str]:
    """The ids of registered units (all of them, or those among `ids`)."""
    with conn.cursor(row_factory=scalar_row) as cur:
        if ids is None:
            cur.execute("SELECT id FROM units")
        else:
            cur.execute("SELECT id FROM units WHERE id = ANY(%s)", (list(ids),))
        return set(cur.fetchall())


def register_units(conn: Connection, *, ids: Collection[str]) -> None:
    """Register unknown units on first contact (when auto-registration is configured)."""
    if ids:
        conn.execute(
            "INSERT INTO units (id, auto_registered) SELECT unnest(%s::text[]), true ON CONFLICT (id) DO NOTHING",
            (sorted(ids),),
        )


def touch_last_seen(conn: Connection, *, seen: Mapping[str, datetime]) -> None:
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


def record_statuses(conn: Connection, *, reports: Sequence[StatusReport]) -> int:
    """Store status changes, set each unit's online flag from its newest one, and move last_seen for
    sightings only; return how many changes were new. A retained status without `ts` records nothing."""
    dated = [(r.unit_id, time, r.received_at, r.status.state) for r in reports if (time := r.time) is not None]
    if not reports:
        return 0
    with conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO unit_status_changes (unit_id, time, received_at, state) VALUES (%s, %s, %s, %s)"
            " ON CONFLICT DO NOTHING",
            dated,
        )
        new = max(cur.rowcount, 0) if dated else 0
    newest: dict[str, tuple[str, datetime, datetime, str]] = {}
    for change in dated:
        if change[0] not in newest or change[1] >= newest[change[0]][1]:
            newest[change[0]] = change
    ids = sorted(newest)
    # A status older than one already applied (out-of-order redelivery) must not flip the flag back.
    if ids:
        conn.execute(
            "UPDATE units AS u SET online = v.state = 'online', updated_at = now()"
            " FROM unnest(%s::text[], %s::timestamptz[], %s::text[]) AS v(id, time, state)"
            " WHERE u.id = v.id AND u.online IS DISTINCT FROM (v.state = 'online') AND NOT EXISTS"
            "   (SELECT 1 FROM unit_status_changes s WHERE s.unit_id = v.id AND s.time > v.time)",
            (ids, [newest[i][1] for i in ids], [newest[i][3] for i in ids]),
        )
    seen = {r.unit_id: r.received_at for r in sorted(reports, key=lambda r: r.received_at) if r.sighting}
    if seen:
        ids = sorted(seen)
        conn.execute(
            "UPDATE units AS u SET last_seen = v.seen FROM unnest(%s::text[], %s::timestamptz[]) AS v(id, seen)"
            " WHERE u.id = v.id AND (u.last_seen IS NULL OR u.last_seen < v.seen)",
            (ids, [seen[i] for i in ids]),
        )
    return new


def mark_silent_units_offline(conn: Connection, *, now: datetime, silent_for: timedelta) -> list[str]:
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
