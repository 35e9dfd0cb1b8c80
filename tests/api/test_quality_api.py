"""The quality API: a supplier sees its own batches only (404 elsewhere), a regulator reads its region but cannot
write, quality issues move step by step through their parties, and the issue ledger detects tampering."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from brain.jobs import quality
from models.access.tenancy import Role
from models.db import Connection
from tests.support.api import auth
from tests.support.fleet import Fleet
from tests.support.quality import AS_OF, COUNTERS_SINCE, QualityFleet, seed_brakes


@pytest.fixture
def brakes(conn: Connection, fleet: Fleet) -> QualityFleet:
    """The brake fleet with the quality job run over it."""
    seeded = seed_brakes(conn, fleet)
    quality.run(conn, now=AS_OF, counters_since=COUNTERS_SINCE)
    conn.commit()
    return seeded


def _get(client: TestClient, key: str, path: str) -> Any:
    response = client.get(path, headers=auth(key))
    assert response.status_code == 200, response.text
    return response.json()


def _alert_id(client: TestClient, fleet: Fleet) -> str:
    return str(_get(client, fleet.keys[Role.ADMIN], "/quality/alerts")["items"][0]["id"])


def test_supplier_sees_its_own_batches_only(client: TestClient, fleet: Fleet, brakes: QualityFleet) -> None:
    bad, good = brakes.keys["BAD"], brakes.keys["GOOD"]
    batches = _get(client, bad, "/quality/reliability?group=batch")["items"]
    assert [b["label"] for b in batches] == ["BAD"]
    assert batches[0]["failures"] == 3
    assert batches[0]["fleet_rate_per_mh"] == pytest.approx(1e6 / 8400)
    types = _get(client, bad, "/quality/reliability?group=component_type")["items"]
    assert [t["group_key"] for t in types] == ["brake"]  # the fleet rate it is compared against
    assert _get(client, bad, "/quality/reliability?group=model")["items"] == []
    good_batch = f"/quality/reliability/batch/{brakes.batches['GOOD']}"
    assert client.get(good_batch, headers=auth(bad)).status_code == 404
    assert client.get(good_batch, headers=auth(good)).status_code == 200
    alert_id = _alert_id(client, fleet)
    assert client.get(f"/quality/alerts/{alert_id}", headers=auth(good)).status_code == 404
    assert _get(client, good, "/quality/alerts")["items"] == []
    assert client.get("/units", headers=auth(bad)).status_code == 403


def test_supplier_sees_affected_units_down_to_site_without_customer_data(
    client: TestClient, fleet: Fleet, brakes: QualityFleet
) -> None:
    units = _get(client, brakes.keys["BAD"], f"/quality/alerts/{_alert_id(client, fleet)}/affected-units")["items"]
    assert [(u["unit_id"], u["site_name"], u["region"]) for u in units] == [("U04", "Acme Tower", "Pudong")]
    assert not {"building", "registration_code", "maintainer_id"} & set(units[0])


def test_manufacturer_sees_alerts_on_its_units_only(client: TestClient, fleet: Fleet, brakes: QualityFleet) -> None:
    alert_id = _alert_id(client, fleet)
    assert client.get(f"/quality/alerts/{alert_id}", headers=auth(fleet.keys[Role.MANUFACTURER])).status_code == 200
    other = fleet.other_keys[Role.MANUFACTURER]
    assert client.get(f"/quality/alerts/{alert_id}", headers=auth(other)).status_code == 404


def test_regulator_reads_its_region_but_cannot_write(client: TestClient, fleet: Fleet, brakes: QualityFleet) -> None:
    key = brakes.keys["regulator"]
    units = [u["id"] for u in _get(client, key, "/units?limit=100")["items"]]
    assert sorted(units) == ["A1", *(f"U{n:02d}" for n in range(1, 11))]
    assert client.get("/units/B1", headers=auth(key)).status_code == 404
    assert len(_get(client, key, "/quality/reliability?group=batch")["items"]) == 2
    body = {"alert_id": _alert_id(client, fleet), "manufacturer_id": str(fleet.ids["manufacturer_a"]), "title": "x"}
    assert client.post("/quality/issues", json=body, headers=auth(key)).status_code == 403
    record = {"kind": "inspection", "occurred_at": "2024-03-01T08:00:00Z"}
    assert client.post("/units/A1/records", json=record, headers=auth(key)).status_code == 403


def _step(client: TestClient, key: str, issue: str, step: str, **extra: Any) -> int:
    response = client.post(f"/quality/issues/{issue}/records", json={"step": step, **extra}, headers=auth(key))
    return response.status_code


def test_issue_moves_through_its_parties_and_its_ledger_detects_tampering(
    client: TestClient, conn: Connection, fleet: Fleet, brakes: QualityFleet
) -> None:
    maker, supplier = fleet.keys[Role.MANUFACTURER], brakes.keys["BAD"]
    body = {"alert_id": _alert_id(client, fleet), "manufacturer_id": str(fleet.ids["manufacturer_a"]),
            "title": "brake lining wear in lot BAD"}  # fmt: skip
    opened = client.post("/quality/issues", json=body, headers=auth(maker))
    assert opened.status_code == 201, opened.text
    issue = opened.json()["id"]
    assert client.post("/quality/issues", json=body, headers=auth(maker)).status_code == 409
    assert client.get(f"/quality/issues/{issue}", headers=auth(brakes.keys["GOOD"])).status_code == 404
    assert _step(client, maker, issue, "acknowledged") == 403  # the supplier's step
    assert _step(client, supplier, issue, "closed") == 403  # the manufacturer's
    assert _step(client, supplier, issue, "acknowledged") == 201
    assert _step(client, supplier, issue, "root_cause") == 400  # no analysis
    assert _step(client, supplier, issue, "root_cause", data={"analysis": "lining resin under-cured"}) == 201
    assert _step(client, supplier, issue, "corrective_action", data={"change": "oven profile"},
                 corrected_from="2024-02-01") == 201  # fmt: skip
    assert _step(client, maker, issue, "closed") == 409  # not verified from field data yet
    assert _step(client, maker, issue, "verified") == 400  # field data verifies, not a person
    assert _step(client, maker, issue, "reopened") == 201
    ledger = _get(client, supplier, f"/quality/issues/{issue}/records")["items"]
    assert [r["step"] for r in ledger] == ["reported", "acknowledged", "root_cause", "corrective_action", "reopened"]
    assert _get(client, fleet.keys[Role.ADMIN], f"/quality/issues/{issue}")["status"] == "reported"
    assert _get(client, supplier, f"/quality/issues/{issue}/records/verify")["intact"] is True
    conn.execute("ALTER TABLE quality_issue_records DISABLE TRIGGER quality_issue_records_append_only")
    conn.execute(
        'UPDATE quality_issue_records SET data = \'{"analysis": "operator error"}\' WHERE issue_id = %(i)s AND seq = 3',
        {"i": issue},
    )
    conn.commit()
    report = _get(client, brakes.keys["regulator"], f"/quality/issues/{issue}/records/verify")
    assert (report["intact"], report["first_broken_seq"]) == (False, 3)


@pytest.mark.parametrize("fmt", ["svg", "png"])
def test_plots_render_server_side(client: TestClient, fleet: Fleet, brakes: QualityFleet, fmt: str) -> None:
    key = fleet.keys[Role.MANUFACTURER]
    rates = client.get(f"/quality/plots/rates?group=batch&format={fmt}", headers=auth(key))
    suppliers = client.get(
        f"/quality/plots/rates?group=supplier&component_type=brake&basis=usage&format={fmt}", headers=auth(key)
    )
    weibull = client.get(f"/quality/plots/weibull/component_type/brake?format={fmt}", headers=auth(key))
    for response in (rates, suppliers, weibull):
        assert response.status_code == 200
        assert response.headers["content-type"].startswith(f"image/{fmt}")
        assert response.content.startswith(b"\x89PNG") if fmt == "png" else b"<svg" in response.content


def test_regulation_views_are_the_regulators_and_cover_its_region_only(
    client: TestClient, conn: Connection, fleet: Fleet, brakes: QualityFleet
) -> None:
    for unit_id in ("A1", "B1"):
        conn.execute(
            "INSERT INTO events (unit_id, time, received_at, code, category)"
            " VALUES (%(u)s, '2024-03-05T10:00:00Z', now(), 'entrapment', 'fault')",
            {"u": unit_id},
        )
    conn.commit()
    window = "since=2024-03-01T00:00:00Z&until=2024-04-01T00:00:00Z"
    key = brakes.keys["regulator"]
    months = _get(client, key, f"/regulation/entrapments?{window}")["items"]
    assert [(m["maintainer_name"], m["units"], m["entrapments"]) for m in months] == [("Mx", 11, 1)]
    csv = client.get(f"/regulation/entrapments?{window}&format=csv", headers=auth(key))
    assert csv.text.splitlines()[0].startswith("month,maintainer_id,maintainer_name,units,entrapments")
    overdue = client.get("/regulation/overdue?at=2024-04-01T00:00:00Z", headers=auth(key))
    assert overdue.status_code == 200
    for role in (Role.MANUFACTURER, Role.MAINTAINER):
        assert client.get(f"/regulation/entrapments?{window}", headers=auth(fleet.keys[role])).status_code == 403
    assert client.get(f"/regulation/entrapments?{window}", headers=auth(brakes.keys["BAD"])).status_code == 403


def test_fault_pareto_and_its_plot(client: TestClient, conn: Connection, fleet: Fleet, brakes: QualityFleet) -> None:
    conn.execute(
        "INSERT INTO events (unit_id, time, received_at, code, category)"
        " VALUES ('A1', '2024-03-05T10:00:00Z', now(), 'door_close_fault', 'fault'),"
        " ('B1', '2024-03-05T10:00:00Z', now(), 'door_close_fault', 'fault')"
    )
    conn.commit()
    window = "since=2024-03-01T00:00:00Z&until=2024-04-01T00:00:00Z"
    costs = _get(client, fleet.keys[Role.MANUFACTURER], f"/quality/pareto?{window}")["items"]
    assert [(c["model_name"], c["code"], c["faults"]) for c in costs] == [("Acme 1000", "door_close_fault", 1)]
    plot = client.get(
        f"/quality/plots/pareto?{window}&model_id={fleet.ids['model_a']}&format=png",
        headers=auth(fleet.keys[Role.MANUFACTURER]),
    )
    assert plot.status_code == 200
    assert plot.content.startswith(b"\x89PNG")


def test_regions_are_set_when_sites_and_regulators_are_registered(client: TestClient, fleet: Fleet) -> None:
    admin = auth(fleet.keys[Role.ADMIN])
    site = client.post("/sites", json={"name": "Lujiazui One", "region": "Pudong"}, headers=admin)
    org = client.post("/organizations", json={"name": "Pudong SAMR", "kind": "regulator", "region": "Pudong"},
                      headers=admin)  # fmt: skip
    assert (site.status_code, site.json()["region"]) == (201, "Pudong")
    assert (org.status_code, org.json()["region"]) == (201, "Pudong")
