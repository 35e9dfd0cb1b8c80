"""Alarm jobs: controller events -> alarms by the rules in `alarm_policies.json`, and units gone offline.

`run_event_rules` reads new events by a receive-time cursor twice a second (an event committed by ingest
is an open alarm within about a second), applies each unit's events in device-time order to an in-memory
`AlarmBatch` over a batch of units (one savepoint, a handful of statements however many events), and records
them as applied, so a re-run or an overlapping re-read changes nothing.
`run_offline` raises an alarm for each unit silent past its expected interval and clears it when the unit
is heard from again.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime, timedelta

from brain.units import for_each_batch, for_each_unit
from models.db import Connection
from models.monitoring.alarm_batch import AlarmBatch, AlarmKey, service_matters
from models.monitoring.alarm_policies import CLEARED_BY, POLICIES, Severity
from models.monitoring.alarm_sources import (
    RuleEvent,
    advance_cursor,
    first_events_after,
    mark_applied,
    offline_alarm_changes,
    pending_events,
    service_states,
)
from models.monitoring.alarms import clear_alarms, raise_alarm
from models.telemetry.contract import EVENT_CATALOGUE

__all__ = [
    "BATCH_UNITS",
    "CURSOR",
    "OFFLINE_ALARM",
    "OFFLINE_SEVERITY",
    "apply_events",
    "run_event_rules",
    "run_offline",
]

log = logging.getLogger(__name__)

CURSOR = "event_rules"
RULES_SOURCE = "event_rules"
OFFLINE_ALARM = "offline"
# Units whose events are applied together (one savepoint, a handful of statements). A failed batch is redone
# unit by unit, so a bad unit costs its batch's units a retry: large enough to amortise the round trips,
# small enough that the retry stays cheap.
BATCH_UNITS = 500
# A silent unit may be a dead gateway or a dead lift: worth a visit, not an emergency by itself (an
# entrapment or a safety fault raises its own critical alarm when the unit reports it).
OFFLINE_SEVERITY = Severity.MAJOR


def _evidence(event: RuleEvent) -> dict[str, object]:
    return {"code": event.code, "gb_code": event.gb_code, "floor": event.floor, "time": event.time.isoformat(),
            "received_at": event.received_at.isoformat(), "details": event.details}  # fmt: skip


def _keys(event: RuleEvent) -> list[AlarmKey]:
    """The alarms an event may clear or raise."""
    keys: list[AlarmKey] = [(event.unit_id, t, POLICIES[t].component) for t in CLEARED_BY[event.code]]
    if POLICIES[event.code].severity is not None:
        keys.append((event.unit_id, event.code, POLICIES[event.code].component))
    return keys


def _apply(batch: AlarmBatch, event: RuleEvent, servicing: str | None, ended: datetime | None) -> None:
    """Clear what the event ends, then raise what it reports (cleared at once if its end already arrived)."""
    for alarm_type in CLEARED_BY[event.code]:
        batch.clear((event.unit_id, alarm_type, POLICIES[alarm_type].component),
                    reason=f"{event.code} at {event.time.isoformat()}", at=event.time)  # fmt: skip
    policy = POLICIES[event.code]
    if policy.severity is None:
        return
    floor = "" if event.floor is None else f" at floor {event.floor}"
    key = (event.unit_id, event.code, policy.component)
    batch.raise_(key, severity=policy.severity, source=RULES_SOURCE, servicing=servicing,
                 reason=f"{EVENT_CATALOGUE[event.code].description}{floor}", evidence=_evidence(event),
                 at=event.time)  # fmt: skip
    if ended is not None:
        # The clearing event arrived before this one (out of order): the condition is already over.
        batch.clear(key, reason=f"ended by an event at {ended.isoformat()}", at=ended)


def apply_events(conn: Connection, events: Sequence[RuleEvent]) -> None:
    """Apply events (in device-time order per unit) to the alarms with a handful of statements for all of them."""
    batch = AlarmBatch.lock(conn, [key for event in events for key in _keys(event)])
    raising = [(e, severity) for e in events if (severity := POLICIES[e.code].severity) is not None]
    servicing = service_states(conn, probes=[(e.unit_id, e.time) for e, severity in raising
                                             if service_matters(e.code, severity)])  # fmt: skip
    ends = first_events_after(conn, probes=[(e.unit_id, code, e.time) for e, _ in raising
                                            for code in POLICIES[e.code].cleared_by])  # fmt: skip
    for event in events:
        found = [t for code in POLICIES[event.code].cleared_by if (t := ends.get((event.unit_id, code, event.time)))]
        _apply(batch, event, servicing.get((event.unit_id, event.time)), min(found, default=None))
    batch.write(conn)


def run_event_rules(conn: Connection, *, now: datetime) -> None:
    """Apply the event rules to every event received since the last pass (`now` is unused: events carry times)."""
    events = pending_events(conn, cursor=CURSOR)
    if not events:
        return
    by_unit: defaultdict[str, list[RuleEvent]] = defaultdict(list)
    for event in events:
        by_unit[event.unit_id].append(event)

    def apply_batch(conn: Connection, unit_ids: list[str]) -> None:
        ordered = [e for unit_id in unit_ids for e in sorted(by_unit[unit_id], key=lambda e: (e.time, e.code))]
        mark_applied(conn, ordered)
        apply_events(conn, ordered)

    outcome = for_each_batch(conn, sorted(by_unit), apply_batch, job="alarm_event_rules", size=BATCH_UNITS)
    advance_cursor(conn, cursor=CURSOR, to=max(e.received_at for e in events))
    log.info("event rules applied %d event(s) of %d unit(s); %d unit(s) failed (retried while in the overlap)",
             len(events), len(outcome.done), len(outcome.failed))  # fmt: skip


def run_offline(conn: Connection, *, now: datetime, silent_for: timedelta) -> None:
    """Raise an offline alarm for units silent longer than `silent_for`; clear it for units heard from again."""
    changes = offline_alarm_changes(conn, now=now, silent_for=silent_for, alarm_type=OFFLINE_ALARM)
    silent = {c.unit_id: c for c in changes}

    def apply_unit(conn: Connection, unit_id: str) -> None:
        change = silent[unit_id]
        if change.silent:
            raise_alarm(conn, unit_id=unit_id, alarm_type=OFFLINE_ALARM, severity=OFFLINE_SEVERITY,
                        component_type=None, source="presence",
                        reason=f"no data or status for more than {silent_for}",
                        evidence={"last_seen": change.last_seen.isoformat()}, at=now)  # fmt: skip
        else:
            back = f"heard from again at {change.last_seen.isoformat()}"
            clear_alarms(conn, unit_id=unit_id, alarm_type=OFFLINE_ALARM, component_type=None,
                         reason="unit decommissioned" if change.decommissioned else back, at=now)  # fmt: skip

    if changes:
        outcome = for_each_unit(conn, sorted(silent), apply_unit, job="alarm_offline")
        log.info("offline alarms: %d change(s), %d failed", len(outcome.done), len(outcome.failed))
