"""Alarm changes worked out in memory against the locked active alarms, then written in three statements.

Raising and clearing one alarm at a time costs several round trips per event, so a backlog (a fleet-wide
power cut: thousands of units reporting at once) drained at ~100-200 events/s. An `AlarmBatch` locks the
active alarms of every key a pass touches in one query, applies the raises and clears in order in memory, and
writes new alarms, changed alarms and history rows in one statement each. The semantics are those of one
alarm at a time: a repeat counts on the active alarm, severity only escalates, suppression lifts when the
alarm is raised again outside service, a clear older than the last occurrence leaves the alarm open, and a
cleared alarm is never reopened (the next occurrence opens a new one).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID, uuid4

from psycopg.types.json import Jsonb

from models.db import Connection
from models.errors import Conflict
from models.monitoring.alarm_policies import POLICIES, DuringService, Severity

__all__ = ["DEFAULT_DURING_SERVICE", "AlarmBatch", "AlarmKey", "RaisedConcurrently", "service_matters"]

# Alarm types that are not event codes (offline, degradation...) are downgraded during service by default.
DEFAULT_DURING_SERVICE = DuringService.DOWNGRADE

AlarmKey = tuple[str, str, str | None]
"""What identifies an active alarm: unit, alarm type, component type (or None)."""


class RaisedConcurrently(Conflict):
    """Another transaction opened one of the batch's new alarms first; locking again finds it."""


def _during_service(alarm_type: str) -> DuringService:
    policy = POLICIES.get(alarm_type)
    return policy.during_service if policy is not None else DEFAULT_DURING_SERVICE


def service_matters(alarm_type: str, severity: Severity) -> bool:
    """Whether inspection mode or a work order changes this alarm (critical alarms and 'keep' policies never)."""
    return severity is not Severity.CRITICAL and _during_service(alarm_type) is not DuringService.KEEP


@dataclass
class _Alarm:
    """One alarm as the batch will leave it."""

    id: UUID
    key: AlarmKey
    severity: Severity
    suppressed: bool
    count: int
    first_seen: datetime
    last_seen: datetime
    version: int
    new: bool
    source: str = ""
    reason: str = ""
    evidence: dict[str, Any] | None = None
    cleared_at: datetime | None = None


_LOCK_ACTIVE = (
    "SELECT a.id, a.unit_id, a.alarm_type, a.component_type, a.severity, a.suppressed, a.count, a.first_seen,"
    " a.last_seen, a.version FROM alarms a"
    " JOIN unnest(%(units)b::text[], %(types)b::text[], %(components)b::text[]) AS k(unit_id, alarm_type, component)"
    "   ON a.unit_id = k.unit_id AND a.alarm_type = k.alarm_type"
    "   AND coalesce(a.component_type, '') = coalesce(k.component, '')"
    " WHERE a.state <> 'cleared' ORDER BY a.id FOR UPDATE OF a"
)
_INSERT_NEW = (
    "INSERT INTO alarms (id, unit_id, alarm_type, component_type, severity, suppressed, source, reason, evidence,"
    " count, first_seen, last_seen, version, state, cleared_at, cleared_by)"
    " SELECT n.id, n.unit_id, n.alarm_type, n.component_type, n.severity, n.suppressed, n.source, n.reason,"
    "   n.evidence, n.count, n.first_seen, n.last_seen, n.version,"
    "   CASE WHEN n.cleared_at IS NULL THEN 'open' ELSE 'cleared' END,"
    "   n.cleared_at, CASE WHEN n.cleared_at IS NOT NULL THEN 'brain' END"
    " FROM unnest(%(id)b::uuid[], %(unit)b::text[], %(type)b::text[], %(component)b::text[], %(severity)b::text[],"
    "   %(suppressed)b::boolean[], %(source)b::text[], %(reason)b::text[], %(evidence)b::jsonb[],"
    "   %(count)b::integer[], %(first)b::timestamptz[], %(last)b::timestamptz[], %(version)b::integer[],"
    "   %(cleared_at)b::timestamptz[]) AS n(id, unit_id, alarm_type, component_type, severity, suppressed, source,"
    "   reason, evidence, count, first_seen, last_seen, version, cleared_at)"
    " ON CONFLICT DO NOTHING RETURNING id"
)
_UPDATE_CHANGED = (
    "UPDATE alarms a SET severity = v.v_severity, suppressed = v.v_suppressed, count = v.v_count,"
    " first_seen = v.v_first, last_seen = v.v_last, version = v.v_version, updated_at = clock_timestamp(),"
    " state = CASE WHEN v.v_cleared_at IS NULL THEN a.state ELSE 'cleared' END,"
    " cleared_at = coalesce(v.v_cleared_at, a.cleared_at),"
    " cleared_by = CASE WHEN v.v_cleared_at IS NULL THEN a.cleared_by ELSE 'brain' END"
    " FROM unnest(%(id)b::uuid[], %(severity)b::text[], %(suppressed)b::boolean[], %(count)b::integer[],"
    "   %(first)b::timestamptz[], %(last)b::timestamptz[], %(version)b::integer[], %(cleared_at)b::timestamptz[])"
    "   AS v(v_id, v_severity, v_suppressed, v_count, v_first, v_last, v_version, v_cleared_at)"
    " WHERE a.id = v.v_id"
)
_COPY_HISTORY = "COPY alarm_history (alarm_id, at, actor, action, reason, data) FROM STDIN (FORMAT BINARY)"
_HISTORY_TYPES = ("uuid", "timestamptz", "text", "text", "text", "jsonb")


