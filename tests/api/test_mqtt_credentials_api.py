"""Device credentials over the API: the admin and the unit's manufacturer issue, rotate and revoke; the
password is in the issuing response only; another make's unit is not found."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from models.access.tenancy import Role
from tests.support.api import auth
from tests.support.fleet import Fleet

# Who may issue a unit's credential: the admin and the unit's manufacturer; every other role is refused.
ISSUERS = {Role.ADMIN, Role.MANUFACTURER}
SEEDED = (Role.ADMIN, Role.MANUFACTURER, Role.MAINTAINER, Role.CREW, Role.DEVICE)
ISSUE_EXPECTED = [(None, 401)] + [(role, 201 if role in ISSUERS else 403) for role in SEEDED]


@pytest.mark.parametrize(("caller", "expected"), ISSUE_EXPECTED)
def test_who_may_issue_a_units_credential(client: TestClient, fleet: Fleet, caller: Role | None, expected: int) -> None:
    key = None if caller is None else fleet.keys[caller]
    assert client.post(f"/units/{fleet.unit_a1}/mqtt-credentials", headers=auth(key)).status_code == expected


def test_the_password_is_shown_once_and_the_device_can_be_rotated_and_revoked(client: TestClient, fleet: Fleet) -> None:
    maker = auth(fleet.keys[Role.MANUFACTURER])
    issued = client.post(f"/units/{fleet.unit_a1}/mqtt-credentials", headers=maker).json()
    credential = issued["credential"]
    assert issued["client_id"] == credential["username"]
    assert len(issued["password"]) >= 40
    listed = client.get(f"/units/{fleet.unit_a1}/mqtt-credentials", headers=maker).json()["items"]
    assert [c["id"] for c in listed] == [credential["id"]]
    assert "password" not in listed[0]
    rotated = client.post(f"/mqtt-credentials/{credential['id']}/rotate", headers=maker)
    assert rotated.status_code == 201
    assert rotated.json()["credential"]["username"] != credential["username"]
    revoked = client.delete(f"/mqtt-credentials/{credential['id']}", headers=maker)
    assert revoked.status_code == 200
    assert revoked.json()["revoked_at"] is not None


def test_another_makes_unit_and_credentials_are_not_found(client: TestClient, fleet: Fleet) -> None:
    theirs = client.post(f"/units/{fleet.unit_b1}/mqtt-credentials", headers=auth(fleet.keys[Role.ADMIN])).json()
    maker = auth(fleet.keys[Role.MANUFACTURER])
    assert client.post(f"/units/{fleet.unit_b1}/mqtt-credentials", headers=maker).status_code == 404
    assert client.get(f"/units/{fleet.unit_b1}/mqtt-credentials", headers=maker).json()["items"] == []
    assert client.delete(f"/mqtt-credentials/{theirs['credential']['id']}", headers=maker).status_code == 404
    assert client.post(f"/mqtt-credentials/{theirs['credential']['id']}/rotate", headers=maker).status_code == 404
