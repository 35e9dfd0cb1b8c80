"""`GET /dead-letters`: admin only, filtered by unit, reason and time, the raw payload as base64."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from models.access.tenancy import Role
from models.db import Connection
from models.telemetry.dead_letters import DeadLetter, Reason, insert_dead_letters
from tests.support.api import auth
from tests.support.fleet import Fleet, fleet_roles

T0 = datetime(2026, 5, 1, tzinfo=UTC)
BINARY = b"\xff\xfe\x00garbage"


@pytest.fixture
def letters(conn: Connection, fleet: Fleet) -> None:
    """Three dead letters: garbage from u1, an unknown unit, a duplicate key from u1 an hour later."""
    insert_dead_letters(conn, letters=[
        DeadLetter("lb/v1/u1/telemetry", "u1", Reason.MALFORMED, "malformed JSON", BINARY, T0),
        DeadLetter("lb/v1/ghost/telemetry", "ghost", Reason.UNKNOWN_UNIT, "unknown unit 'ghost'", b"{}", T0),
        DeadLetter("lb/v1/u1/event", "u1", Reason.DUPLICATE_KEY, "duplicate key 'ts'", b"{}", T0 + timedelta(hours=1)),
    ])  # fmt: skip
    conn.commit()


@pytest.mark.parametrize(
    ("role", "expected"), [(None, 401), *((r, 200 if r is Role.ADMIN else 403) for r in fleet_roles())]
)
def test_only_admins_read_dead_letters(client: TestClient, fleet: Fleet, role: Role | None, expected: int) -> None:
    key = None if role is None else fleet.keys[role]
    assert client.get("/dead-letters", headers=auth(key)).status_code == expected


def test_payload_is_returned_as_base64(client: TestClient, fleet: Fleet, letters: None) -> None:
    body = client.get("/dead-letters", params={"reason": "malformed"}, headers=auth(fleet.keys[Role.ADMIN])).json()
    assert [base64.b64decode(item["payload"]) for item in body["items"]] == [BINARY]
    assert body["items"][0]["reason_code"] == "malformed"


@pytest.mark.parametrize(
    ("params", "topics"),
    [
        ({}, ["lb/v1/u1/event", "lb/v1/ghost/telemetry", "lb/v1/u1/telemetry"]),
        ({"unit_id": "u1"}, ["lb/v1/u1/event", "lb/v1/u1/telemetry"]),
        ({"reason": "unknown_unit"}, ["lb/v1/ghost/telemetry"]),
        ({"since": "2026-05-01T00:30:00Z"}, ["lb/v1/u1/event"]),
        ({"until": "2026-05-01T08:30:00+08:00"}, ["lb/v1/ghost/telemetry", "lb/v1/u1/telemetry"]),
    ],
)
def test_filters(client: TestClient, fleet: Fleet, letters: None, params: dict[str, str], topics: list[str]) -> None:
    response = client.get("/dead-letters", params=params, headers=auth(fleet.keys[Role.ADMIN]))
    assert response.status_code == 200, response.text
    assert sorted(item["topic"] for item in response.json()["items"]) == sorted(topics)


@pytest.mark.parametrize("params", [{"reason": "bogus"}, {"since": "2026-05-01T00:00:00"}, {"unit_id": "a b"}])
def test_bad_filters_are_422(client: TestClient, fleet: Fleet, params: dict[str, str]) -> None:
    assert client.get("/dead-letters", params=params, headers=auth(fleet.keys[Role.ADMIN])).status_code == 422
