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
from models.monitoring.alarm_batch import AlarmBatch, RaisedConcurrently, service_matters
from models.monitoring.alarm_policies import Severity
from models.monitoring.alarm_sources import service_states
from models.queries import Page, PageParams, fetch_one, fetch_page

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
    return service_states(conn, probes=[(unit_id, at)]).get((unit_id, at))


def raise_alarm(
    conn: Connection, *, unit_id: str, alarm_type: str, severity: Severity, component_type: str | None, source: str,
    reason: str, evidence: dict[str, object], at: datetime,
) -> Alarm:  # fmt: skip
    """Open the unit's alarm of this type (and component), or count a repeat on the one already active."""
    servicing = service_state(conn, unit_id=unit_id, at=at) if service_matters(alarm_type, severity) else None
    key = (unit_id, alarm_type, component_type)
    for attempt in range(1, RAISE_ATTEMPTS + 1):
        batch = AlarmBatch.lock(conn, [key])
        alarm_id = batch.raise_(key, severity=severity, source=source, reason=reason, evidence=dict(evidence),
                                at=at, servicing=servicing)  # fmt: skip
        try:
            batch.write(conn)
        except RaisedConcurrently:
            if attempt == RAISE_ATTEMPTS:
                raise
            continue
        return get_alarm(conn, tenant=TenantScope.internal(), alarm_id=alarm_id)
    raise AssertionError("unreachable: the last attempt returns or raises")


def clear_alarms(
    conn: Connection, *, unit_id: str, alarm_type: str, component_type: str | None, reason: str, at: datetime
) -> int:
    """Clear the unit's active alarm of this type (and component) unless it was seen after `at`; how many cleared."""
    key = (unit_id, alarm_type, component_type)
    batch = AlarmBatch.lock(conn, [key])
    cleared = batch.clear(key, reason=reason, at=at)
    batch.write(conn)
    return cleared


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
    """Active, unsuppressed alarms of these severities that no work order answers yet, oldest first, at most `limit`.

    An alarm whose unit, type and component already has an unfinished (or unverified) alarm order waits on it."""
    query = sql.SQL(
        "SELECT {} FROM alarms a WHERE a.state <> 'cleared' AND NOT a.suppressed AND a.severity = ANY(%(severities)s)"
        " AND NOT EXISTS (SELECT 1 FROM work_orders w WHERE w.source = 'alarm' AND w.source_ref = a.id::text)"
        # The same fault raised again while its earlier order is unfinished (or awaiting verification) is that
        # order's business: verification reopens it instead of a second crew being sent.
        " AND NOT EXISTS (SELECT 1 FROM work_orders w JOIN alarms p ON p.id::text = w.source_ref"
        "   WHERE w.source = 'alarm' AND w.unit_id = a.unit_id"
        "   AND w.status IN ('open', 'assigned', 'in_progress', 'done')"
        "   AND p.alarm_type = a.alarm_type AND coalesce(p.component_type, '') = coalesce(a.component_type, ''))"
        " AND {} ORDER BY a.first_seen, a.id LIMIT %(limit)s"
    ).format(ALARM_COLUMNS, tenant.units_predicate("a.unit_id"))
    params = {"severities": [str(severity) for severity in severities], "limit": limit}
    return [Alarm.model_validate(row) for row in conn.execute(query, params).fetchall()]
