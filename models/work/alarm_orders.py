"""Condition-based work: the alarms that call for a crew, each answered by exactly one work order.

An active, unsuppressed critical or major alarm without a work order gets one (source `alarm`, the alarm's id as
`source_ref`), with the urgency its kind calls for: an entrapment is a rescue (30 min), a critical alarm a
critical fault (4 h), a major one a fault (24 h). The unique (source, source_ref) index makes a second pass,
or a second brain replica, open nothing twice; an alarm of a unit, type and component whose earlier order is
still unfinished or awaiting verification gets none either (models.work.verification reopens that one).
"""

from __future__ import annotations

from datetime import datetime

from models.db import Connection
from models.work.orders import NewOrder, Source, Urgency, open_work_orders
from models.work.work_orders import WorkOrderKind

__all__ = ["open_orders_for_alarms"]

# Alarms below major (minor, warning) wait for the next visit: a crew is not sent for them.
CALLS_FOR_A_CREW = ("critical", "major")
# A pass opens at most this many orders; a backlog (a fleet-wide power cut) drains over a few passes.
MAX_PER_PASS = 500

_AWAITING = (
    "SELECT a.id, a.unit_id, a.alarm_type, a.component_type, a.severity, a.reason, a.evidence FROM alarms a"
    " WHERE a.state <> 'cleared' AND NOT a.suppressed AND a.severity = ANY(%(severities)s)"
    " AND NOT EXISTS (SELECT 1 FROM work_orders w WHERE w.source = 'alarm' AND w.source_ref = a.id::text)"
    # The same fault raised again while its earlier order is unfinished (or awaiting verification) is that
    # order's business: verification reopens it instead of a second crew being sent.
    " AND NOT EXISTS (SELECT 1 FROM work_orders w JOIN alarms p ON p.id::text = w.source_ref"
    "   WHERE w.source = 'alarm' AND w.unit_id = a.unit_id AND w.status IN ('open', 'assigned', 'in_progress', 'done')"
    "   AND p.alarm_type = a.alarm_type AND coalesce(p.component_type, '') = coalesce(a.component_type, ''))"
    " ORDER BY a.first_seen, a.id LIMIT %(limit)s"
)


def _urgency(alarm_type: str, severity: str) -> Urgency:
    if alarm_type == "entrapment":
        return Urgency.ENTRAPMENT
    return Urgency.CRITICAL if severity == "critical" else Urgency.FAULT


def open_orders_for_alarms(conn: Connection, *, now: datetime) -> int:
    """Open (and dispatch) the work orders that active critical and major alarms still lack; how many opened."""
    rows = conn.execute(_AWAITING, {"severities": list(CALLS_FOR_A_CREW), "limit": MAX_PER_PASS}).fetchall()
    orders = [
        NewOrder(
            unit_id=str(row["unit_id"]),
            source=Source.ALARM,
            source_ref=str(row["id"]),
            kind=WorkOrderKind.CORRECTIVE,
            urgency=_urgency(str(row["alarm_type"]), str(row["severity"])),
            title=f"{row['alarm_type']}: {row['component_type'] or 'unit'}"[:200],
            evidence={
                "alarm_id": str(row["id"]),
                "alarm_type": row["alarm_type"],
                "severity": row["severity"],
                "suspected_component": row["component_type"],
                "reason": row["reason"],
                "evidence": row["evidence"],
            },
        )
        for row in rows
    ]
    return len(open_work_orders(conn, orders=orders, now=now)) if orders else 0
