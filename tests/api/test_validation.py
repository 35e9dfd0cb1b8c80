"""Bad input answers 4xx with a clear message, never 500."""

from __future__ import annotations

import csv
import io

import pytest
from fastapi.testclient import TestClient

from models.access.tenancy import Role
from models.db import Connection
from tests.support.api import auth, send_raw
from tests.support.fleet import Fleet


@pytest.mark.parametrize(
    ("method", "path", "body", "status"),
    [
        ("POST", "/sites", {"name": "a\u0000b"}, 422),
        ("POST", "/sites", {"name": "x", "extra": 1}, 422),
        ("POST", "/unit-models", {"manufacturer_id": "nope", "name": "m", "capacity_kg": 1, "rated_speed_mps": 1,
                                  "drive_type": "mrl"}, 422),
        ("POST", "/units", {"id": "bad id!", "serial": "s", "registration_code": "r",
                            "model_id": "00000000-0000-0000-0000-000000000000", "floors": 5}, 422),
        ("POST", "/units", {"id": "U9", "serial": "s", "registration_code": "r",
                            "model_id": "00000000-0000-0000-0000-000000000000", "floors": "5"}, 422),
        ("POST", "/units", {"id": "U9", "serial": "s", "registration_code": "r",
                            "model_id": "00000000-0000-0000-0000-000000000000", "floors": 5}, 404),
        ("POST", "/units/A1/records", {"kind": "fault", "occurred_at": "2024-01-01T00:00:00"}, 422),
        ("POST", "/units/A1/records", {"kind": "fault", "occurred_at": "2024-01-01T00:00:00Z",
                                       "data": {"deep": [[[[[[[[[[1]]]]]]]]]]}}, 422),
        ("POST", "/units/A1/records", {"kind": "part_replacement", "occurred_at": "2024-01-01T00:00:00Z"}, 400),
        ("GET", "/units?limit=99999999999999999999999", None, 422),
        ("GET", "/units/not%20an%20id", None, 422),
        ("GET", "/crews/not-a-uuid", None, 422),
        ("GET", "/units/A1/telemetry?since=2024-01-02T00:00:00Z&until=2024-01-01T00:00:00Z", None, 400),
        ("GET", "/units/A1/telemetry?since=2000-01-01T00:00:00Z&until=2024-01-01T00:00:00Z&bucket=1m", None, 400),
        ("GET", "/traceability/recall", None, 400),
        ("POST", "/organizations", {"name": "Platform", "kind": "owner"}, 409),
        ("PATCH", "/units/A1", {"floors": 4}, 200),
        ("PATCH", "/units/A1", {}, 400),
    ],
)  # fmt: skip
def test_bad_input_is_refused_with_a_message(
    client: TestClient, fleet: Fleet, method: str, path: str, body: object, status: int
) -> None:
    headers = {**auth(fleet.keys[Role.ADMIN]), "If-Match": "*"}
    response = client.request(method, path, json=body, headers=headers)
    assert response.status_code == status, response.text
    if status >= 400:
        assert response.json()["detail"]


def test_nan_in_record_data_is_refused(client: TestClient, fleet: Fleet) -> None:
    content = b'{"kind": "fault", "occurred_at": "2024-01-01T00:00:00Z", "data": {"x": NaN}}'
    response = client.post(
        "/units/A1/records",
        content=content,
        headers={**auth(fleet.keys[Role.ADMIN]), "Content-Type": "application/json"},
    )
    assert response.status_code == 422


def test_stale_unit_etag_is_refused(client: TestClient, fleet: Fleet) -> None:
    admin = auth(fleet.keys[Role.ADMIN])
    tag = client.get("/units/A1", headers=admin).headers["ETag"]
    assert client.patch("/units/A1", json={"floors": 20}, headers={**admin, "If-Match": tag}).status_code == 200
    assert client.patch("/units/A1", json={"floors": 21}, headers={**admin, "If-Match": tag}).status_code == 412


def test_work_order_etag_of_non_ascii_digits_is_refused(client: TestClient, fleet: Fleet) -> None:
    # 0xB2 is "²" in latin-1: str.isdigit() accepts it, int() does not.
    headers = [
        (b"authorization", f"Bearer {fleet.keys[Role.ADMIN]}".encode()),
        (b"content-type", b"application/json"),
        (b"if-match", b'"\xb2"'),
    ]
    path = f"/work-orders/{fleet.ids['wo_a']}"
    assert send_raw(client.app, "PATCH", path, headers, [b'{"priority": 1}']) == 412


