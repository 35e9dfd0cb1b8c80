"""Every route against every role: anonymous 401, a role without the scope 403, another tenant's object 404.

ROUTES: (method, path, body, expected status per caller). Paths and bodies name fleet objects by `{key}`
(see `_names`); each caller gets its own names in bodies (`{tag}`) so creations do not collide.
"""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from models.access.tenancy import Role
from models.db import Connection
from models.registry import components
from tests.support.api import auth
from tests.support.fleet import Fleet

ANON = "anonymous"
# The field roles of the seeded fleet; supplier and regulator keys are tested in tests/api/test_quality_api.py.
CALLERS: tuple[str, ...] = (ANON, Role.ADMIN, Role.MANUFACTURER, Role.MAINTAINER, Role.CREW, Role.DEVICE)
T = "2024-03-01T08:00:00Z"

# Expected statuses in CALLERS order: anonymous, admin, manufacturer, maintainer, crew, device.
ADMIN_ONLY_READ = (401, 200, 403, 403, 403, 403)
ADMIN_ONLY_WRITE = (401, 201, 403, 403, 403, 403)
CATALOG_READ = (401, 200, 200, 200, 200, 403)
FIELD_READ = (401, 200, 200, 200, 200, 403)
MAKER_READ = (401, 200, 200, 403, 403, 403)
MAKER_WRITE = (401, 201, 201, 403, 403, 403)
MAINTAINER_READ = (401, 200, 403, 200, 200, 403)
MAINTAINER_WRITE = (401, 201, 403, 201, 403, 403)
# Field records without a work order: the contract holder (and the platform); a crew must name its work order.
HOLDER_WRITE = (401, 201, 403, 201, 403, 403)

