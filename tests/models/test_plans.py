"""Statutory plans as data: loaded and validated, visits due on the right dates, checklists that move plans on."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import pytest
from pydantic import ValidationError

from models.access.tenancy import TenantScope
from models.db import Connection
from models.errors import BadRequest, Conflict
from models.work.checklists import ItemResult, VisitCompletion
from models.work.orders import get_work_order_detail
from models.work.plans import PlanDefinition, available_plans, load_plan
from models.work.schedules import assign_plan, get_unit_plan
from models.work.visits import VisitDetail, complete_visit, get_visit
from tests.support.fleet import Fleet
from tests.support.work import at, checklist, clean_visit, open_due_visit

INTERNAL = TenantScope.internal()
START = date(2026, 1, 1)


def _completion(results: list[dict[str, Any]], **extra: Any) -> VisitCompletion:
    return VisitCompletion(results=[ItemResult.model_validate(r) for r in results], **extra)


def _due(conn: Connection, unit_id: str) -> dict[str, date]:
    return {s.interval_code: s.next_due_on for s in get_unit_plan(conn, tenant=INTERNAL, unit_id=unit_id).schedules}


def test_shipped_plans_load_and_validate() -> None:
    assert available_plans() == ["en13015_traction_example", "tsg_t5002_traction"]
    tsg = load_plan("tsg_t5002_traction")
    assert [(i.code, i.days) for i in tsg.intervals] == [
        ("half_monthly", 15), ("quarterly", 90), ("semi_annual", 180), ("annual", 365)
    ]  # fmt: skip
    assert len(tsg.items_for(["half_monthly"])) == 31
    assert len(tsg.items) == 75
    assert tsg.routine is not None
    assert tsg.routine.code == "half_monthly"
    engagement = tsg.items_for(["half_monthly"])["A1.29"]
    assert (engagement.judged, engagement.unit, engagement.min) == ("measured", "mm", 7.0)
    assert {i.code for i in tsg.items if i.evidence_required} >= {"A4.03", "A4.04", "A4.05"}
    assert load_plan("en13015_traction_example").routine is not None


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"items": [{"code": "X", "interval": "weekly", "text": "t", "judged": "qualitative"}]}, "unknown intervals"),
        ({"items": [{"code": "X", "interval": "monthly", "text": "t", "judged": "measured"}]}, "needs a unit"),
        ({"items": [{"code": "X", "interval": "monthly", "text": "t", "judged": "measured", "unit": "mm"}]}, "min or"),
        ({"intervals": [{"code": "annual", "days": 365}, {"code": "monthly", "days": 30}]}, "shortest first"),
    ],
)
def test_a_malformed_plan_file_is_refused_at_load(change: dict[str, Any], message: str) -> None:
    document: dict[str, Any] = {
        "code": "bad", "version": "1", "title": "t", "jurisdiction": "XX", "source": "test",
        "intervals": [{"code": "monthly", "days": 30}],
        "items": [{"code": "M1", "interval": "monthly", "text": "t", "judged": "qualitative"}],
    }  # fmt: skip
    with pytest.raises(ValidationError, match=message):
        PlanDefinition.model_validate({**document, **change})


def test_visits_come_due_on_the_right_dates(conn: Connection, fleet: Fleet) -> None:
    assign_plan(conn, tenant=INTERNAL, unit_id="A1", plan_code="tsg_t5002_traction", starts_on=START)
    assert _due(conn, "A1") == {
        "half_monthly": date(2026, 1, 16), "quarterly": date(2026, 4, 1),
        "semi_annual": date(2026, 6, 30), "annual": date(2027, 1, 1),
    }  # fmt: skip
    assert open_due_visit(conn, unit_id="A1", through=date(2026, 1, 15), now=at(date(2026, 1, 15))) is None
    visit = open_due_visit(conn, unit_id="A1", through=date(2026, 1, 16), now=at(date(2026, 1, 16)))
    assert visit is not None
    assert (visit.due_on, visit.intervals) == (date(2026, 1, 16), ["half_monthly"])
    assert open_due_visit(conn, unit_id="A1", through=date(2026, 1, 20), now=at(date(2026, 1, 20))) is None
    assert visit.work_order_id is not None
    order = get_work_order_detail(conn, tenant=INTERNAL, work_order_id=visit.work_order_id)
    assert (order.source, order.source_ref, order.kind, order.urgency) == (
        "plan",
        str(visit.id),
        "preventive",
        "routine",
    )
    assert order.due_at == at(date(2026, 1, 17), 0)
    assert order.crew_id == fleet.ids["crew_a"]


def test_completing_a_visit_moves_the_plan_on_and_closes_its_work_order(conn: Connection, fleet: Fleet) -> None:
    assign_plan(conn, tenant=INTERNAL, unit_id="A1", plan_code="tsg_t5002_traction", starts_on=START)
    visit = clean_visit(conn, unit_id="A1", day=date(2026, 1, 17))
    assert _due(conn, "A1")["half_monthly"] == date(2026, 2, 1)  # from the day it was done, not the day it was due
    assert visit.work_order_id is not None
    order = get_work_order_detail(conn, tenant=INTERNAL, work_order_id=visit.work_order_id)
    assert order.status == "done"
    assert order.completed_at == at(date(2026, 1, 17))
    record = conn.execute("SELECT kind, data FROM lifecycle_records WHERE work_order_id = %s", (order.id,)).fetchone()
    assert record is not None
    assert record["kind"] == "maintenance"
    for day in (date(2026, 2, 1), date(2026, 2, 16), date(2026, 3, 3), date(2026, 3, 18)):
        clean_visit(conn, unit_id="A1", day=day)
    quarterly = open_due_visit(conn, unit_id="A1", through=date(2026, 4, 2), now=at(date(2026, 4, 1)))
    assert quarterly is not None
    assert (quarterly.intervals, quarterly.due_on) == (["half_monthly", "quarterly"], date(2026, 4, 1))
    assert len(checklist(quarterly)) == 31 + 13


def test_a_checklist_must_match_the_plan(conn: Connection, fleet: Fleet) -> None:
    assign_plan(conn, tenant=INTERNAL, unit_id="A1", plan_code="tsg_t5002_traction", starts_on=START)
    visit = open_due_visit(conn, unit_id="A1", through=date(2026, 1, 16), now=at(date(2026, 1, 16)))
    assert visit is not None
    cases = [
        ([*checklist(visit), {"item": "A4.03", "outcome": "pass"}], "not in this visit's plan"),
        (checklist(visit)[1:], "not reported: A1.01"),
        (checklist(visit, A1_29={"item": "A1.29", "value": 0.9, "unit": "cm"}), "A1.29 needs a measured value in mm"),
        (checklist(visit, A1_29={"item": "A1.29", "value": 5.0, "unit": "mm", "outcome": "pass"}), "is a fail"),
        (checklist(visit, A1_01={"item": "A1.01", "value": 1.0}), "judged by inspection"),
        (checklist(visit) + checklist(visit)[:1], "reported twice"),
    ]
    for results, message in cases:
        with pytest.raises(BadRequest, match=message):
            complete_visit(conn, tenant=INTERNAL, visit_id=visit.id, completion=_completion(results), actor="t",
                           now=at(date(2026, 1, 16)))  # fmt: skip
    assert get_visit(conn, tenant=INTERNAL, visit_id=visit.id).completed_at is None


def test_a_failed_measurement_opens_one_corrective_work_order(conn: Connection, fleet: Fleet) -> None:
    assign_plan(conn, tenant=INTERNAL, unit_id="A1", plan_code="tsg_t5002_traction", starts_on=START)
    visit = open_due_visit(conn, unit_id="A1", through=date(2026, 1, 16), now=at(date(2026, 1, 16)))
    assert visit is not None
    results = checklist(visit, A1_29={"item": "A1.29", "value": 5.0, "unit": "mm"})
    day = at(date(2026, 1, 16))

    def complete(key: str, now: datetime) -> VisitDetail:
        completion = _completion(results, idempotency_key=key)
        return complete_visit(conn, tenant=INTERNAL, visit_id=visit.id, completion=completion, actor="t", now=now)

    done = complete("k1", day)
    assert {r.item_code: r.outcome for r in done.results}["A1.29"] == "fail"
    again = complete("k1", day + timedelta(minutes=5))  # the phone sent it again
    assert again.recorded_at == done.recorded_at
    with pytest.raises(Conflict, match="already completed"):
        complete("k2", day)
    rows = conn.execute(
        "SELECT kind, urgency, evidence FROM work_orders WHERE source_ref = %s AND source = 'visit'", (str(visit.id),)
    ).fetchall()
    assert len(rows) == 1
    assert (rows[0]["kind"], rows[0]["urgency"]) == ("corrective", "fault")
    assert [f["item"] for f in rows[0]["evidence"]["failed"]] == ["A1.29"]  # type: ignore[index]


def test_a_visit_whose_work_order_was_cancelled_cannot_be_completed(conn: Connection, fleet: Fleet) -> None:
    assign_plan(conn, tenant=INTERNAL, unit_id="A1", plan_code="tsg_t5002_traction", starts_on=START)
    visit = open_due_visit(conn, unit_id="A1", through=date(2026, 1, 16), now=at(date(2026, 1, 16)))
    assert visit is not None
    conn.execute("UPDATE work_orders SET status = 'cancelled' WHERE id = %s", (visit.work_order_id,))
    with pytest.raises(Conflict, match="cancelled"):
        complete_visit(conn, tenant=INTERNAL, visit_id=visit.id, completion=_completion(checklist(visit)), actor="t",
                       now=at(date(2026, 1, 16)))  # fmt: skip
