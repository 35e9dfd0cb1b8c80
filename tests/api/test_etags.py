"""Mutable resources: a change needs If-Match (428 without), compared strongly against a version (RFC 9110)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from models.access.tenancy import Role
from models.db import Connection
from tests.support.api import auth
from tests.support.fleet import Fleet


@pytest.fixture
def admin(fleet: Fleet) -> dict[str, str]:
    """The admin's headers."""
    return auth(fleet.keys[Role.ADMIN])


def _paths(fleet: Fleet) -> list[tuple[str, dict[str, object]]]:
    return [("/units/A1", {"floors": 14}), (f"/work-orders/{fleet.ids['wo_a']}", {"priority": 2})]


def test_a_change_without_if_match_is_refused_with_428(client: TestClient, fleet: Fleet, admin: dict[str, str]) -> None:
    for path, body in _paths(fleet):
        response = client.patch(path, json=body, headers=admin)
        assert (response.status_code, response.json()["error"]) == (428, "precondition_required")


@pytest.mark.parametrize(
    ("if_match", "status"),
    [
        ('"999", {current}', 200),  # a list naming the current version
        ("{current}", 200),
        ("*", 200),
        ("W/{current}", 412),  # If-Match compares strongly: a weak tag never matches
        ('"999"', 412),
        ('"99999999999999999999"', 412),  # beyond any stored version: no match, not a server error
        ('"abc", {current}', 200),  # a tag that is no version of ours does not spoil the list
        ('"1" "2"', 412),  # not a list
        ("garbage", 412),
    ],
)
def test_if_match_takes_a_strong_etag_list(
    client: TestClient, fleet: Fleet, admin: dict[str, str], if_match: str, status: int
) -> None:
    for path, body in _paths(fleet):
        current = client.get(path, headers=admin).headers["ETag"]
        headers = {**admin, "If-Match": if_match.format(current=current)}
        assert client.patch(path, json=body, headers=headers).status_code == status, path


def test_unit_etag_ignores_presence_and_follows_changes(
    client: TestClient, conn: Connection, fleet: Fleet, admin: dict[str, str]
) -> None:
    before = client.get("/units/A1", headers=admin).headers["ETag"]
    conn.execute("UPDATE units SET online = true, last_seen = now(), updated_at = now() WHERE id = 'A1'")
    conn.commit()
    assert client.get("/units/A1", headers=admin).headers["ETag"] == before
    changed = client.patch("/units/A1", json={"floors": 15}, headers={**admin, "If-Match": before})
    assert changed.status_code == 200
    assert changed.headers["ETag"] != before
    assert client.get("/units/A1", headers=admin).headers["ETag"] == changed.headers["ETag"]
    record = {"kind": "decommission", "occurred_at": "2024-02-01T00:00:00Z"}
    assert client.post("/units/A1/records", json=record, headers=admin).status_code == 201
    assert client.get("/units/A1", headers=admin).headers["ETag"] != changed.headers["ETag"]  # the status moved
