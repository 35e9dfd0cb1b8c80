"""Alarms: one active alarm per unit + type (+ component), open -> acknowledged -> cleared, with full history.

The brain raises and clears alarms (`raise_alarm`, `clear_alarms`); people acknowledge, assign, comment
and clear them (`models.monitoring.alarm_actions`). Every change appends a row to `alarm_history`: who,
when, what and why. Inspection mode or a work order in progress on the unit suppresses or downgrades an
alarm as its policy says (critical alarms never), and the history says so.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from enum import StrEnum
from typing import Any
from uuid import UUID

from psycopg import sql
from psycopg.types.json import Jsonb
from pydantic import BaseModel

from models.access.tenancy import TenantScope
from models.db import Connection
from models.errors import Conflict
from models.monitoring.alarm_policies import POLICIES, SERVICE_CODES, DuringService, Severity
from models.queries import Page, PageParams, fetch_one, fetch_page
from models.sqlerrors import translate_errors

__all__ = [
    "ALARM_COLUMNS",
    "Alarm",
    "AlarmChange",
    "AlarmDetail",
    "AlarmState",
    "Severity",
    "alarm_history",
    "alarms_awaiting_work_order",
    "clear_alarms",
    "get_alarm",
    "list_alarms",
    "raise_alarm",
    "record_change",
    "service_state",
]

ALARM_COLUMNS = sql.SQL(
    "id, unit_id, alarm_type, component_type, severity, state, suppressed, source, reason, evidence, count,"
    " first_seen, last_seen, assignee_crew_id, acknowledged_at, acknowledged_by, cleared_at, cleared_by, version,"
    " created_at, updated_at"
)
_HISTORY_COLUMNS = sql.SQL("id, alarm_id, at, actor, action, reason, data")
# Alarm types that are not event codes (offline, degradation...) are downgraded during service by default.
DEFAULT_DURING_SERVICE = DuringService.DOWNGRADE
# One concurrent raiser can open the alarm between our look and our insert; a second look then finds it.
RAISE_ATTEMPTS = 2


class AlarmState(StrEnum):
    """Where an alarm is: open -> acknowledged -> cleared (or open -> cleared)."""

    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"
    CLEARED = "cleared"


class Alarm(BaseModel):
    """A stored alarm."""

    id: UUID
    unit_id: str
    alarm_type: str
    component_type: str | None
    severity: Severity
    state: AlarmState
    suppressed: bool
    source: str
    reason: str
    evidence: dict[str, Any]
    count: int
    first_seen: datetime
    last_seen: datetime
    assignee_crew_id: UUID | None
    acknowledged_at: datetime | None
    acknowledged_by: str | None
    cleared_at: datetime | None
    cleared_by: str | None
    version: int
    created_at: datetime
    updated_at: datetime


class AlarmChange(BaseModel):
    """One history row of an alarm: who did what, when and why."""

    id: int
    alarm_id: UUID
    at: datetime
    actor: str
    action: str
    reason: str | None
    data: dict[str, Any]


class AlarmDetail(BaseModel):
    """An alarm with a page of its history, oldest first."""

    alarm: Alarm
    history: Page[AlarmChange]


def record_change(
    conn: Connection, *, alarm_id: UUID, at: datetime, actor: str, action: str, reason: str | None,
    data: dict[str, Any] | None = None,
) -> None:  # fmt: skip
    """Append one row to the alarm's history."""
    conn.execute(
        "INSERT INTO alarm_history (alarm_id, at, actor, action, reason, data) VALUES (%s, %s, %s, %s, %s, %s)",
        (alarm_id, at, actor, action, reason, Jsonb(data or {})),
    )


def service_state(conn: Connection, *, unit_id: str, at: datetime) -> str | None:
    """Why the unit is being serviced at `at` (inspection mode, a work order in progress), or None."""
    # One round trip: the unit's last inspection event up to `at`, and a work order in progress (work orders
    # keep no status history, so their current state stands for `at`).
    row = conn.execute(
        "SELECT m.code, m.time, (SELECT w.id FROM work_orders w WHERE w.unit_id = %(u)s AND w.status = 'in_progress'"
        "   ORDER BY w.created_at LIMIT 1) AS work_order"
        " FROM (SELECT 1) AS one LEFT JOIN LATERAL (SELECT code, time FROM events WHERE unit_id = %(u)s"
        "   AND code = ANY(%(codes)s) AND time <= %(at)s ORDER BY time DESC LIMIT 1) AS m ON true",
        {"u": unit_id, "codes": list(SERVICE_CODES), "at": at},
    ).fetchone()
    assert row is not None
    if row["code"] is not None and SERVICE_CODES[str(row["code"])] == "enter":
        return f"unit in inspection mode since {row['time']}"
    return None if row["work_order"] is None else f"work order {row['work_order']} in progress"


