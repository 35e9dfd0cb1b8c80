"""A success is a commit: when the client reads the status line, another connection already sees the change.

The requests go straight to the ASGI app, and the database is read the moment the app sends the response's
start message, before the app returns (where FastAPI used to run a `yield` dependency's commit).
"""

from __future__ import annotations

import json
from typing import LiteralString

import pytest
from fastapi.testclient import TestClient
from starlette.types import Message

from models.access.tenancy import Role
from models.db import connect
from tests.support.api import auth, send_raw
from tests.support.fleet import Fleet


def _headers(key: str, **extra: str) -> list[tuple[bytes, bytes]]:
    pairs = {**auth(key), "content-type": "application/json", **extra}
    return [(name.lower().encode(), value.encode()) for name, value in pairs.items()]


def _call_and_look(
    client: TestClient,
    database_url: str,
    method: str,
    path: str,
    headers: list[tuple[bytes, bytes]],
    body: object,
    look: LiteralString,
    look_params: tuple[object, ...] = (),
) -> tuple[int, Message, object]:
    """Send the request; at response start, run the query `look` (with `look_params`) on another connection."""
    seen: list[object] = []
    starts: list[Message] = []

    def on_start(message: Message) -> None:
        starts.append(message)
        with connect(database_url) as other:
            row = other.execute(look, look_params).fetchone()
            seen.append(None if row is None else next(iter(row.values())))

    chunks = [b""] if body is None else [json.dumps(body).encode()]
    status = send_raw(client.app, method, path, headers, chunks, on_start=on_start)
    return status, starts[0], seen[0]


def test_appended_record_is_readable_when_the_201_arrives(client: TestClient, database_url: str, fleet: Fleet) -> None:
    body = {"kind": "maintenance", "occurred_at": "2024-02-01T00:00:00Z", "data": {"items": ["brake"]}}
    status, _, count = _call_and_look(
        client, database_url, "POST", "/units/A1/records", _headers(fleet.keys[Role.MAINTAINER]), body,
        "SELECT count(*) FROM lifecycle_records WHERE unit_id = 'A1'",
    )  # fmt: skip
    assert status == 201
    assert count == 2


def test_patched_version_is_stored_when_its_etag_arrives(client: TestClient, database_url: str, fleet: Fleet) -> None:
    admin = fleet.keys[Role.ADMIN]
    path = f"/work-orders/{fleet.ids['wo_a']}"
    tag = client.get(path, headers=auth(admin)).headers["ETag"]
    status, start, version = _call_and_look(
        client, database_url, "PATCH", path, _headers(admin, **{"if-match": tag}), {"priority": 1},
        "SELECT version FROM work_orders WHERE id = %s", (fleet.ids["wo_a"],),
    )  # fmt: skip
    assert status == 200
    etag = dict(start["headers"])[b"etag"].decode()
    assert etag == f'"{version}"'
    # The next writer, holding that ETag, is not refused.
    assert client.patch(path, json={"priority": 2}, headers={**auth(admin), "If-Match": etag}).status_code == 200


@pytest.mark.parametrize("role", [Role.MAINTAINER, Role.CREW])
def test_revoked_key_is_refused_once_the_delete_returns(
    client: TestClient, database_url: str, fleet: Fleet, role: Role
) -> None:
    key = fleet.keys[role]
    assert client.get("/units/A1", headers=auth(key)).status_code == 200  # known (and cached) before revocation
    key_id = next(
        k["id"] for k in client.get("/api-keys", headers=auth(fleet.keys[Role.ADMIN])).json()["items"]
        if k["name"] == f"{role} a"
    )  # fmt: skip
    status, _, revoked = _call_and_look(
        client, database_url, "DELETE", f"/api-keys/{key_id}", _headers(fleet.keys[Role.ADMIN]), None,
        "SELECT revoked_at IS NOT NULL FROM api_keys WHERE id = %s", (key_id,),
    )  # fmt: skip
    assert status == 200
    assert revoked is True
    assert client.get("/units/A1", headers=auth(key)).status_code == 401