def test_content_length_of_non_ascii_digits_is_refused(client: TestClient, fleet: Fleet) -> None:
    headers = [
        (b"authorization", f"Bearer {fleet.keys[Role.ADMIN]}".encode()),
        (b"content-type", b"application/json"),
        (b"content-length", b"\xb2"),
    ]
    assert send_raw(client.app, "POST", "/sites", headers, [b'{"name": "x"}']) == 413


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/units/A1/telemetry?until=0001-01-01T00:00:00Z", 422),
        ("/units/A1/telemetry?since=0&until=1", 422),
        ("/units/A1/telemetry?since=2024-01-01T00:00:00&until=2024-01-02T00:00:00Z", 422),
        ("/units/A1/lifecycle?since=9999-01-01T00:00:00Z", 422),
        ("/units/A1/telemetry?since=2024-01-01T00:00:00Z&until=2024-01-02T00:00:00Z", 200),
    ],
)
def test_query_times_are_bounded(client: TestClient, fleet: Fleet, path: str, status: int) -> None:
    assert client.get(path, headers=auth(fleet.keys[Role.ADMIN])).status_code == status


def test_records_cannot_be_dated_in_the_future(client: TestClient, fleet: Fleet) -> None:
    body = {"kind": "fault", "occurred_at": "2099-01-01T00:00:00Z"}
    response = client.post("/units/A1/records", json=body, headers=auth(fleet.keys[Role.ADMIN]))
    assert response.status_code == 422


@pytest.mark.parametrize(
    ("path", "body", "status", "leak"),
    [
        ("/organizations", {"name": "Platform", "kind": "owner"}, 409, "Key ("),
        ("/units", {"id": "A1", "serial": "SN-new", "registration_code": "R-new", "model_id": "{model_a}",
                    "floors": 5}, 409, "Key ("),
        ("/units", {"id": "N2", "serial": "SN-n2", "registration_code": "R-n2", "model_id": "{model_a}", "floors": 5,
                    "site_id": "00000000-0000-0000-0000-000000000000"}, 404, "not present in table"),
        ("/crews", {"maintainer_id": "00000000-0000-0000-0000-000000000000", "name": "x"}, 404, "Key ("),
    ],
)  # fmt: skip
def test_database_refusals_do_not_echo_rows(
    client: TestClient, fleet: Fleet, path: str, body: dict[str, object], status: int, leak: str
) -> None:
    filled = {k: v.format(model_a=fleet.ids["model_a"]) if isinstance(v, str) else v for k, v in body.items()}
    response = client.post(path, json=filled, headers=auth(fleet.keys[Role.ADMIN]))
    assert response.status_code == status
    detail = response.json()["detail"]
    assert leak not in detail
    assert "Failing row" not in detail
    assert "(" not in detail or status == 404


@pytest.mark.parametrize("unit_id", ["..", ".hidden", "-x", "_x"])
def test_unit_ids_start_with_a_letter_or_digit(client: TestClient, fleet: Fleet, unit_id: str) -> None:
    body = {"id": unit_id, "serial": "s", "registration_code": "r", "model_id": str(fleet.ids["model_a"]), "floors": 5}
    assert client.post("/units", json=body, headers=auth(fleet.keys[Role.ADMIN])).status_code == 422


def test_csv_guards_text_but_keeps_numbers(client: TestClient, conn: Connection, fleet: Fleet) -> None:
    conn.execute(
        "INSERT INTO telemetry (unit_id, time, received_at, speed_mps, levelling_error_mm)"
        " VALUES ('A1', '2024-01-01T00:00:10Z', now(), -0.5, 1.0)"
    )
    conn.commit()
    path = "/units/A1/telemetry?since=2024-01-01T00:00:00Z&until=2024-01-01T01:00:00Z&format=csv"
    rows = list(csv.DictReader(io.StringIO(client.get(path, headers=auth(fleet.keys[Role.ADMIN])).text)))
    assert rows[0]["speed_mps_avg"] == "-0.5"
    record = {"kind": "fault", "occurred_at": "2024-01-02T00:00:00Z", "data": {"note": "=HYPERLINK(1)"}}
    assert client.post("/units/A1/records", json=record, headers=auth(fleet.keys[Role.ADMIN])).status_code == 201
    timeline = client.get("/units/A1/lifecycle?format=csv&source=lifecycle", headers=auth(fleet.keys[Role.ADMIN]))
    cells = [row["kind"] for row in csv.DictReader(io.StringIO(timeline.text))]
    assert cells == ["factory_build", "fault"]
    assert all(not row["detail"].startswith(("=", "+", "-", "@")) for row in csv.DictReader(io.StringIO(timeline.text)))
