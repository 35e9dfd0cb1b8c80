"""The alarm -> work order loop: an active critical or major alarm gets exactly one work order, with the
urgency its kind calls for, however often the job runs; minor and suppressed alarms send nobody."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from brain.jobs import alarm_orders
from models.db import Connection
from models.monitoring.alarm_policies import Severity
from models.monitoring.alarms import raise_alarm
from tests.support.fleet import Fleet

T0 = datetime.now(UTC).replace(microsecond=0)


def _raise(conn: Connection, unit: str, alarm_type: str, severity: Severity, component: str | None = None) -> str:
    alarm = raise_alarm(
        conn, unit_id=unit, alarm_type=alarm_type, severity=severity, component_type=component, source="test",
        reason="seen", evidence={"feature": "door_close_s", "deviation": 7.5}, at=T0,
    )  # fmt: skip
    return str(alarm.id)


def _orders(conn: Connection) -> list[dict[str, object]]:
    return conn.execute(
        "SELECT source_ref, unit_id, kind, urgency, maintainer_id IS NOT NULL AS dispatched, due_at - created_at"
        " AS within, evidence->>'suspected_component' AS component FROM work_orders WHERE source = 'alarm'"
        " ORDER BY urgency"
    ).fetchall()


def test_each_critical_and_major_alarm_gets_one_work_order(conn: Connection, fleet: Fleet) -> None:
    trapped = _raise(conn, fleet.unit_a1, "entrapment", Severity.CRITICAL)
    worn = _raise(conn, fleet.unit_b1, "degradation", Severity.MAJOR, component="door_rollers")
    _raise(conn, fleet.unit_a1, "degradation", Severity.MINOR, component="brake")
    for _ in range(3):
        alarm_orders.run(conn, now=T0)
    orders = _orders(conn)
    assert [(o["source_ref"], o["unit_id"], o["kind"], o["urgency"], o["component"]) for o in orders] == [
        (trapped, fleet.unit_a1, "corrective", "entrapment", None),
        (worn, fleet.unit_b1, "corrective", "fault", "door_rollers"),
    ]
    assert all(o["dispatched"] for o in orders)
    within = orders[0]["within"]
    assert isinstance(within, timedelta)
    assert within <= timedelta(minutes=30)