class AlarmBatch:
    """Raises and clears of many alarms against their locked current state, written by `write`."""

    def __init__(self, active: Iterable[_Alarm]) -> None:
        self._active: dict[AlarmKey, _Alarm] = {alarm.key: alarm for alarm in active}
        self._changed: dict[UUID, _Alarm] = {}
        self._history: list[tuple[UUID, datetime, str, str, str | None, Jsonb]] = []

    @classmethod
    def lock(cls, conn: Connection, keys: Iterable[AlarmKey]) -> AlarmBatch:
        """Lock the active alarms of these keys (one query) and start a batch over them."""
        wanted = sorted(set(keys), key=lambda k: (k[0], k[1], k[2] or ""))
        rows = conn.execute(
            _LOCK_ACTIVE,
            {"units": [k[0] for k in wanted], "types": [k[1] for k in wanted], "components": [k[2] for k in wanted]},
            binary=True,
        ).fetchall()
        return cls(
            _Alarm(id=r["id"], key=(r["unit_id"], r["alarm_type"], r["component_type"]),  # type: ignore[arg-type]
                   severity=Severity(r["severity"]), suppressed=r["suppressed"], count=r["count"],  # type: ignore[arg-type]
                   first_seen=r["first_seen"], last_seen=r["last_seen"], version=r["version"], new=False)  # type: ignore[arg-type]
            for r in rows
        )  # fmt: skip

    def active_id(self, key: AlarmKey) -> UUID | None:
        """The id of the key's active alarm as the batch stands, or None."""
        alarm = self._active.get(key)
        return None if alarm is None else alarm.id

    def _note(self, alarm: _Alarm, at: datetime, actor: str, action: str, reason: str | None,
              data: dict[str, Any] | None = None) -> None:  # fmt: skip
        self._history.append((alarm.id, at, actor, action, reason, Jsonb(data or {})))

    def raise_(
        self, key: AlarmKey, *, severity: Severity, source: str, reason: str, evidence: dict[str, Any],
        at: datetime, servicing: str | None,
    ) -> UUID:  # fmt: skip
        """Open the key's alarm, or count a repeat on the active one; `servicing` says why the unit is in service."""
        treatment = _during_service(key[1]) if servicing is not None and service_matters(key[1], severity) else None
        effective = severity.downgraded() if treatment is DuringService.DOWNGRADE else severity
        suppressed = treatment is DuringService.SUPPRESS
        actor = f"brain:{source}"
        alarm = self._active.get(key)
        if alarm is None:
            alarm = _Alarm(id=uuid4(), key=key, severity=effective, suppressed=suppressed, count=1,
                           first_seen=at, last_seen=at, version=1, new=True, source=source, reason=reason,
                           evidence=evidence)  # fmt: skip
            self._active[key] = self._changed[alarm.id] = alarm
            self._note(alarm, at, actor, "opened", reason, {"severity": str(severity), "evidence": evidence})
            if treatment is not None:
                self._note(alarm, at, actor, "suppressed" if suppressed else "downgraded", servicing,
                           {"from": str(severity), "to": str(effective)})  # fmt: skip
            return alarm.id
        before = alarm.severity
        escalate = effective.rank > before.rank
        active_again = alarm.suppressed and not suppressed
        alarm.count += 1
        alarm.first_seen, alarm.last_seen = min(alarm.first_seen, at), max(alarm.last_seen, at)
        alarm.severity = effective if escalate else before
        alarm.suppressed = alarm.suppressed and suppressed
        alarm.version += 1
        self._changed[alarm.id] = alarm
        note = reason if servicing is None or treatment is None else f"{reason} ({servicing})"
        self._note(alarm, at, actor, "repeated", note, {"count": alarm.count, "evidence": evidence})
        if escalate or active_again:
            why = "raised again while the unit is not being serviced" if active_again else reason
            self._note(alarm, at, actor, "escalated", why, {"from": str(before), "to": str(alarm.severity)})
        return alarm.id

    def clear(self, key: AlarmKey, *, reason: str, at: datetime) -> int:
        """Clear the key's active alarm unless it was seen after `at`; how many cleared (0 or 1)."""
        alarm = self._active.get(key)
        if alarm is None or alarm.last_seen > at:
            return 0
        del self._active[key]
        alarm.cleared_at = at
        alarm.version += 1
        self._changed[alarm.id] = alarm
        self._note(alarm, at, "brain", "cleared", reason)
        return 1

    def write(self, conn: Connection) -> None:
        """Update the changed alarms, insert the new ones and append the history: one statement each.

        Updates go first: an alarm cleared in this batch must leave the active index before its successor
        (raised later in the batch) enters it.
        """
        new = [a for a in self._changed.values() if a.new]
        old = [a for a in self._changed.values() if not a.new]
        if old:
            conn.execute(_UPDATE_CHANGED, {
                "id": [a.id for a in old], "severity": [str(a.severity) for a in old],
                "suppressed": [a.suppressed for a in old], "count": [a.count for a in old],
                "first": [a.first_seen for a in old], "last": [a.last_seen for a in old],
                "version": [a.version for a in old], "cleared_at": [a.cleared_at for a in old],
            }, binary=True)  # fmt: skip
        if new:
            inserted = conn.execute(_INSERT_NEW, {
                "id": [a.id for a in new], "unit": [a.key[0] for a in new], "type": [a.key[1] for a in new],
                "component": [a.key[2] for a in new], "severity": [str(a.severity) for a in new],
                "suppressed": [a.suppressed for a in new], "source": [a.source for a in new],
                "reason": [a.reason for a in new], "evidence": [Jsonb(a.evidence or {}) for a in new],
                "count": [a.count for a in new], "first": [a.first_seen for a in new],
                "last": [a.last_seen for a in new], "version": [a.version for a in new],
                "cleared_at": [a.cleared_at for a in new],
            }, binary=True).fetchall()  # fmt: skip
            if len(inserted) < len(new):
                raise RaisedConcurrently("an alarm of this batch is being raised concurrently; try again")
        if self._history:
            with conn.cursor() as cur, cur.copy(_COPY_HISTORY) as copy:
                copy.set_types(_HISTORY_TYPES)
                for row in self._history:
                    copy.write_row(row)
        self._changed.clear()
        self._history.clear()
