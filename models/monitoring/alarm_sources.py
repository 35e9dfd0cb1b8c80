"""What the alarm jobs read: new controller events by a receive-time cursor, and units gone silent or back.

Events are read by `received_at` from a cursor minus an overlap, because an ingest transaction commits a
little after it stamps its rows: a plain cursor would skip rows committed late with an older stamp. The
overlap re-reads recent rows; `alarm_rule_events` records the ones applied, so none counts twice.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from psycopg.rows import scalar_row

from models.db import Connection
from models.monitoring.alarm_policies import SERVICE_CODES

__all__ = [
    "RULE_OVERLAP",
    "PresenceChange",
    "RuleEvent",
    "advance_cursor",
    "first_events_after",
    "mark_applied",
    "offline_alarm_changes",
    "pending_events",
    "service_states",
]

# Longer than any ingest batch takes from stamping to commit (0.2 s batches; minutes only if the database
# stalls). Rows committed later than this after their stamp are not seen by the rules.
RULE_OVERLAP = timedelta(minutes=5)
# Applied-event rows are kept this long past the overlap, then pruned (they only guard the re-read window).
LEDGER_KEEP = 2 * RULE_OVERLAP
# Bounds one pass to about a second: the rules apply events in batches with a handful of statements each
# (bench/alarm_latency.py --backlog), so a pass of this size seldom overruns the job's interval, and a backlog
# (a fleet-wide power cut, gateways reconnecting) is worked off over several passes.
MAX_EVENTS_PER_PASS = 5000


@dataclass(frozen=True)
class RuleEvent:
    """One controller event for the rules."""

    unit_id: str
    time: datetime
    code: str
    received_at: datetime
    gb_code: int | None
    floor: int | None
    details: dict[str, Any] | None


@dataclass(frozen=True)
class PresenceChange:
    """A unit whose offline alarm must open (silent) or clear (heard from again, or decommissioned)."""

    unit_id: str
    last_seen: datetime
    silent: bool
    decommissioned: bool


def _cursor(conn: Connection, name: str) -> datetime | None:
    with conn.cursor(row_factory=scalar_row) as cur:
        cur.execute("SELECT received_at FROM alarm_cursors WHERE name = %s", (name,))
        value = cur.fetchone()
    return value if isinstance(value, datetime) else None


def pending_events(conn: Connection, *, cursor: str) -> list[RuleEvent]:
    """Events received since the cursor (less the overlap) that the rules have not applied, oldest first."""
    since = _cursor(conn, cursor)
    rows = conn.execute(
        "SELECT e.unit_id, e.time, e.code, e.received_at, e.gb_code, e.floor, e.details FROM events e"
        " WHERE (%(since)s::timestamptz IS NULL OR e.received_at > %(since)s::timestamptz - %(overlap)s)"
        " AND NOT EXISTS (SELECT 1 FROM alarm_rule_events r"
        "   WHERE r.unit_id = e.unit_id AND r.time = e.time AND r.code = e.code)"
        " ORDER BY e.received_at, e.unit_id, e.time LIMIT %(limit)s",
        {"since": since, "overlap": RULE_OVERLAP, "limit": MAX_EVENTS_PER_PASS},
        binary=True,
    ).fetchall()
    return [RuleEvent(**row) for row in rows]  # type: ignore[arg-type]


def mark_applied(conn: Connection, events: Sequence[RuleEvent]) -> None:
    """Record events as applied, in one statement (inside the batch's savepoint, so a failed unit is retried)."""
    conn.execute(
        "INSERT INTO alarm_rule_events (unit_id, time, code, received_at)"
        " SELECT * FROM unnest(%b::text[], %b::timestamptz[], %b::text[], %b::timestamptz[]) ON CONFLICT DO NOTHING",
        ([e.unit_id for e in events], [e.time for e in events], [e.code for e in events],
         [e.received_at for e in events]),
        binary=True,
    )  # fmt: skip


def advance_cursor(conn: Connection, *, cursor: str, to: datetime) -> None:
    """Move the cursor forward (never back) and prune applied-event rows older than the re-read window."""
    conn.execute(
        "INSERT INTO alarm_cursors (name, received_at) VALUES (%(name)s, %(to)s) ON CONFLICT (name)"
        " DO UPDATE SET received_at = greatest(alarm_cursors.received_at, excluded.received_at)",
        {"name": cursor, "to": to},
    )
    conn.execute("DELETE FROM alarm_rule_events WHERE received_at < %s", (to - LEDGER_KEEP,))


def first_events_after(conn: Connection, *, probes: Iterable[tuple[str, str, datetime]]) -> dict[
    tuple[str, str, datetime], datetime
]:  # fmt: skip
    """For each (unit, code, after): the device time of the unit's first `code` event after `after` (one query).

    Probes with no such event are left out of the answer.
    """
    wanted = sorted(set(probes))
    rows = conn.execute(
        "SELECT p.unit_id, p.code, p.after, (SELECT min(e.time) FROM events e WHERE e.unit_id = p.unit_id"
        "   AND e.code = p.code AND e.time > p.after) AS first"
        " FROM unnest(%(units)b::text[], %(codes)b::text[], %(afters)b::timestamptz[]) AS p(unit_id, code, after)",
        {"units": [p[0] for p in wanted], "codes": [p[1] for p in wanted], "afters": [p[2] for p in wanted]},
        binary=True,
    ).fetchall()
    return {(r["unit_id"], r["code"], r["after"]): r["first"] for r in rows if r["first"] is not None}  # type: ignore[misc]


def service_states(conn: Connection, *, probes: Iterable[tuple[str, datetime]]) -> dict[tuple[str, datetime], str]:
    """For each (unit, time): why the unit is being serviced then (inspection mode, a work order in progress).

    One query for all probes; units not in service at that time are left out of the answer. Work orders keep
    no status history, so a work order's current state stands for any time.
    """
    wanted = sorted(set(probes))
    rows = conn.execute(
        "SELECT p.unit_id, p.at, m.code, m.time, w.id AS work_order"
        " FROM unnest(%(units)b::text[], %(ats)b::timestamptz[]) AS p(unit_id, at)"
        " LEFT JOIN LATERAL (SELECT e.code, e.time FROM events e WHERE e.unit_id = p.unit_id"
        "   AND e.code = ANY(%(codes)s) AND e.time <= p.at ORDER BY e.time DESC LIMIT 1) AS m ON true"
        " LEFT JOIN LATERAL (SELECT w.id FROM work_orders w WHERE w.unit_id = p.unit_id AND w.status = 'in_progress'"
        "   ORDER BY w.created_at LIMIT 1) AS w ON true",
        {"units": [p[0] for p in wanted], "ats": [p[1] for p in wanted], "codes": list(SERVICE_CODES)},
        binary=True,
    ).fetchall()
    states: dict[tuple[str, datetime], str] = {}
    for row in rows:
        key = (str(row["unit_id"]), row["at"])
        if row["code"] is not None and SERVICE_CODES[str(row["code"])] == "enter":
            states[key] = f"unit in inspection mode since {row['time']}"  # type: ignore[index]
        elif row["work_order"] is not None:
            states[key] = f"work order {row['work_order']} in progress"  # type: ignore[index]
    return states


def offline_alarm_changes(conn: Connection, *, now: datetime, silent_for: timedelta, alarm_type: str) -> list[
    PresenceChange
]:  # fmt: skip
    """Units silent past `silent_for` without an active `alarm_type` alarm, and units with one that are back.

    Units never heard from (not yet connected) raise nothing; a decommissioned unit's alarm clears.
    """
    rows = conn.execute(
        "SELECT u.id AS unit_id, u.last_seen, u.last_seen < %(cutoff)s AND u.status <> 'decommissioned' AS silent,"
        " u.status = 'decommissioned' AS decommissioned FROM units u LEFT JOIN alarms a"
        "   ON a.unit_id = u.id AND a.alarm_type = %(type)s AND a.state <> 'cleared'"
        " WHERE u.last_seen IS NOT NULL AND ("
        "   (a.id IS NULL AND u.last_seen < %(cutoff)s AND u.status <> 'decommissioned')"
        "   OR (a.id IS NOT NULL AND (u.last_seen >= %(cutoff)s OR u.status = 'decommissioned')))"
        " ORDER BY u.id",
        {"cutoff": now - silent_for, "type": alarm_type},
    ).fetchall()
    return [PresenceChange(**row) for row in rows]  # type: ignore[arg-type]
