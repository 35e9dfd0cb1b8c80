"""The planning job: one visit and one work order per due visit however often it runs, on-demand intervals that
stretch and shrink with reasons, overrides, SLA breaches, dispatch by region and workload, decline and reassign."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from uuid import UUID

from brain.jobs.planning import plan
from brain.units import for_each_batch
from models.access import api_keys
from models.access.tenancy import Role, TenantScope
from models.db import Connection
from models.queries import PageParams
from models.work import crews
from models.work.dispatch import set_crew_region
from models.work.intervals import IntervalOverride, list_decisions, override_interval
from models.work.orders import Decline, Source, Urgency, decline_work_order, get_work_order_detail, open_work_order_for
from models.work.schedules import assign_plan, get_unit_plan
from models.work.work_orders import WorkOrderKind
from tests.support.fleet import Fleet
from tests.support.work import at, clean_visit

INTERNAL = TenantScope.internal()
START = date(2026, 1, 1)
CEILING = 60


def _planned(conn: Connection, *units: str) -> None:
    for unit_id in units:
        assign_plan(conn, tenant=INTERNAL, unit_id=unit_id, plan_code="tsg_t5002_traction", starts_on=START)


def _routine_days(conn: Connection, unit_id: str) -> tuple[int, date]:
    schedule = get_unit_plan(conn, tenant=INTERNAL, unit_id=unit_id).schedules[0]
    assert schedule.interval_code == "half_monthly"
    return schedule.interval_days, schedule.next_due_on


def _faults(conn: Connection, unit_id: str, *times: datetime) -> None:
    for t in times:
        conn.execute(
            "INSERT INTO events (unit_id, time, received_at, code, category) VALUES (%s, %s, %s, 'overspeed', 'fault')",
            (unit_id, t, t),
        )


def _with_record(conn: Connection, *units: str, seen: datetime) -> None:
    """Two clean visits each, and the devices reporting."""
    for unit_id in units:
        clean_visit(conn, unit_id=unit_id, day=date(2026, 1, 17))
        clean_visit(conn, unit_id=unit_id, day=date(2026, 2, 1))
        conn.execute("UPDATE units SET last_seen = %s, online = true WHERE id = %s", (seen, unit_id))


def _crew_scope(conn: Connection, fleet: Fleet, crew_id: UUID) -> TenantScope:
    _, secret = api_keys.create_api_key(conn, name=f"crew {crew_id}", role=Role.CREW,
                                        organization_id=fleet.ids["maint_org_a"], crew_id=crew_id)  # fmt: skip
    resolved = api_keys.resolve_key(conn, secret=secret)
    assert resolved is not None
    return resolved.tenant


def test_each_due_visit_gets_one_visit_and_one_work_order_however_often_the_job_runs(
    conn: Connection, fleet: Fleet
) -> None:
    _planned(conn, "A1", "B1")
    now = at(date(2026, 1, 14))  # the half-monthly visits are due on the 16th: within the lead time
    reports = [plan(conn, now=now + timedelta(minutes=10 * i), ceiling_days=CEILING) for i in range(3)]
    assert [r.visits_opened for r in reports] == [2, 0, 0]
    assert all(not r.failed_units for r in reports)
    rows = conn.execute(
        "SELECT w.unit_id, w.maintainer_id, count(*) AS n FROM maintenance_visits v"
        " JOIN work_orders w ON w.id = v.work_order_id AND w.source = 'plan' AND w.source_ref = v.id::text"
        " GROUP BY w.unit_id, w.maintainer_id ORDER BY w.unit_id"
    ).fetchall()
    assert [(r["unit_id"], r["maintainer_id"], r["n"]) for r in rows] == [
        ("A1", fleet.ids["maint_org_a"], 1), ("B1", fleet.ids["maint_org_b"], 1)
    ]  # fmt: skip
    assert plan(conn, now=at(date(2026, 1, 10)), ceiling_days=CEILING).visits_opened == 0


def test_a_healthy_monitored_unit_stretches_and_a_faulty_one_shrinks_with_reasons(
    conn: Connection, fleet: Fleet
) -> None:
    _planned(conn, "A1", "B1")
    now = at(date(2026, 2, 3))
    _with_record(conn, "A1", "B1", seen=now)
    _faults(conn, "B1", now - timedelta(days=10))
    report = plan(conn, now=now, ceiling_days=CEILING)
    assert report.intervals_changed == 2
    assert _routine_days(conn, "A1") == (CEILING, date(2026, 2, 1) + timedelta(days=CEILING))
    assert _routine_days(conn, "B1")[0] == (15 + CEILING) // 2
    stretched = list_decisions(conn, tenant=INTERNAL, unit_id="A1", page=PageParams()).items
    assert [(d.source, d.previous_days, d.interval_days) for d in stretched] == [("auto", 15, CEILING)]
    assert "no faults" in stretched[0].reasons[0]
    assert plan(conn, now=now + timedelta(minutes=10), ceiling_days=CEILING).intervals_changed == 0  # no churn

    later = now + timedelta(days=2)
    conn.execute("UPDATE units SET last_seen = %s WHERE id IN ('A1', 'B1')", (later,))
    _faults(conn, "A1", *(later - timedelta(hours=h) for h in (1, 2, 3)))
    plan(conn, now=later, ceiling_days=CEILING)
    assert _routine_days(conn, "A1") == (15, date(2026, 2, 16))
    shrunk = list_decisions(conn, tenant=INTERNAL, unit_id="A1", page=PageParams()).items[0]
    assert (shrunk.previous_days, shrunk.interval_days) == (CEILING, 15)
    assert shrunk.reasons == ["3 faults in the last 90 days"]


def test_an_override_holds_until_its_date_then_the_rules_decide_again(conn: Connection, fleet: Fleet) -> None:
    _planned(conn, "A1")
    now = at(date(2026, 2, 3))
    _with_record(conn, "A1", seen=now + timedelta(days=10))
    override = IntervalOverride(days=30, reason="owner asked for monthly visits", until=date(2026, 2, 10))
    decision = override_interval(conn, tenant=INTERNAL, unit_id="A1", override=override, actor="admin:1", now=now)
    assert (decision.source, decision.interval_days, decision.reasons) == ("override", 30, [override.reason])
    assert plan(conn, now=now + timedelta(days=2), ceiling_days=CEILING).intervals_changed == 0
    assert _routine_days(conn, "A1")[0] == 30
    plan(conn, now=at(date(2026, 2, 11)), ceiling_days=CEILING)
    assert _routine_days(conn, "A1")[0] == CEILING


def test_an_sla_breach_is_flagged_once(conn: Connection, fleet: Fleet) -> None:
    opened = at(date(2026, 3, 1))
    rescue, created = open_work_order_for(
        conn, tenant=INTERNAL, unit_id="A1", source=Source.ALARM, source_ref="alarm-1", kind=WorkOrderKind.CORRECTIVE,
        urgency=Urgency.ENTRAPMENT, title="Passenger trapped", evidence={"event": "entrapment"}, now=opened,
    )  # fmt: skip
    assert created
    assert rescue.priority == 1
    assert rescue.due_at == opened + timedelta(minutes=30)
    assert plan(conn, now=opened + timedelta(minutes=29), ceiling_days=CEILING).sla_breaches == 0
    assert plan(conn, now=opened + timedelta(minutes=31), ceiling_days=CEILING).sla_breaches == 1
    assert plan(conn, now=opened + timedelta(minutes=41), ceiling_days=CEILING).sla_breaches == 0
    flagged = get_work_order_detail(conn, tenant=INTERNAL, work_order_id=rescue.id)
    assert flagged.sla_breached_at == opened + timedelta(minutes=31)


def test_dispatch_prefers_the_units_region_then_workload_and_a_decline_reassigns(
    conn: Connection, fleet: Fleet
) -> None:
    maintainer = fleet.ids["maint_org_a"]
    east = crews.create_crew(conn, tenant=INTERNAL, maintainer_id=maintainer, name="east").id
    west = crews.create_crew(conn, tenant=INTERNAL, maintainer_id=maintainer, name="west").id
    for crew_id in (east, west):
        set_crew_region(conn, tenant=INTERNAL, crew_id=crew_id, region="Shanghai")  # A1's site is in Shanghai
    conn.execute("UPDATE work_orders SET crew_id = %s WHERE id = %s", (east, fleet.ids["wo_a"]))  # east is busy
    now = at(date(2026, 3, 1))

    def alarm() -> tuple[UUID, bool]:
        order, created = open_work_order_for(
            conn, tenant=INTERNAL, unit_id="A1", source=Source.ALARM, source_ref="alarm-7",
            kind=WorkOrderKind.CORRECTIVE, urgency=Urgency.CRITICAL, title="Brake wear", evidence={}, now=now,
        )  # fmt: skip
        return order.id, created

    order_id, created = alarm()
    assert created
    assert alarm() == (order_id, False)
    order = get_work_order_detail(conn, tenant=INTERNAL, work_order_id=order_id)
    assert (order.crew_id, order.status, order.priority) == (west, "assigned", 2)
    assert order.dispatch is not None
    assert order.dispatch["unit_region"] == "Shanghai"
    assert [c["name"] for c in order.dispatch["candidates"]] == ["west", "east"]  # crews of its region only
    chain = []
    for crew_id in (west, east, fleet.ids["crew_a"]):
        chain.append(decline_work_order(conn, tenant=_crew_scope(conn, fleet, crew_id), work_order_id=order_id,
                                        decline=Decline(reason="too far"), now=now))  # fmt: skip
    assert chain == [east, fleet.ids["crew_a"], None]
    final = get_work_order_detail(conn, tenant=INTERNAL, work_order_id=order_id)
    assert (final.status, final.crew_id) == ("open", None)
    assert final.dispatch is not None
    assert final.dispatch["chosen"] is None


def test_a_failing_batch_is_redone_unit_by_unit(conn: Connection) -> None:
    def register(c: Connection, unit_ids: list[str]) -> None:
        c.execute("INSERT INTO units (id) SELECT unnest(%s::text[])", (unit_ids,))

    outcome = for_each_batch(conn, ["u1", "bad unit!", "u2", "u3"], register, job="test", size=3)
    assert outcome.done == ["u1", "u2", "u3"]
    assert list(outcome.failed) == ["bad unit!"]
    rows = conn.execute("SELECT id FROM units ORDER BY id").fetchall()
    assert [r["id"] for r in rows] == ["u1", "u2", "u3"]
