"""The lifecycle endpoints: the merged timeline, chain verification, part replacements, exports."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

from fastapi.testclient import TestClient

from api.app import create_app
from models.access.tenancy import Role
from models.db import Connection
from models.lifecycle import checkpoints
from models.registry import components, units
from runtime.settings import Settings
from stack.mosquitto import LocalMosquitto
from tests.support.api import auth
from tests.support.fleet import FLEET_T0, PLATFORM, Fleet


def _seed_every_source(conn: Connection, fleet: Fleet) -> None:
    """Beyond the fleet's factory_build record and work order: a build, an event and a status change on A1."""
    brake = components.create_component(conn, serial="BR-1", component_type="brake", batch_id=fleet.ids["batch"])
    units.install_component(conn, tenant=PLATFORM, unit_id="A1", position="brake", component_id=brake.id, at=FLEET_T0)
    components.create_component(conn, serial="BR-2", component_type="brake", batch_id=fleet.ids["batch"])
    later = FLEET_T0 + timedelta(days=3)
    conn.execute(
        "INSERT INTO events (unit_id, time, received_at, code, category)"
        " VALUES ('A1', %s, %s, 'door_close_fault', 'fault')",
        (FLEET_T0 + timedelta(days=1), FLEET_T0 + timedelta(days=1)),
    )
    conn.execute(
        "INSERT INTO unit_status_changes (unit_id, time, received_at, state) VALUES ('A1', %s, %s, 'online')",
        (later, later),
    )
    conn.commit()


def test_timeline_merges_every_source_in_time_order(client: TestClient, conn: Connection, fleet: Fleet) -> None:
    _seed_every_source(conn, fleet)
    admin = auth(fleet.keys[Role.ADMIN])
    swap = {"position": "brake", "installed_serial": "BR-2", "occurred_at": "2024-01-03T12:00:00Z"}
    assert client.post("/units/A1/part-replacements", json=swap, headers=admin).status_code == 201
    page = client.get("/units/A1/lifecycle", headers=admin).json()
    entries = [(e["source"], e["kind"]) for e in page["items"]]
    assert {source for source, _ in entries} == {"lifecycle", "event", "work_order", "build", "status"}
    assert entries[:3] == [
        ("build", "component_installed"),
        ("lifecycle", "factory_build"),
        ("event", "door_close_fault"),
    ]
    assert ("lifecycle", "part_replacement") in entries
    assert ("build", "component_removed") in entries
    times = [e["time"] for e in page["items"]]
    assert times == sorted(times)


def test_timeline_pages_and_filters(client: TestClient, conn: Connection, fleet: Fleet) -> None:
    _seed_every_source(conn, fleet)
    admin = auth(fleet.keys[Role.ADMIN])
    first = client.get("/units/A1/lifecycle?limit=2", headers=admin).json()
    second = client.get(f"/units/A1/lifecycle?limit=2&offset={first['next_offset']}", headers=admin).json()
    whole = client.get("/units/A1/lifecycle", headers=admin).json()["items"]
    assert first["items"] + second["items"] == whole[:4]
    only_events = client.get("/units/A1/lifecycle?source=event", headers=admin).json()["items"]
    assert [e["kind"] for e in only_events] == ["door_close_fault"]


def test_part_replacement_records_removed_and_installed_serials(
    client: TestClient, conn: Connection, fleet: Fleet
) -> None:
    _seed_every_source(conn, fleet)
    crew = auth(fleet.keys[Role.CREW])
    swap = {"position": "brake", "installed_serial": "BR-2", "occurred_at": "2024-01-05T00:00:00Z"}
    record = client.post(
        "/units/A1/part-replacements", json={**swap, "work_order_id": str(fleet.ids["wo_a"])}, headers=crew
    )
    assert record.status_code == 201
    assert record.json()["data"]["removed_serial"] == "BR-1"
    history = client.get("/units/A1/positions/brake/history", headers=crew).json()["items"]
    assert [(h["serial"], h["removed_at"] is None) for h in history] == [("BR-1", False), ("BR-2", True)]
    recall = client.get(f"/traceability/recall?batch_id={fleet.ids['batch']}", headers=auth(fleet.keys[Role.ADMIN]))
    assert [(r["unit_id"], r["serial"]) for r in recall.json()["items"]] == [("A1", "BR-2")]