def _treatment(conn: Connection, unit_id: str, alarm_type: str, severity: Severity, at: datetime) -> tuple[
    DuringService, str | None
]:  # fmt: skip
    policy = POLICIES.get(alarm_type)
    treatment = policy.during_service if policy is not None else DEFAULT_DURING_SERVICE
    if severity is Severity.CRITICAL or treatment is DuringService.KEEP:
        return DuringService.KEEP, None
    why = service_state(conn, unit_id=unit_id, at=at)
    return (treatment, why) if why is not None else (DuringService.KEEP, None)


def _active(conn: Connection, unit_id: str, alarm_type: str, component_type: str | None) -> Alarm | None:
    row = conn.execute(
        sql.SQL(
            "SELECT {} FROM alarms WHERE unit_id = %s AND alarm_type = %s"
            " AND coalesce(component_type, '') = coalesce(%s, '') AND state <> 'cleared' FOR UPDATE"
        ).format(ALARM_COLUMNS),
        (unit_id, alarm_type, component_type),
    ).fetchone()
    return None if row is None else Alarm.model_validate(row)


def _bump(conn: Connection, alarm: Alarm, *, severity: Severity, suppressed: bool, actor: str, reason: str,
          evidence: dict[str, Any], at: datetime, why: str | None) -> Alarm:  # fmt: skip
    escalate = severity.rank > alarm.severity.rank
    active_again = alarm.suppressed and not suppressed
    row = conn.execute(
        sql.SQL("UPDATE alarms SET count = count + 1, first_seen = least(first_seen, %(at)s),"
        " last_seen = greatest(last_seen, %(at)s), severity = %(severity)s, suppressed = suppressed AND %(suppressed)s,"
        " version = version + 1, updated_at = clock_timestamp()"
        " WHERE id = %(id)s RETURNING {}").format(ALARM_COLUMNS),
        {"at": at, "id": alarm.id, "suppressed": suppressed,
         "severity": str(severity if escalate else alarm.severity)},
    ).fetchone()  # fmt: skip
    bumped = Alarm.model_validate(row)
    note = reason if why is None else f"{reason} ({why})"
    record_change(conn, alarm_id=alarm.id, at=at, actor=actor, action="repeated", reason=note,
                  data={"count": bumped.count, "evidence": evidence})  # fmt: skip
    if escalate or active_again:
        record_change(conn, alarm_id=alarm.id, at=at, actor=actor, action="escalated",
                      reason="raised again while the unit is not being serviced" if active_again else reason,
                      data={"from": str(alarm.severity), "to": str(bumped.severity)})  # fmt: skip
    return bumped


def raise_alarm(
    conn: Connection, *, unit_id: str, alarm_type: str, severity: Severity, component_type: str | None, source: str,
    reason: str, evidence: dict[str, object], at: datetime,
) -> Alarm:  # fmt: skip
    """Open the unit's alarm of this type (and component), or count a repeat on the one already active."""
    treatment, why = _treatment(conn, unit_id, alarm_type, severity, at)
    effective = severity.downgraded() if treatment is DuringService.DOWNGRADE else severity
    suppressed = treatment is DuringService.SUPPRESS
    actor = f"brain:{source}"
    for _ in range(RAISE_ATTEMPTS):
        current = _active(conn, unit_id, alarm_type, component_type)
        if current is not None:
            return _bump(conn, current, severity=effective, suppressed=suppressed, actor=actor, reason=reason,
                         evidence=dict(evidence), at=at, why=why)  # fmt: skip
        with translate_errors():
            row = conn.execute(
                sql.SQL("INSERT INTO alarms (unit_id, alarm_type, component_type, severity, suppressed, source, reason,"
                " evidence, first_seen, last_seen) VALUES (%(unit_id)s, %(alarm_type)s, %(component_type)s,"
                " %(severity)s, %(suppressed)s, %(source)s, %(reason)s, %(evidence)s, %(at)s, %(at)s)"
                " ON CONFLICT DO NOTHING RETURNING {}").format(ALARM_COLUMNS),
                {"unit_id": unit_id, "alarm_type": alarm_type, "component_type": component_type,
                 "severity": str(effective), "suppressed": suppressed, "source": source, "reason": reason,
                 "evidence": Jsonb(dict(evidence)), "at": at},
            ).fetchone()  # fmt: skip
        if row is None:
            continue
        alarm = Alarm.model_validate(row)
        record_change(conn, alarm_id=alarm.id, at=at, actor=actor, action="opened", reason=reason,
                      data={"severity": str(severity), "evidence": dict(evidence)})  # fmt: skip
        if treatment is not DuringService.KEEP:
            action = "suppressed" if suppressed else "downgraded"
            record_change(conn, alarm_id=alarm.id, at=at, actor=actor, action=action, reason=why,
                          data={"from": str(severity), "to": str(effective)})  # fmt: skip
        return alarm
    raise Conflict(f"alarm {alarm_type} of unit {unit_id} is being raised concurrently; try again")