ROUTES: list[tuple[str, str, dict[str, Any] | None, tuple[int, ...]]] = [
    ("GET", "/organizations", None, ADMIN_ONLY_READ),
    ("POST", "/organizations", {"name": "Org {tag}", "kind": "owner"}, ADMIN_ONLY_WRITE),
    ("GET", "/organizations/{platform}", None, ADMIN_ONLY_READ),
    ("GET", "/manufacturers", None, CATALOG_READ),
    ("GET", "/manufacturers/{manufacturer_a}", None, CATALOG_READ),
    ("POST", "/manufacturers", {"name": "Make {tag}"}, ADMIN_ONLY_WRITE),
    ("GET", "/suppliers", None, CATALOG_READ),
    ("GET", "/suppliers/{supplier}", None, CATALOG_READ),
    ("POST", "/suppliers", {"name": "Supplier {tag}"}, ADMIN_ONLY_WRITE),
    ("GET", "/unit-models", None, CATALOG_READ),
    ("GET", "/unit-models/{model_a}", None, CATALOG_READ),
    (
        "POST",
        "/unit-models",
        {
            "manufacturer_id": "{manufacturer_a}",
            "name": "M {tag}",
            "capacity_kg": 630,
            "rated_speed_mps": 1.0,
            "drive_type": "mrl",
        },
        ADMIN_ONLY_WRITE,
    ),
    ("GET", "/component-types", None, CATALOG_READ),
    ("GET", "/batches", None, MAKER_READ),
    ("GET", "/batches/{batch}", None, MAKER_READ),
    ("POST", "/batches", {"supplier_id": "{supplier}", "component_type": "brake", "lot": "L {tag}"}, ADMIN_ONLY_WRITE),
    ("GET", "/components", None, MAKER_READ),
    ("GET", "/components/{c_admin}", None, MAKER_READ),
    ("POST", "/components", {"serial": "S {tag}", "component_type": "brake"}, ADMIN_ONLY_WRITE),
    ("GET", "/sites", None, ADMIN_ONLY_READ),
    ("GET", "/sites/{site_a}", None, ADMIN_ONLY_READ),
    ("POST", "/sites", {"name": "Site {tag}"}, ADMIN_ONLY_WRITE),
    ("GET", "/units", None, FIELD_READ),
    ("GET", "/units/A1", None, FIELD_READ),
    (
        "POST",
        "/units",
        {"id": "N-{tag}", "serial": "SN {tag}", "registration_code": "R {tag}", "model_id": "{model_a}", "floors": 5},
        MAKER_WRITE,
    ),
    ("PATCH", "/units/A1", {"building": "South {tag}"}, (401, 200, 200, 403, 403, 403)),
    (
        "POST",
        "/units/A1/components",
        {"position": "p-{tag}", "component_id": "{tag_component}", "installed_at": T},
        MAKER_WRITE,
    ),
    ("GET", "/units/A1/build", None, FIELD_READ),
    ("GET", "/units/A1/positions/brake/history", None, FIELD_READ),
    ("GET", "/units/A1/records", None, FIELD_READ),
    ("POST", "/units/A1/records", {"kind": "maintenance", "occurred_at": T, "data": {"by": "{tag}"}}, HOLDER_WRITE),
    ("GET", "/units/A1/records/verify", None, FIELD_READ),
    (
        "POST",
        "/units/A1/part-replacements",
        {"position": "brake {tag}", "installed_serial": "SWAP-{tag}", "occurred_at": T},
        HOLDER_WRITE,
    ),
    ("GET", "/units/A1/lifecycle", None, FIELD_READ),
    ("GET", "/units/A1/lifecycle?format=csv", None, FIELD_READ),
    ("GET", f"/units/A1/telemetry?since={T}&until=2024-03-02T08:00:00Z", None, FIELD_READ),
    ("GET", "/traceability/recall?batch_id={batch}", None, (401, 200, 200, 200, 403, 403)),
    ("GET", "/contracts", None, (401, 200, 403, 200, 403, 403)),
    (
        "POST",
        "/contracts",
        {"unit_id": "A1", "maintainer_id": "{maint_org_b}", "starts_on": "2030-01-01"},
        ADMIN_ONLY_WRITE,
    ),
    ("GET", "/crews", None, MAINTAINER_READ),
    ("GET", "/crews/{crew_a}", None, MAINTAINER_READ),
    ("POST", "/crews", {"maintainer_id": "{maint_org_a}", "name": "Crew {tag}"}, MAINTAINER_WRITE),
    ("GET", "/work-orders", None, MAINTAINER_READ),
    ("GET", "/work-orders?format=csv", None, MAINTAINER_READ),
    ("GET", "/work-orders/{wo_a}", None, MAINTAINER_READ),
    ("POST", "/work-orders", {"unit_id": "A1", "kind": "preventive", "title": "T {tag}"}, MAINTAINER_WRITE),
    ("PATCH", "/work-orders/{wo_a}", {"status": "in_progress"}, (401, 200, 403, 200, 200, 403)),
    ("GET", "/api-keys", None, ADMIN_ONLY_READ),
    ("POST", "/api-keys", {"name": "K {tag}", "role": "admin", "organization_id": "{platform}"}, ADMIN_ONLY_WRITE),
]

# Side-A callers reaching for side-B objects: the object does not exist for them.
CROSS_TENANT: list[tuple[str, str, dict[str, Any] | None, tuple[Role, ...]]] = [
    ("GET", "/units/B1", None, (Role.MANUFACTURER, Role.MAINTAINER, Role.CREW)),
    ("PATCH", "/units/B1", {"building": "x"}, (Role.MANUFACTURER,)),
    ("GET", "/units/B1/build", None, (Role.MANUFACTURER, Role.MAINTAINER, Role.CREW)),
    ("GET", "/units/B1/positions/brake/history", None, (Role.MANUFACTURER, Role.MAINTAINER, Role.CREW)),
    ("GET", "/units/B1/records", None, (Role.MANUFACTURER, Role.MAINTAINER, Role.CREW)),
    ("GET", "/units/B1/records/verify", None, (Role.MANUFACTURER, Role.MAINTAINER, Role.CREW)),
    ("POST", "/units/B1/records", {"kind": "fault", "occurred_at": T}, (Role.MANUFACTURER, Role.MAINTAINER, Role.CREW)),
    ("GET", "/units/B1/lifecycle", None, (Role.MANUFACTURER, Role.MAINTAINER, Role.CREW)),
    ("GET", f"/units/B1/telemetry?since={T}&until=2024-03-02T00:00:00Z", None, (Role.MANUFACTURER, Role.MAINTAINER)),
    (
        "POST",
        "/units",
        {"id": "X1", "serial": "SX", "registration_code": "RX", "model_id": "{model_b}", "floors": 5},
        (Role.MANUFACTURER,),
    ),
    ("GET", "/work-orders/{wo_b}", None, (Role.MAINTAINER, Role.CREW)),
    ("PATCH", "/work-orders/{wo_b}", {"status": "in_progress"}, (Role.MAINTAINER, Role.CREW)),
    ("POST", "/work-orders", {"unit_id": "B1", "kind": "corrective", "title": "x"}, (Role.MAINTAINER,)),
    ("GET", "/crews/{crew_b}", None, (Role.MAINTAINER, Role.CREW)),
]


