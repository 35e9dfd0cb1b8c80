"""Alarm jobs: controller events -> alarms by the rules in `alarm_policies.json`, and units gone offline.

`run_event_rules` reads new events by a receive-time cursor twice a second (an event committed by ingest
is an open alarm within about a second), applies each unit's events in device-time order inside the unit's
savepoint, and records them as applied, so a re-run or an overlapping re-read changes nothing.
`run_offline` raises an alarm for each unit silent past its expected interval and clears it when the unit
is heard from again.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from datetime import datetime, timedelta

from brain.units import for_each_unit
from models.db import Connection
from models.monitoring.alarm_policies import CLEARED_BY, POLICIES, Severity
from models.monitoring.alarm_sources import (
    RuleEvent,
    advance_cursor,
    first_event_after,
    mark_applied,
    offline_alarm_changes,
    pending_events,
)
from models.monitoring.alarms import clear_alarms, raise_alarm
from models.telemetry.contract import EVENT_CATALOGUE

__all__ = ["CURSOR", "OFFLINE_ALARM", "OFFLINE_SEVERITY", "run_event_rules", "run_offline"]

log = logging.getLogger(__name__)

CURSOR = "event_rules"
RULES_SOURCE = "event_rules"
OFFLINE_ALARM = "offline"
# A silent unit may be a dead gateway or a dead lift: worth a visit, not an emergency by itself (an
# entrapment or a safety fault raises its own critical alarm when the unit reports it).
OFFLINE_SEVERITY = Severity.MAJOR


def _evidence(event: RuleEvent) -> dict[str, object]:
    return {"code": event.code, "gb_code": event.gb_code, "floor": event.floor, "time": event.time.isoformat(),
            "received_at": event.received_at.isoformat(), "details": event.details}  # fmt: skip


def _apply(conn: Connection, event: RuleEvent) -> None:
    """Clear what the event ends, then raise what it reports (cleared at once if its end already arrived)."""
    for alarm_type in CLEARED_BY[event.code]:
        clear_alarms(conn, unit_id=event.unit_id, alarm_type=alarm_type, component_type=POLICIES[alarm_type].component,
                     reason=f"{event.code} at {event.time.isoformat()}", at=event.time)  # fmt: skip
    policy = POLICIES[event.code]
    if policy.severity is None:
        return
    floor = "" if event.floor is None else f" at floor {event.floor}"
    raise_alarm(conn, unit_id=event.unit_id, alarm_type=event.code, severity=policy.severity,
                component_type=policy.component, source=RULES_SOURCE,
                reason=f"{EVENT_CATALOGUE[event.code].description}{floor}", evidence=_evidence(event),
                at=event.time)  # fmt: skip
    if policy.auto_clear:
        # The clearing event arrived before this one (out of order): the condition is already over.
        ended = first_event_after(conn, unit_id=event.unit_id, codes=policy.cleared_by, after=event.time)
        if ended is not None:
            clear_alarms(conn, unit_id=event.unit_id, alarm_type=event.code, component_type=policy.component,
                         reason=f"ended by an event at {ended.isoformat()}", at=ended)  # fmt: skip


def run_event_rules(conn: Connection, *, now: datetime) -> None:
    """Apply the event rules to every event received since the last pass (`now` is unused: events carry times)."""
    events = pending_events(conn, cursor=CURSOR)
    if not events:
        return
    by_unit: defaultdict[str, list[RuleEvent]] = defaultdict(list)
    for event in events:
        by_unit[event.unit_id].append(event)

    def apply_unit(conn: Connection, unit_id: str) -> None:
        ordered = sorted(by_unit[unit_id], key=lambda e: (e.time, e.code))
        mark_applied(conn, ordered)
        for event in ordered:
            _apply(conn, event)

    outcome = for_each_unit(conn, sorted(by_unit), apply_unit, job="alarm_event_rules")
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
