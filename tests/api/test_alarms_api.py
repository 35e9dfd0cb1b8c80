"""`/alarms` over HTTP: the role table, tenancy (404 across tenants), filters, CSV export, history, If-Match."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import pytest
from fastapi.testclient import TestClient

from models.access.tenancy import Role
from models.db import Connection
from models.monitoring.alarms import Alarm, Severity, raise_alarm
from tests.support.api import auth
from tests.support.fleet import Fleet, fleet_roles

ANON = "anonymous"
CALLERS: tuple[str, ...] = (ANON, *fleet_roles())
T0 = datetime(2026, 11, 1, 8, 0, tzinfo=UTC)

# Expected statuses in CALLERS order: anonymous, admin, manufacturer, maintainer, crew, device.
READ = (401, 200, 200, 200, 200, 403)
ACT = (401, 200, 403, 200, 200, 403)
ROUTES: list[tuple[str, str, dict[str, Any] | None, tuple[int, ...]]] = [
    ("GET", "/alarms", None, READ),
    ("GET", "/alarms?format=csv&state=open", None, READ),
    ("GET", "/alarms/{alarm}", None, READ),
    ("POST", "/alarms/{alarm}/acknowledge", {"reason": "on it"}, ACT),
    ("POST", "/alarms/{alarm}/assign", {"crew_id": "{crew_a}"}, ACT),
    ("POST", "/alarms/{alarm}/comments", {"text": "door rollers look worn"}, ACT),
    ("POST", "/alarms/{alarm}/clear", {"reason": "rollers replaced"}, ACT),
]
OTHER_TENANT: list[tuple[str, str, dict[str, Any] | None]] = [
    ("GET", "/alarms/{alarm_b}", None),
    ("POST", "/alarms/{alarm_b}/acknowledge", {}),
    ("POST", "/alarms/{alarm_b}/comments", {"text": "x"}),
    ("POST", "/alarms/{alarm_b}/clear", {"reason": "x"}),
]


def _raise(conn: Connection, unit_id: str, alarm_type: str, severity: Severity = Severity.MAJOR, **kw: Any) -> Alarm:
    at = kw.pop("at", T0)
    return raise_alarm(
        conn, unit_id=unit_id, alarm_type=alarm_type, severity=severity, component_type=None, source="test",
        reason="seen", evidence={}, at=at,
    )  # fmt: skip


def _fill(value: Any, names: dict[str, str]) -> Any:
    if isinstance(value, str):
        return value.format_map(names)
    if isinstance(value, dict):
        return {key: _fill(item, names) for key, item in value.items()}
    return value


@pytest.fixture
def alarm_fleet(conn: Connection, fleet: Fleet) -> Fleet:
    """The fleet with one alarm on B1 and, per caller, an open alarm of its own on A1."""
    fleet.ids["alarm_b"] = _raise(conn, fleet.unit_b1, "entrapment", Severity.CRITICAL).id
    for caller in CALLERS:
        fleet.ids[f"alarm_{caller}"] = _raise(conn, fleet.unit_a1, f"t_{caller}").id
    conn.commit()
    return fleet


def _names(fleet: Fleet, caller: str) -> dict[str, str]:
    return {**{k: str(v) for k, v in fleet.ids.items()}, "alarm": str(fleet.ids[f"alarm_{caller}"])}


@pytest.mark.parametrize(("method", "path", "body", "expected"), ROUTES, ids=[f"{r[0]} {r[1]}" for r in ROUTES])
def test_alarm_route_enforces_role_scopes(
    client: TestClient, alarm_fleet: Fleet, method: str, path: str, body: dict[str, Any] | None,
    expected: tuple[int, ...],
) -> None:  # fmt: skip
    got = {}
    for caller in CALLERS:
        names = _names(alarm_fleet, caller)
        key = None if caller == ANON else alarm_fleet.keys[Role(caller)]
        response = client.request(method, path.format_map(names), json=_fill(body, names), headers=auth(key))
        got[caller] = response.status_code
    assert got == dict(zip(CALLERS, expected, strict=True))


@pytest.mark.parametrize(("method", "path", "body"), OTHER_TENANT, ids=[f"{r[0]} {r[1]}" for r in OTHER_TENANT])
def test_another_tenants_alarm_is_not_found(
    client: TestClient, alarm_fleet: Fleet, method: str, path: str, body: dict[str, Any] | None
) -> None:
    roles = (Role.MANUFACTURER, Role.MAINTAINER, Role.CREW)
    names = _names(alarm_fleet, "admin")
    got = {
        role: client.request(
            method, path.format_map(names), json=body, headers=auth(alarm_fleet.keys[role])
        ).status_code
        for role in roles
    }
    expected = {role: 404 for role in roles}
    if method != "GET":  # a manufacturer may not act at all: refused before tenancy is looked at
        expected[Role.MANUFACTURER] = 403
    assert got == expected


def test_lists_show_only_the_callers_units(client: TestClient, alarm_fleet: Fleet) -> None:
    seen = {}
    for role in (Role.ADMIN, Role.MANUFACTURER, Role.MAINTAINER, Role.CREW):
        items = client.get("/alarms", headers=auth(alarm_fleet.keys[role])).json()["items"]
        seen[role] = {item["unit_id"] for item in items}
    assert seen == {
        Role.ADMIN: {"A1", "B1"},
        Role.MANUFACTURER: {"A1"},
        Role.MAINTAINER: {"A1"},
        Role.CREW: {"A1"},
    }


def test_filters_and_pages(client: TestClient, conn: Connection, fleet: Fleet) -> None:
    _raise(conn, fleet.unit_a1, "door_close_fault", at=T0)
    _raise(conn, fleet.unit_a1, "overspeed", Severity.CRITICAL, at=T0 + timedelta(hours=2))
    _raise(conn, fleet.unit_b1, "door_close_fault", at=T0 + timedelta(hours=1))
    conn.commit()
    headers = auth(fleet.keys[Role.ADMIN])

    def types(query: str) -> list[tuple[str, str]]:
        response = client.get(f"/alarms?{query}", headers=headers)
        assert response.status_code == 200, response.text
        return [(a["unit_id"], a["alarm_type"]) for a in response.json()["items"]]

    assert types("") == [("A1", "overspeed"), ("B1", "door_close_fault"), ("A1", "door_close_fault")]
    assert types("severity=critical") == [("A1", "overspeed")]
    assert types("type=door_close_fault&unit_id=B1") == [("B1", "door_close_fault")]
    assert types("since=2026-11-01T08:30:00Z") == [("A1", "overspeed"), ("B1", "door_close_fault")]
    assert types("state=cleared") == []
    page = client.get("/alarms?limit=2", headers=headers).json()
    assert (len(page["items"]), page["next_offset"]) == (2, 2)
    assert client.get("/alarms?severity=urgent", headers=headers).status_code == 422
    assert client.get("/alarms?since=2026-11-01T08:30:00", headers=headers).status_code == 422


def test_csv_export_has_one_row_per_alarm(client: TestClient, conn: Connection, fleet: Fleet) -> None:
    for n in range(3):
        _raise(conn, fleet.unit_a1, f"type_{n}", at=T0 + timedelta(minutes=n))
    conn.commit()
    response = client.get("/alarms?format=csv&limit=2", headers=auth(fleet.keys[Role.MAINTAINER]))
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert response.headers["x-next-offset"] == "2"
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert [row["alarm_type"] for row in rows] == ["type_2", "type_1"]
    assert set(rows[0]) == set(Alarm.model_fields)


def test_an_alarm_comes_with_its_history(client: TestClient, alarm_fleet: Fleet) -> None:
    alarm_id: UUID = alarm_fleet.ids["alarm_maintainer"]
    headers = auth(alarm_fleet.keys[Role.MAINTAINER])
    acked = client.post(f"/alarms/{alarm_id}/acknowledge", json={"reason": "crew sent"}, headers=headers)
    assert acked.status_code == 200
    assert acked.headers["etag"] == '"2"'
    assert client.post(f"/alarms/{alarm_id}/acknowledge", json={}, headers=headers).status_code == 409
    stale = client.post(f"/alarms/{alarm_id}/clear", json={"reason": "x"}, headers={**headers, "If-Match": '"1"'})
    assert stale.status_code == 412
    cleared = client.post(
        f"/alarms/{alarm_id}/clear", json={"reason": "fixed"}, headers={**headers, "If-Match": '"7", "2"'}
    )
    assert cleared.json()["state"] == "cleared"
    detail = client.get(f"/alarms/{alarm_id}", headers=headers).json()
    assert detail["alarm"]["state"] == "cleared"
    assert [(h["action"], h["reason"]) for h in detail["history"]["items"]] == [
        ("opened", "seen"),
        ("acknowledged", "crew sent"),
        ("cleared", "fixed"),
    ]
    assert detail["history"]["items"][1]["actor"].startswith("maintainer:")


def test_a_crew_takes_an_alarm_only_on_itself(client: TestClient, alarm_fleet: Fleet) -> None:
    alarm_id = alarm_fleet.ids["alarm_crew"]
    headers = auth(alarm_fleet.keys[Role.CREW])
    other = client.post(f"/alarms/{alarm_id}/assign", json={"crew_id": str(alarm_fleet.ids["crew_b"])}, headers=headers)
    assert other.status_code == 404
    own = client.post(f"/alarms/{alarm_id}/assign", json={"crew_id": str(alarm_fleet.ids["crew_a"])}, headers=headers)
    assert own.json()["assignee_crew_id"] == str(alarm_fleet.ids["crew_a"])


def test_bad_bodies_are_refused_with_422(client: TestClient, alarm_fleet: Fleet) -> None:
    alarm_id = alarm_fleet.ids["alarm_admin"]
    headers = auth(alarm_fleet.keys[Role.ADMIN])
    assert client.post(f"/alarms/{alarm_id}/clear", json={}, headers=headers).status_code == 422
    assert client.post(f"/alarms/{alarm_id}/comments", json={"text": "a\x00b"}, headers=headers).status_code == 422
    assert client.post(f"/alarms/{alarm_id}/assign", json={"crew_id": "x"}, headers=headers).status_code == 422
    assert client.get("/alarms/not-a-uuid", headers=headers).status_code == 422
