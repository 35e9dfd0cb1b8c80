"""Condition-based work: the alarms that call for a crew, each answered by exactly one work order.

An active, unsuppressed critical or major alarm without a work order gets one (source `alarm`, the alarm's id as
`source_ref`), with the urgency its kind calls for: an entrapment is a rescue (30 min), a critical alarm a
critical fault (4 h), a major one a fault (24 h). The unique (source, source_ref) index makes a second pass,
or a second brain replica, open nothing twice; an alarm of a unit, type and component whose earlier order is
still unfinished or awaiting verification gets none either (models.work.verification reopens that one).
"""

from __future__ import annotations

from datetime import datetime

from models.access.tenancy import TenantScope
from models.db import Connection
from models.monitoring.alarms import Severity, alarms_awaiting_work_order
from models.work.orders import NewOrder, Source, Urgency, open_work_orders
from models.work.work_orders import WorkOrderKind

__all__ = ["open_orders_for_alarms"]

# Alarms below major (minor, warning) wait for the next visit: a crew is not sent for them.
CALLS_FOR_A_CREW = (Severity.CRITICAL, Severity.MAJOR)
# A pass opens at most this many orders; a backlog (a fleet-wide power cut) drains over a few passes.
MAX_PER_PASS = 500


def _urgency(alarm_type: str, severity: Severity) -> Urgency:
    if alarm_type == "entrapment":
        return Urgency.ENTRAPMENT
    return Urgency.CRITICAL if severity is Severity.CRITICAL else Urgency.FAULT


def open_orders_for_alarms(conn: Connection, *, now: datetime) -> int:
    """Open (and dispatch) the work orders that active critical and major alarms still lack; how many opened."""
    alarms = alarms_awaiting_work_order(
        conn, tenant=TenantScope.internal(), severities=CALLS_FOR_A_CREW, limit=MAX_PER_PASS
    )
    orders = [
        NewOrder(
            unit_id=alarm.unit_id,
            source=Source.ALARM,
            source_ref=str(alarm.id),
            kind=WorkOrderKind.CORRECTIVE,
            urgency=_urgency(alarm.alarm_type, alarm.severity),
            title=f"{alarm.alarm_type}: {alarm.component_type or 'unit'}"[:200],
            evidence={
                "alarm_id": str(alarm.id),
                "alarm_type": alarm.alarm_type,
                "severity": str(alarm.severity),
                "suspected_component": alarm.component_type,
                "reason": alarm.reason,
                "evidence": alarm.evidence,
            },
        )
        for alarm in alarms
    ]
    return len(open_work_orders(conn, orders=orders, now=now)) if orders else 0
