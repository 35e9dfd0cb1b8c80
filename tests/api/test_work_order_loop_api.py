"""The crew's completion with parts and the work order's history over HTTP: scopes, tenancy, idempotency."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from models.access.tenancy import Role, TenantScope
from models.db import Connection
from models.registry import components, units
from tests.support.api import auth
from tests.support.fleet import Fleet, fleet_roles

# Expected statuses in fleet_roles() order after anonymous: admin, manufacturer, maintainer, crew, device.
HISTORY = (401, 200, 403, 200, 200, 403)


@pytest.fixture
def brake(conn: Connection, fleet: Fleet) -> None:
    """A1's brake BR-OLD, and a spare BR-NEW on the shelf."""
    old = components.create_component(conn, serial="BR-OLD", component_type="brake", batch_id=None)
    components.create_component(conn, serial="BR-NEW", component_type="brake", batch_id=None)
    units.install_component(conn, tenant=TenantScope.internal(), unit_id=fleet.unit_a1, position="brake",
                            component_id=old.id, at=datetime.now(UTC) - timedelta(days=90))  # fmt: skip
    conn.commit()


def _body(key: str) -> dict[str, Any]:
    return {
        "idempotency_key": key,
        "completed_at": datetime.now(UTC).isoformat(),
        "note": "brake lining worn",
        "parts": [{"position": "brake", "removed_serial": "BR-OLD", "installed_serial": "BR-NEW"}],
    }


@pytest.mark.parametrize(("caller", "expected"), list(zip((None, *fleet_roles()), HISTORY, strict=True)))
def test_history_scopes(client: TestClient, fleet: Fleet, caller: Role | None, expected: int) -> None:
    key = None if caller is None else fleet.keys[caller]
    response = client.get(f"/work-orders/{fleet.ids['wo_a']}/history", headers=auth(key))
    assert response.status_code == expected
    if expected == 200:
        assert [e["action"] for e in response.json()["items"]] == ["opened", "updated"]


def test_another_maintainers_order_history_is_404(client: TestClient, fleet: Fleet) -> None:
    response = client.get(f"/work-orders/{fleet.ids['wo_a']}/history", headers=auth(fleet.other_keys[Role.MAINTAINER]))
    assert response.status_code == 404


@pytest.mark.usefixtures("brake")
def test_crew_completes_with_parts_once(client: TestClient, fleet: Fleet) -> None:
    crew = auth(fleet.keys[Role.CREW])
    path = f"/maintenance/work-orders/{fleet.ids['wo_a']}/completion"
    first = client.post(path, json=_body("phone-1"), headers=crew)
    assert first.status_code == 200, first.text
    assert [r["kind"] for r in first.json()["records"]] == ["part_replacement", "repair"]
    again = client.post(path, json=_body("phone-1"), headers=crew)
    assert again.status_code == 200
    assert again.json()["records"] == first.json()["records"]
    other = client.post(path, json=_body("phone-2"), headers=crew)
    assert other.status_code == 409
    assert other.json()["error"] == "conflict"
    other_crew = client.post(path, json=_body("phone-3"), headers=auth(fleet.other_keys[Role.CREW]))
    assert other_crew.status_code == 404
    history = client.get(f"/work-orders/{fleet.ids['wo_a']}/history", headers=crew).json()["items"]
    assert [e["action"] for e in history] == ["opened", "updated", "completed"]
    assert history[-1]["client_at"] is not None


@pytest.mark.usefixtures("brake")
def test_a_serial_installed_elsewhere_is_409_and_nothing_is_written(
    client: TestClient, conn: Connection, fleet: Fleet
) -> None:
    spare = components.get_component_by_serial(conn, serial="BR-NEW")
    units.install_component(conn, tenant=TenantScope.internal(), unit_id=fleet.unit_b1, position="brake",
                            component_id=spare.id, at=datetime.now(UTC) - timedelta(days=1))  # fmt: skip
    conn.commit()
    response = client.post(
        f"/maintenance/work-orders/{fleet.ids['wo_a']}/completion",
        json=_body("phone-1"),
        headers=auth(fleet.keys[Role.CREW]),
    )
    assert response.status_code == 409
    assert "installed in unit B1" in response.json()["detail"]
    order = client.get(f"/work-orders/{fleet.ids['wo_a']}", headers=auth(fleet.keys[Role.ADMIN])).json()
    assert order["status"] == "assigned"