def _names(fleet: Fleet, tag: str) -> dict[str, str]:
    return {**{k: str(v) for k, v in fleet.ids.items()}, "tag": tag, "tag_component": str(fleet.ids.get(f"c_{tag}"))}


def _fill(value: Any, names: dict[str, str]) -> Any:
    if isinstance(value, str):
        return value.format_map(names)
    if isinstance(value, dict):
        return {key: _fill(item, names) for key, item in value.items()}
    return value


def _call(client: TestClient, key: str | None, method: str, path: str, body: Any) -> int:
    # Changes name the version they are based on; "*" (any) keeps this table about roles, not versions.
    headers = {**auth(key), "If-Match": "*"} if method == "PATCH" else auth(key)
    return client.request(method, path, json=body, headers=headers).status_code


@pytest.fixture
def roles_fleet(conn: Connection, fleet: Fleet) -> Fleet:
    """The fleet plus, per caller, a spare component to install and one to swap in."""
    for caller in CALLERS:
        spare = components.create_component(conn, serial=f"SPARE-{caller}", component_type="brake", batch_id=None)
        fleet.ids[f"c_{caller}"] = spare.id
        components.create_component(conn, serial=f"SWAP-{caller}", component_type="brake", batch_id=None)
    conn.commit()
    return fleet


@pytest.mark.parametrize(("method", "path", "body", "expected"), ROUTES, ids=[f"{r[0]} {r[1]}" for r in ROUTES])
def test_route_enforces_role_scopes(
    client: TestClient,
    roles_fleet: Fleet,
    method: str,
    path: str,
    body: dict[str, Any] | None,
    expected: tuple[int, ...],
) -> None:
    got = {}
    for caller in CALLERS:
        names = _names(roles_fleet, caller)
        key = None if caller == ANON else roles_fleet.keys[Role(caller)]
        got[caller] = _call(client, key, method, path.format_map(names), _fill(body, names))
    assert got == dict(zip(CALLERS, expected, strict=True))


@pytest.mark.parametrize(
    ("method", "path", "body", "roles"), CROSS_TENANT, ids=[f"{r[0]} {r[1]}" for r in CROSS_TENANT]
)
def test_other_tenants_objects_are_not_found(
    client: TestClient,
    fleet: Fleet,
    method: str,
    path: str,
    body: dict[str, Any] | None,
    roles: tuple[Role, ...],
) -> None:
    names = _names(fleet, "x")
    got = {role: _call(client, fleet.keys[role], method, path.format_map(names), _fill(body, names)) for role in roles}
    assert got == dict.fromkeys(roles, 404)


def test_lists_hold_only_the_callers_units(client: TestClient, fleet: Fleet) -> None:
    seen = {
        role: [u["id"] for u in client.get("/units", headers=auth(fleet.keys[role])).json()["items"]]
        for role in (Role.ADMIN, Role.MANUFACTURER, Role.MAINTAINER, Role.CREW)
    }
    assert seen == {Role.ADMIN: ["A1", "B1"], Role.MANUFACTURER: ["A1"], Role.MAINTAINER: ["A1"], Role.CREW: ["A1"]}


def test_key_also_works_as_x_api_key_header(client: TestClient, fleet: Fleet) -> None:
    assert client.get("/units", headers={"X-API-Key": fleet.keys[Role.ADMIN]}).status_code == 200


def test_unknown_key_is_unauthorized(client: TestClient, fleet: Fleet) -> None:
    response = client.get("/units", headers=auth("lb_" + "x" * 40))
    assert response.status_code == 401
    assert response.json()["error"] == "unauthorized"
    assert response.headers["WWW-Authenticate"] == "Bearer"
