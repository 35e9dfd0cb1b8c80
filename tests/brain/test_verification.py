"""Verification from telemetry: a repaired fault that stays away is verified, one that comes back reopens its work
order with the evidence (and no second order is sent), a worn component must also be judged back at baseline."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import UUID

from brain.jobs import alarm_orders, verification
from brain.jobs.verification import BASELINE_HEALTH, JUDGED_AFTER
from models.access import api_keys
from models.access.tenancy import Role, TenantScope
from models.db import Connection
from models.monitoring.alarm_policies import Severity
from models.monitoring.alarms import clear_alarms, raise_alarm
from models.monitoring.health import HealthRow, record_health
from models.queries import PageParams
from models.work.completion import WorkCompletion, complete_work_order
from models.work.history import work_order_history
from tests.support.fleet import Fleet

T0 = datetime.now(UTC).replace(microsecond=0) - timedelta(days=20)
WINDOW = timedelta(days=3)
REPAIRED = T0 + timedelta(hours=2)


def _order_for(conn: Connection, fleet: Fleet, alarm_type: str, component: str | None) -> UUID:
    """Raise the alarm, let the loop open its order, and have the crew complete it at REPAIRED."""
    raise_alarm(
        conn,
        unit_id=fleet.unit_a1,
        alarm_type=alarm_type,
        severity=Severity.MAJOR,
        component_type=component,
        source="test",
        reason="seen",
        evidence={},
        at=T0,
    )
    alarm_orders.run(conn, now=T0)
    row = conn.execute(
        "SELECT id FROM work_orders WHERE source = 'alarm' AND unit_id = %s", (fleet.unit_a1,)
    ).fetchone()
    assert row is not None
    resolved = api_keys.resolve_key(conn, secret=fleet.keys[Role.CREW])
    assert resolved is not None
    completion = WorkCompletion(idempotency_key="k1", completed_at=REPAIRED, note="adjusted")
    order = UUID(str(row["id"]))
    complete_work_order(
        conn, tenant=resolved.tenant, work_order_id=order, completion=completion, actor="crew:a", now=REPAIRED
    )
    return order


def _status(conn: Connection, order: UUID) -> tuple[str, int]:
    row = conn.execute("SELECT status, reopened_count FROM work_orders WHERE id = %s", (order,)).fetchone()
    assert row is not None
    reopened = row["reopened_count"]
    assert isinstance(reopened, int)
    return str(row["status"]), reopened


def _pass(conn: Connection, at: datetime) -> verification.VerificationReport:
    return verification.verify_repairs(conn, now=at, window=WINDOW)


def test_a_fault_that_stays_away_is_verified_once(conn: Connection, fleet: Fleet) -> None:
    order = _order_for(conn, fleet, "door_close_fault", None)
    assert _pass(conn, REPAIRED + timedelta(days=1)).verified == 0
    assert _status(conn, order) == ("done", 0)
    report = _pass(conn, REPAIRED + WINDOW + timedelta(minutes=1))
    assert (report.verified, report.reopened) == (1, 0)
    assert _pass(conn, REPAIRED + WINDOW + timedelta(hours=1)).watched == 0
    assert _status(conn, order) == ("verified", 0)
    history = work_order_history(conn, tenant=TenantScope.internal(), work_order_id=order, page=PageParams()).items
    assert [h.action for h in history] == ["opened", "dispatched", "completed", "verified"]


def test_a_recurring_fault_reopens_its_order_and_sends_no_second_crew(conn: Connection, fleet: Fleet) -> None:
    order = _order_for(conn, fleet, "door_close_fault", None)
    back = REPAIRED + timedelta(days=1)
    clear_alarms(conn, unit_id=fleet.unit_a1, alarm_type="door_close_fault", component_type=None, reason="ok", at=T0)
    raise_alarm(
        conn,
        unit_id=fleet.unit_a1,
        alarm_type="door_close_fault",
        severity=Severity.MAJOR,
        component_type=None,
        source="test",
        reason="again",
        evidence={},
        at=back,
    )
    alarm_orders.run(conn, now=back)  # the new alarm belongs to the order awaiting verification
    report = _pass(conn, back + timedelta(minutes=10))
    assert (report.verified, report.reopened) == (0, 1)
    assert _status(conn, order) == ("in_progress", 1)
    assert _pass(conn, back + timedelta(minutes=20)).reopened == 0
    alarm_orders.run(conn, now=back + timedelta(minutes=20))
    count = conn.execute("SELECT count(*) AS n FROM work_orders WHERE source = 'alarm'").fetchone()
    assert count is not None
    assert count["n"] == 1
    reopened = work_order_history(conn, tenant=TenantScope.internal(), work_order_id=order, page=PageParams()).items[-1]
    assert (reopened.action, reopened.from_status, reopened.to_status) == ("reopened", "done", "in_progress")
    assert reopened.data["recurred"]["last_seen"] == back.isoformat()
    active = conn.execute(
        "SELECT count(*) AS n FROM alarms WHERE unit_id = %s AND alarm_type = 'door_close_fault'"
        " AND state <> 'cleared'",
        (fleet.unit_a1,),
    ).fetchone()
    assert active is not None
    assert active["n"] == 1


def test_a_worn_component_must_come_back_to_baseline(conn: Connection, fleet: Fleet) -> None:
    order = _order_for(conn, fleet, "degradation", "brake")
    # The detector still judges pre-repair days for a while: those sightings are not a recurrence.
    raise_alarm(
        conn,
        unit_id=fleet.unit_a1,
        alarm_type="degradation",
        severity=Severity.MAJOR,
        component_type="brake",
        source="test",
        reason="still worn",
        evidence={},
        at=REPAIRED + timedelta(days=1),
    )
    judged = REPAIRED + JUDGED_AFTER + timedelta(hours=1)
    assert (_pass(conn, judged).reopened, _status(conn, order)) == (0, ("done", 0))  # no health judgement yet
    record_health(
        conn, unit_id=fleet.unit_a1, at=judged, rows=[HealthRow("brake", BASELINE_HEALTH - 10, [])], model_id=None
    )
    assert _pass(conn, judged + timedelta(minutes=1)).verified == 0  # recovering, not back yet
    record_health(
        conn, unit_id=fleet.unit_a1, at=judged + timedelta(days=1), rows=[HealthRow("brake", 96.0, [])], model_id=None
    )
    assert _pass(conn, judged + timedelta(days=1, minutes=1)).verified == 1
    verified = conn.execute("SELECT verification FROM work_orders WHERE id = %s", (order,)).fetchone()
    assert verified is not None
    verification = verified["verification"]
    assert isinstance(verification, dict)
    assert verification["health"]["score"] == 96.0
