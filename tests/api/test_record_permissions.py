"""Who may write which lifecycle record kind, and what of others' records a caller may read."""

from __future__ import annotations

from fastapi.testclient import TestClient

from models.access.tenancy import Role
from models.db import Connection
from models.lifecycle.ledger import LifecycleKind
from models.work import work_orders
from models.work.work_orders import WorkOrderCreate
from tests.support.api import auth
from tests.support.fleet import PLATFORM, Fleet

WRITERS = (Role.ADMIN, Role.MANUFACTURER, Role.MAINTAINER, Role.CREW, Role.DEVICE)
FACTORY = (201, 201, 403, 403, 403)
FIELD = (201, 403, 201, 201, 403)
# Statuses per kind in WRITERS order, stated here, not read from the code. Decommission comes last: once the
# admin has decommissioned the unit, its record is closed.
EXPECTED: dict[str, tuple[int, ...]] = {
    "factory_build": FACTORY,
    "factory_test": FACTORY,
    "shipment": FACTORY,
    "installation": FIELD,
    "commissioning": FIELD,
    "inspection": FIELD,
    "self_test": FIELD,
    "maintenance": FIELD,
    "fault": FIELD,
    "repair": FIELD,
    "modernization": FIELD,
    "decommission": (201, 403, 403, 403, 403),
}


def test_each_role_writes_only_its_record_kinds(client: TestClient, fleet: Fleet) -> None:
    assert set(EXPECTED) == {k.value for k in LifecycleKind} - {"part_replacement"}  # that one has its own route
    got: dict[str, tuple[int, ...]] = {}
    for kind in EXPECTED:
        statuses = []
        for role in WRITERS:
            body: dict[str, object] = {"kind": kind, "occurred_at": "2024-02-01T00:00:00Z", "data": {"by": str(role)}}
            if role is Role.CREW:
                body["work_order_id"] = str(fleet.ids["wo_a"])
            headers = auth(fleet.keys[role])
            statuses.append(client.post("/units/A1/records", json=body, headers=headers).status_code)
        got[kind] = tuple(statuses)
    assert got == EXPECTED
    closed = client.post(
        "/units/A1/records", json={"kind": "fault", "occurred_at": "2024-02-02T00:00:00Z"},
        headers=auth(fleet.keys[Role.MAINTAINER]),
    )  # fmt: skip
    assert closed.status_code == 409


def test_part_replacements_follow_the_field_writers(client: TestClient, conn: Connection, fleet: Fleet) -> None:
    conn.execute("INSERT INTO components (serial, component_type) VALUES ('NEW-1', 'brake'), ('NEW-2', 'brake')")
    conn.commit()
    swap = {"position": "brake", "installed_serial": "NEW-1", "occurred_at": "2024-02-01T00:00:00Z"}
    maker = client.post("/units/A1/part-replacements", json=swap, headers=auth(fleet.keys[Role.MANUFACTURER]))
    assert maker.status_code == 403
    assert client.get("/units/A1/build", headers=auth(fleet.keys[Role.ADMIN])).json()["items"] == []
    crew_swap = {**swap, "installed_serial": "NEW-2", "work_order_id": str(fleet.ids["wo_a"])}
    crew = client.post("/units/A1/part-replacements", json=crew_swap, headers=auth(fleet.keys[Role.CREW]))
    assert crew.status_code == 201


def test_others_records_and_work_orders_stay_private_in_the_timeline(
    client: TestClient, conn: Connection, fleet: Fleet
) -> None:
    # A work order on A1 held by the other maintainer (My): Mx and its crew must not see it.
    foreign = work_orders.create_work_order(
        conn, tenant=PLATFORM,
        order=WorkOrderCreate(unit_id="A1", kind="inspection", title="secret", maintainer_id=fleet.ids["maint_org_b"]),
    )  # fmt: skip
    conn.commit()
    private = {"technician": "Li Wei", "phone": "+86 138 0000 0000", "price_cny": 1800}
    body = {"kind": "maintenance", "occurred_at": "2024-02-01T00:00:00Z", "data": private}
    assert client.post("/units/A1/records", json=body, headers=auth(fleet.keys[Role.MAINTAINER])).status_code == 201

    def timeline(role: Role) -> list[dict[str, object]]:
        items: list[dict[str, object]] = client.get("/units/A1/lifecycle", headers=auth(fleet.keys[role])).json()[
            "items"
        ]
        return items

    def maintenance(entries: list[dict[str, object]]) -> dict[str, object]:
        return next(e["detail"] for e in entries if e["kind"] == "maintenance")  # type: ignore[misc]

    assert maintenance(timeline(Role.MAINTAINER))["data"] == private
    assert maintenance(timeline(Role.ADMIN))["data"] == private
    redacted = maintenance(timeline(Role.MANUFACTURER))
    assert redacted["data"] == {}
    assert redacted["actor"] == "another organisation"
    records = client.get("/units/A1/records?kind=maintenance", headers=auth(fleet.keys[Role.MANUFACTURER])).json()
    assert records["items"][0]["data"] == {}
    for role, sees_foreign in ((Role.ADMIN, True), (Role.MAINTAINER, False), (Role.CREW, False)):
        refs = {e["ref"] for e in timeline(role) if e["source"] == "work_order"}
        assert (str(foreign.id) in refs) is sees_foreign, role
    assert {e["source"] for e in timeline(Role.MANUFACTURER)} & {"work_order"} == set()
