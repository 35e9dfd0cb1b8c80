"""Work orders: the transition table, a crew's rules, and how long a crew sees a unit."""

from __future__ import annotations

from itertools import product

from fastapi.testclient import TestClient

from models.access.tenancy import Role
from models.db import Connection
from models.work import work_orders
from models.work.work_orders import WorkOrderCreate, WorkOrderStatus
from tests.support.api import auth
from tests.support.fleet import PLATFORM, Fleet

OPEN, ASSIGNED, IN_PROGRESS, DONE, VERIFIED, CANCELLED = (
    "open", "assigned", "in_progress", "done", "verified", "cancelled",
)  # fmt: skip
# Stated here, not read from the code: a change to the table must change this test too.
ALLOWED = {
    (OPEN, ASSIGNED), (OPEN, CANCELLED),
    (ASSIGNED, OPEN), (ASSIGNED, IN_PROGRESS), (ASSIGNED, CANCELLED),
    (IN_PROGRESS, DONE), (IN_PROGRESS, CANCELLED),
    (DONE, VERIFIED), (DONE, IN_PROGRESS),
}  # fmt: skip


def _order_in(conn: Connection, status: str) -> str:
    order = work_orders.create_work_order(
        conn, tenant=PLATFORM, order=WorkOrderCreate(unit_id="A1", kind="corrective", title=f"in {status}")
    )
    conn.execute("UPDATE work_orders SET status = %s WHERE id = %s", (status, order.id))
    return str(order.id)


def _patch(client: TestClient, key: str, order_id: str, body: dict[str, object]) -> int:
    headers = {**auth(key), "If-Match": "*"}
    return client.patch(f"/work-orders/{order_id}", json=body, headers=headers).status_code


def test_every_status_change_follows_the_transition_table(client: TestClient, conn: Connection, fleet: Fleet) -> None:
    statuses = [s.value for s in WorkOrderStatus]
    pairs = [(a, b) for a, b in product(statuses, statuses) if a != b]
    orders = {pair: _order_in(conn, pair[0]) for pair in pairs}
    conn.commit()
    admin = fleet.keys[Role.ADMIN]
    got = {pair: _patch(client, admin, orders[pair], {"status": pair[1]}) for pair in pairs}
    assert got == {pair: 200 if pair in ALLOWED else 409 for pair in pairs}


def test_a_crew_only_starts_and_finishes_its_own_open_work(client: TestClient, fleet: Fleet) -> None:
    crew, order = fleet.keys[Role.CREW], str(fleet.ids["wo_a"])
    assert _patch(client, crew, order, {"status": "verified"}) == 403
    assert _patch(client, crew, order, {"status": "cancelled"}) == 403
    assert _patch(client, crew, order, {"priority": 1}) == 403
    assert _patch(client, crew, order, {"status": "in_progress"}) == 200
    assert _patch(client, crew, order, {"status": "done"}) == 200
    # Done: read-only for the crew now, though done -> in_progress is a transition the maintainer may make.
    assert _patch(client, crew, order, {"status": "in_progress"}) == 403
    assert client.get(f"/work-orders/{order}", headers=auth(crew)).status_code == 200
    assert _patch(client, fleet.keys[Role.MAINTAINER], order, {"status": "in_progress"}) == 200


def test_a_crew_sees_a_unit_only_while_its_work_is_open_plus_the_grace(
    client: TestClient, conn: Connection, fleet: Fleet
) -> None:
    crew, order = auth(fleet.keys[Role.CREW]), str(fleet.ids["wo_a"])
    assert _patch(client, fleet.keys[Role.MAINTAINER], order, {"status": "cancelled"}) == 200
    assert client.get("/units/A1", headers=crew).status_code == 200  # within the read-only grace
    repair = {"kind": "repair", "occurred_at": "2024-02-01T00:00:00Z", "work_order_id": order}
    assert client.post("/units/A1/records", json=repair, headers=crew).status_code == 403
    conn.execute("UPDATE work_orders SET updated_at = now() - interval '25 hours' WHERE id = %s", (order,))
    conn.commit()
    assert client.get("/units/A1", headers=crew).status_code == 404
    assert client.get(f"/work-orders/{order}", headers=crew).status_code == 404
    assert client.get("/units", headers=crew).json()["items"] == []


def test_a_crew_loses_the_unit_when_the_contract_ends(client: TestClient, conn: Connection, fleet: Fleet) -> None:
    crew = auth(fleet.keys[Role.CREW])
    assert client.get("/units/A1", headers=crew).status_code == 200
    conn.execute("UPDATE maintenance_contracts SET ends_on = current_date - 1 WHERE unit_id = 'A1'")
    conn.commit()
    assert client.get("/units/A1", headers=crew).status_code == 404
    assert client.get(f"/work-orders/{fleet.ids['wo_a']}", headers=crew).status_code == 404


def test_a_crew_records_repairs_only_under_its_open_work_order(client: TestClient, fleet: Fleet) -> None:
    crew = auth(fleet.keys[Role.CREW])
    repair = {"kind": "repair", "occurred_at": "2024-02-01T00:00:00Z", "data": {"part": "door roller"}}
    assert client.post("/units/A1/records", json=repair, headers=crew).status_code == 403
    with_order = {**repair, "work_order_id": str(fleet.ids["wo_a"])}
    assert client.post("/units/A1/records", json=with_order, headers=crew).status_code == 201
    other_order = {**repair, "work_order_id": str(fleet.ids["wo_b"])}
    assert client.post("/units/A1/records", json=other_order, headers=crew).status_code == 404