def clear_alarms(
    conn: Connection, *, unit_id: str, alarm_type: str, component_type: str | None, reason: str, at: datetime
) -> int:
    """Clear the unit's active alarm of this type (and component) unless it was seen after `at`; how many cleared."""
    rows = conn.execute(
        "UPDATE alarms SET state = 'cleared', cleared_at = %(at)s, cleared_by = 'brain', version = version + 1,"
        " updated_at = clock_timestamp() WHERE unit_id = %(unit_id)s AND alarm_type = %(alarm_type)s"
        " AND coalesce(component_type, '') = coalesce(%(component_type)s, '') AND state <> 'cleared'"
        " AND last_seen <= %(at)s RETURNING id",
        {"at": at, "unit_id": unit_id, "alarm_type": alarm_type, "component_type": component_type},
    ).fetchall()
    for row in rows:
        record_change(conn, alarm_id=row["id"], at=at, actor="brain", action="cleared", reason=reason)  # type: ignore[arg-type]
    return len(rows)


def _visible(tenant: TenantScope) -> sql.Composable:
    return tenant.units_predicate("unit_id")


def get_alarm(conn: Connection, *, tenant: TenantScope, alarm_id: UUID, for_update: bool = False) -> Alarm:
    """One alarm of a unit the tenant may see, or NotFound."""
    lock = sql.SQL(" FOR UPDATE" if for_update else "")
    query = sql.SQL("SELECT {} FROM alarms WHERE id = %(id)s AND {}{}").format(ALARM_COLUMNS, _visible(tenant), lock)
    return fetch_one(conn, query, {"id": alarm_id}, model=Alarm, what="alarm")


def alarm_history(conn: Connection, *, tenant: TenantScope, alarm_id: UUID, page: PageParams) -> AlarmDetail:
    """An alarm the tenant may see with one page of its history, oldest first."""
    alarm = get_alarm(conn, tenant=tenant, alarm_id=alarm_id)
    query = sql.SQL("SELECT {} FROM alarm_history WHERE alarm_id = %(id)s ORDER BY id").format(_HISTORY_COLUMNS)
    history = fetch_page(conn, query, {"id": alarm_id}, model=AlarmChange, page=page)
    return AlarmDetail(alarm=alarm, history=history)


def list_alarms(
    conn: Connection, *, tenant: TenantScope, page: PageParams, state: AlarmState | None = None,
    severity: Severity | None = None, unit_id: str | None = None, alarm_type: str | None = None,
    since: datetime | None = None, suppressed: bool | None = None,
) -> Page[Alarm]:  # fmt: skip
    """Alarms of units the tenant may see, most recently seen first, filtered by any of the arguments."""
    query = sql.SQL(
        "SELECT {} FROM alarms WHERE {}"
        " AND (%(state)s::text IS NULL OR state = %(state)s)"
        " AND (%(severity)s::text IS NULL OR severity = %(severity)s)"
        " AND (%(unit_id)s::text IS NULL OR unit_id = %(unit_id)s)"
        " AND (%(alarm_type)s::text IS NULL OR alarm_type = %(alarm_type)s)"
        " AND (%(since)s::timestamptz IS NULL OR last_seen >= %(since)s)"
        " AND (%(suppressed)s::boolean IS NULL OR suppressed = %(suppressed)s)"
        " ORDER BY last_seen DESC, id"
    ).format(ALARM_COLUMNS, _visible(tenant))
    params = {"state": state, "severity": severity, "unit_id": unit_id, "alarm_type": alarm_type, "since": since,
              "suppressed": suppressed}  # fmt: skip
    return fetch_page(conn, query, params, model=Alarm, page=page)


def alarms_awaiting_work_order(
    conn: Connection, *, tenant: TenantScope, severities: Collection[Severity], limit: int
) -> list[Alarm]:
    """Active, unsuppressed alarms of these severities that no work order answers yet, oldest first, at most `limit`."""
    query = sql.SQL(
        "SELECT {} FROM alarms a WHERE a.state <> 'cleared' AND NOT a.suppressed AND a.severity = ANY(%(severities)s)"
        " AND NOT EXISTS (SELECT 1 FROM work_orders w WHERE w.source = 'alarm' AND w.source_ref = a.id::text)"
        " AND {} ORDER BY a.first_seen, a.id LIMIT %(limit)s"
    ).format(ALARM_COLUMNS, tenant.units_predicate("a.unit_id"))
    params = {"severities": [str(severity) for severity in severities], "limit": limit}
    return [Alarm.model_validate(row) for row in conn.execute(query, params).fetchall()]