def test_chain_verification_detects_an_altered_record(client: TestClient, conn: Connection, fleet: Fleet) -> None:
    admin = auth(fleet.keys[Role.ADMIN])
    for day in (2, 3):
        body = {"kind": "inspection", "occurred_at": f"2024-01-0{day}T00:00:00Z", "data": {"result": "pass"}}
        assert client.post("/units/A1/records", json=body, headers=admin).status_code == 201
    assert client.get("/units/A1/records/verify", headers=admin).json()["intact"] is True
    conn.execute("SET session_replication_role = replica")
    conn.execute("UPDATE lifecycle_records SET data = '{\"result\": \"fail\"}' WHERE unit_id = 'A1' AND seq = 2")
    conn.commit()
    report = client.get("/units/A1/records/verify", headers=admin).json()
    assert report["intact"] is False
    assert report["first_broken_seq"] == 2


def test_record_actor_is_the_calling_key(client: TestClient, fleet: Fleet) -> None:
    body = {"kind": "maintenance", "occurred_at": "2024-01-02T00:00:00Z", "data": {}}
    record = client.post("/units/A1/records", json=body, headers=auth(fleet.keys[Role.MAINTAINER])).json()
    assert record["actor"].startswith("maintainer:")


def test_timeline_exports_as_csv(client: TestClient, fleet: Fleet) -> None:
    response = client.get("/units/A1/lifecycle?format=csv", headers=auth(fleet.keys[Role.ADMIN]))
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert rows[0]["kind"] == "factory_build"
    assert set(rows[0]) == {"time", "source", "kind", "ref", "detail"}


def test_work_order_etag_guards_concurrent_edits(client: TestClient, fleet: Fleet) -> None:
    admin = auth(fleet.keys[Role.ADMIN])
    path = f"/work-orders/{fleet.ids['wo_a']}"
    tag = client.get(path, headers=admin).headers["ETag"]
    moved = client.patch(path, json={"status": "in_progress"}, headers={**admin, "If-Match": tag})
    assert moved.status_code == 200
    stale = client.patch(path, json={"priority": 1}, headers={**admin, "If-Match": tag})
    assert stale.status_code == 412
    assert client.patch(path, json={"status": "verified"}, headers={**admin, "If-Match": "*"}).status_code == 409


def test_verify_checks_the_latest_signed_checkpoint(
    database_url: str, mosquitto: LocalMosquitto, conn: Connection, fleet: Fleet
) -> None:
    key = checkpoints.load_private_key(checkpoints.new_private_key())
    public = checkpoints.public_key_bytes(key).hex()
    settings = Settings(database_url=database_url, mqtt_url=mosquitto.url, checkpoint_public_key=public)
    with TestClient(create_app(settings)) as anchored:
        admin = auth(fleet.keys[Role.ADMIN])
        assert anchored.get("/checkpoints/latest", headers=admin).status_code == 404
        checkpoint = checkpoints.create_checkpoint(conn, signing_key=key)
        conn.commit()
        exported = anchored.get("/checkpoints/latest", headers=admin)
        assert exported.json()["id"] == checkpoint.id
        assert exported.json()["public_key"] == public
        others = {role: anchored.get("/checkpoints/latest", headers=auth(fleet.keys[role])).status_code
                  for role in (Role.MANUFACTURER, Role.MAINTAINER, Role.CREW)}  # fmt: skip
        assert set(others.values()) == {403}
        assert anchored.get("/units/A1/records/verify", headers=admin).json()["checkpoint_id"] == checkpoint.id
        conn.execute("SET session_replication_role = replica")
        conn.execute("DELETE FROM lifecycle_records WHERE unit_id = 'A1'")
        conn.commit()
        report = anchored.get("/units/A1/records/verify", headers=admin).json()
        assert (report["intact"], report["records"]) == (False, 0)
