"""The maintenance API: scopes per role, other tenants' objects 404, a crew's accept / complete / decline."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient

from models.access.tenancy import Role, TenantScope
from models.db import Connection
from models.work.schedules import assign_plan
from models.work.visits import Visit
from tests.support.api import auth
from tests.support.fleet import Fleet, fleet_roles
from tests.support.work import checklist, open_due_visit

ANON = "anonymous"
CALLERS: tuple[str, ...] = (ANON, *fleet_roles())
# Expected statuses in CALLERS order: anonymous, admin, manufacturer, maintainer, crew, device.
READ = (401, 200, 403, 200, 200, 403)
MANAGE = (401, 201, 403, 201, 403, 403)
MANAGE_NO_CONTENT = (401, 204, 403, 204, 403, 403)


@pytest.fixture
def visits(conn: Connection, fleet: Fleet) -> dict[str, Visit]:
    """A1 and B1 on the TSG plan since November, each with its half-monthly visit open and dispatched."""
    opened = {}
    for unit_id in ("A1", "B1"):
        assign_plan(conn, tenant=TenantScope.internal(), unit_id=unit_id, plan_code="tsg_t5002_traction",
                    starts_on=date(2026, 11, 1))  # fmt: skip
        visit = open_due_visit(conn, unit_id=unit_id, through=date(2026, 11, 16), now=datetime.now(UTC))
        assert visit is not None
        opened[unit_id] = visit
    conn.commit()
    return opened


def _names(fleet: Fleet, visits: dict[str, Visit]) -> dict[str, str]:
    names = {k: str(v) for k, v in fleet.ids.items()}
    for unit_id, visit in visits.items():
        names[f"visit_{unit_id}"] = str(visit.id)
        names[f"wo_{unit_id}"] = str(visit.work_order_id)
    return names


ROUTES: list[tuple[str, str, dict[str, Any] | None, tuple[int, ...]]] = [
    ("GET", "/maintenance/plans", None, READ),
    ("GET", "/maintenance/plans/tsg_t5002_traction", None, READ),
    ("GET", "/maintenance/units/A1/plan", None, READ),
    ("GET", "/maintenance/units/A1/interval-decisions", None, READ),
    ("GET", "/maintenance/visits", None, READ),
    ("GET", "/maintenance/visits?format=csv", None, READ),
    ("GET", "/maintenance/visits/{visit_A1}", None, READ),
    ("GET", "/maintenance/work-orders/{wo_A1}", None, READ),
    ("POST", "/maintenance/units/A1/interval-override", {"days": 30, "reason": "owner asked"}, MANAGE),
    ("PUT", "/maintenance/crews/{crew_a}/region", {"region": "Shanghai"}, MANAGE_NO_CONTENT),
]


@pytest.mark.parametrize(("method", "path", "body", "expected"), ROUTES, ids=[f"{r[0]} {r[1]}" for r in ROUTES])
def test_maintenance_routes_enforce_role_scopes(
    client: TestClient,
    fleet: Fleet,
    visits: dict[str, Visit],
    method: str,
    path: str,
    body: dict[str, Any] | None,
    expected: tuple[int, ...],
) -> None:
    names = _names(fleet, visits)
    got = {}
    for caller in CALLERS:
        key = None if caller == ANON else fleet.keys[Role(caller)]
        got[caller] = client.request(method, path.format_map(names), json=body, headers=auth(key)).status_code
    assert got == dict(zip(CALLERS, expected, strict=True))


CROSS_TENANT: list[tuple[str, str, dict[str, Any] | None, tuple[Role, ...]]] = [
    ("GET", "/maintenance/units/B1/plan", None, (Role.MAINTAINER, Role.CREW)),
    ("PUT", "/maintenance/units/B1/plan", {"plan_code": "tsg_t5002_traction", "starts_on": "2026-01-01"},
     (Role.MAINTAINER,)),
    ("GET", "/maintenance/units/B1/interval-decisions", None, (Role.MAINTAINER, Role.CREW)),
    ("POST", "/maintenance/units/B1/interval-override", {"days": 30, "reason": "x"}, (Role.MAINTAINER,)),
    ("GET", "/maintenance/visits/{visit_B1}", None, (Role.MAINTAINER, Role.CREW)),
    ("POST", "/maintenance/visits/{visit_B1}/completion", {"results": [{"item": "A1.01", "outcome": "pass"}]},
     (Role.MAINTAINER, Role.CREW)),
    ("GET", "/maintenance/work-orders/{wo_B1}", None, (Role.MAINTAINER, Role.CREW)),
    ("POST", "/maintenance/work-orders/{wo_B1}/accept", None, (Role.CREW,)),
    ("POST", "/maintenance/work-orders/{wo_B1}/decline", {"reason": "x"}, (Role.CREW,)),
    ("PUT", "/maintenance/work-orders/{wo_B1}/crew", {"crew_id": "{crew_b}", "reason": "x"}, (Role.MAINTAINER,)),
    ("PUT", "/maintenance/work-orders/{wo_A1}/crew", {"crew_id": "{crew_b}", "reason": "x"}, (Role.MAINTAINER,)),
    ("PUT", "/maintenance/crews/{crew_b}/region", {"region": "x"}, (Role.MAINTAINER,)),
]  # fmt: skip


@pytest.mark.parametrize(
    ("method", "path", "body", "roles"), CROSS_TENANT, ids=[f"{r[0]} {r[1]}" for r in CROSS_TENANT]
)
def test_other_tenants_maintenance_objects_are_not_found(
    client: TestClient,
    fleet: Fleet,
    visits: dict[str, Visit],
    method: str,
    path: str,
    body: dict[str, Any] | None,
    roles: tuple[Role, ...],
) -> None:
    names = _names(fleet, visits)
    filled = None if body is None else {k: v.format_map(names) if isinstance(v, str) else v for k, v in body.items()}
    got = {
        role: client.request(method, path.format_map(names), json=filled, headers=auth(fleet.keys[role])).status_code
        for role in roles
    }
    assert got == dict.fromkeys(roles, 404)


def test_a_crew_accepts_and_completes_its_visit_once(
    client: TestClient, fleet: Fleet, visits: dict[str, Visit]
) -> None:
    crew = auth(fleet.keys[Role.CREW])
    visit = visits["A1"]
    accepted = client.post(f"/maintenance/work-orders/{visit.work_order_id}/accept", headers=crew)
    assert accepted.status_code == 200
    assert accepted.json()["accepted_at"] is not None
    maintainer = auth(fleet.keys[Role.MAINTAINER])
    assert client.post(f"/maintenance/work-orders/{visit.work_order_id}/accept", headers=maintainer).status_code == 400

    url = f"/maintenance/visits/{visit.id}/completion"
    extra = client.post(url, json={"results": [*checklist(visit), {"item": "A4.03", "outcome": "pass"}]}, headers=crew)
    assert extra.status_code == 400
    assert "not in this visit's plan: A4.03" in extra.json()["detail"]
    body = {"results": checklist(visit), "completed_at": "2026-11-16T10:00:00+08:00", "idempotency_key": "phone-1"}
    first = client.post(url, json=body, headers=crew)
    assert first.status_code == 200
    assert first.json()["completed_at"] == "2026-11-16T02:00:00Z"
    assert client.post(url, json=body, headers=crew).json() == first.json()
    assert client.post(url, json={**body, "idempotency_key": "phone-2"}, headers=crew).status_code == 409
    plan = client.get("/maintenance/units/A1/plan", headers=crew).json()
    assert plan["schedules"][0] == {
        "interval_code": "half_monthly", "interval_days": 15, "last_done_on": "2026-11-16", "next_due_on": "2026-12-01"
    }  # fmt: skip
    order = client.get(f"/maintenance/work-orders/{visit.work_order_id}", headers=crew).json()
    assert order["status"] == "done"


def test_a_decline_passes_the_work_order_on_and_the_crew_loses_sight_of_it(
    client: TestClient, fleet: Fleet, visits: dict[str, Visit]
) -> None:
    crew = auth(fleet.keys[Role.CREW])
    order_url = f"/maintenance/work-orders/{visits['A1'].work_order_id}"
    assert client.post(f"{order_url}/decline", json={"reason": ""}, headers=crew).status_code == 422
    assert client.post(f"{order_url}/decline", json={"reason": "van broken"}, headers=crew).status_code == 204
    assert client.get(order_url, headers=crew).status_code == 404
    order = client.get(order_url, headers=auth(fleet.keys[Role.MAINTAINER])).json()
    assert (order["status"], order["crew_id"]) == ("open", None)  # Mx has no other crew
    back = {"crew_id": str(fleet.ids["crew_a"]), "reason": "van repaired"}
    overridden = client.put(f"{order_url}/crew", json=back, headers=auth(fleet.keys[Role.MAINTAINER]))
    assert overridden.status_code == 200
    assert overridden.json()["dispatch"]["override"]["reason"] == "van repaired"
    assert client.get(order_url, headers=crew).json()["status"] == "assigned"


def test_bad_override_and_plan_bodies_are_refused(client: TestClient, fleet: Fleet, visits: dict[str, Visit]) -> None:
    maintainer = auth(fleet.keys[Role.MAINTAINER])
    for body in ({"days": 0, "reason": "x"}, {"days": 93, "reason": "x"}, {"days": "30", "reason": "x"}):
        assert client.post("/maintenance/units/A1/interval-override", json=body, headers=maintainer).status_code == 422
    past = {"days": 30, "reason": "x", "until": "2020-01-01"}
    assert client.post("/maintenance/units/A1/interval-override", json=past, headers=maintainer).status_code == 400
    again = {"plan_code": "tsg_t5002_traction", "starts_on": "2026-01-01"}
    assert client.put("/maintenance/units/A1/plan", json=again, headers=maintainer).status_code == 409
    assert client.get("/maintenance/plans/no_such_plan", headers=maintainer).status_code == 404


def test_kpis_per_crew_as_a_table_and_csv(
    client: TestClient, conn: Connection, fleet: Fleet, visits: dict[str, Visit]
) -> None:
    # The fleet's corrective order: accepted after 10 min, repaired in 2 h, inside its 4 h SLA, nothing came back.
    conn.execute(
        "UPDATE work_orders SET status = 'done', accepted_at = created_at + interval '10 minutes',"
        " completed_at = created_at + interval '2 hours', due_at = created_at + interval '4 hours' WHERE id = %s",
        (fleet.ids["wo_a"],),
    )
    conn.commit()
    maintainer = auth(fleet.keys[Role.MAINTAINER])
    rows = client.get("/maintenance/kpis", headers=maintainer).json()["items"]
    assert rows == [
        {
            "group_id": str(fleet.ids["crew_a"]), "name": "a crew", "orders": 2, "completed": 1,
            "response_minutes_p50": 10.0, "repair_hours_p50": 2.0, "first_time_fix_rate": 1.0,
            # the visit's order was due on 17 November and is still open: one of two within SLA
            "sla_compliance": 0.5, "sla_breaches": 1, "overdue_visits": 1, "overdue_items": 31,
        }
    ]  # fmt: skip
    by_maintainer = client.get("/maintenance/kpis?group=maintainer", headers=auth(fleet.keys[Role.ADMIN])).json()
    assert [(k["name"], k["orders"]) for k in by_maintainer["items"]] == [("Mx", 2), ("My", 2)]
    csv_text = client.get("/maintenance/kpis?format=csv", headers=maintainer).text.splitlines()
    assert csv_text[0].startswith("group_id,name,orders,completed,response_minutes_p50")
    assert len(csv_text) == 2
    reversed_period = "/maintenance/kpis?since=2026-02-01T00:00:00Z&until=2026-01-01T00:00:00Z"
    assert client.get(reversed_period, headers=maintainer).status_code == 400
