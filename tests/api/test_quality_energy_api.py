"""The energy API: the unit's maintainer (and any telemetry reader of it) sees its classes and drift as JSON,
CSV and a plot; another maintainer sees none of it (404 on the unit), a supplier is refused."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from brain.quality.energy import run_energy
from models.access.tenancy import Role
from models.db import Connection
from tests.support.api import auth
from tests.support.fleet import Fleet
from tests.support.quality import ENERGY_NOW, ENERGY_T0, QualityFleet, seed_brakes, seed_energy


@pytest.fixture
def energy_fleet(conn: Connection, fleet: Fleet) -> QualityFleet:
    seeded = seed_brakes(conn, fleet)
    seed_energy(conn)
    run_energy(conn, since=ENERGY_T0, now=ENERGY_NOW)
    conn.commit()
    return seeded


def test_maintainer_reads_its_units_classes_and_drift(
    client: TestClient, fleet: Fleet, energy_fleet: QualityFleet
) -> None:
    key = fleet.keys[Role.MAINTAINER]
    latest = client.get("/quality/energy", headers=auth(key))
    assert latest.status_code == 200, latest.text
    rows = {r["unit_id"]: r for r in latest.json()["items"]}
    assert set(rows) == {"U01", "U02", "U03"}
    assert (rows["U01"]["running_class"], rows["U01"]["drift"]) == ("D", True)
    drifting = client.get("/quality/energy?drift=true", headers=auth(key)).json()["items"]
    assert [r["unit_id"] for r in drifting] == ["U01"]
    months = client.get("/quality/energy/units/U01?format=csv", headers=auth(key))
    assert months.status_code == 200
    assert months.text.splitlines()[0].startswith("unit_id,month,")
    assert len(months.text.splitlines()) == 7  # the header and six months
    alarms = client.get("/alarms?unit_id=U01&type=energy_drift", headers=auth(key)).json()["items"]
    assert [a["alarm_type"] for a in alarms] == ["energy_drift"]


def test_energy_plot_renders(client: TestClient, fleet: Fleet, energy_fleet: QualityFleet) -> None:
    svg = client.get("/quality/plots/energy", headers=auth(fleet.keys[Role.ADMIN]))
    assert (svg.status_code, svg.headers["content-type"]) == (200, "image/svg+xml")
    assert b"Energy classes across the fleet (3 units)" in svg.content
    png = client.get("/quality/plots/energy?format=png", headers=auth(fleet.keys[Role.ADMIN]))
    assert png.content.startswith(b"\x89PNG")


def test_other_tenants_and_suppliers_see_no_energy(
    client: TestClient, fleet: Fleet, energy_fleet: QualityFleet
) -> None:
    other = fleet.other_keys[Role.MAINTAINER]
    assert client.get("/quality/energy", headers=auth(other)).json()["items"] == []
    assert client.get("/quality/energy/units/U01", headers=auth(other)).status_code == 404
    assert client.get("/quality/energy", headers=auth(energy_fleet.keys["BAD"])).status_code == 403
    assert client.get("/quality/energy?energy_class=H", headers=auth(fleet.keys[Role.ADMIN])).status_code == 422
