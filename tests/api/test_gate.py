"""The gate: 401 before anything else, 429 over a key's rate, 503 when saturated or the pool is exhausted;
and one error shape (with nosniff) for every answer, unknown routes and wrong methods included."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from types import SimpleNamespace

import pytest
from fastapi.testclient import TestClient
from psycopg_pool import ConnectionPool
from starlette.types import Message, Receive, Scope, Send

from api.app import create_app
from api.auth import KeyCache
from api.gate import Gate, Limits
from models.access.tenancy import Role
from models.db import Connection, open_pool
from runtime.settings import Settings
from stack.mosquitto import LocalMosquitto
from tests.support.api import auth
from tests.support.console import sign_in
from tests.support.fleet import Fleet


def test_anonymous_is_refused_before_the_body_is_parsed(client: TestClient, fleet: Fleet) -> None:
    response = client.post("/units/A1/records", content=b"{not json", headers={"Content-Type": "application/json"})
    assert response.status_code == 401
    assert response.json()["error"] == "unauthorized"


@pytest.mark.parametrize(
    ("method", "path", "status", "error"),
    [
        ("GET", "/no/such/route", 404, "not_found"),
        ("DELETE", "/units", 405, "method_not_allowed"),
        ("POST", "/units", 422, "validation_error"),
        ("GET", "/units/A1/telemetry?bucket=7m", 422, "validation_error"),
    ],
)
def test_every_error_has_the_one_shape(
    client: TestClient, fleet: Fleet, method: str, path: str, status: int, error: str
) -> None:
    content = b"{broken" if method == "POST" else None
    headers = {**auth(fleet.keys[Role.ADMIN]), "Content-Type": "application/json"}
    response = client.request(method, path, content=content, headers=headers)
    assert response.status_code == status
    assert response.json()["error"] == error
    assert response.json()["detail"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_anonymous_unknown_route_is_unauthorized(client: TestClient) -> None:
    response = client.get("/no/such/route")
    assert (response.status_code, response.json()["error"]) == (401, "unauthorized")
    assert response.headers["X-Content-Type-Options"] == "nosniff"


@pytest.fixture
def slow_rate_client(database_url: str, mosquitto: LocalMosquitto) -> Iterator[TestClient]:
    """The app with a tiny per-key rate: a burst of 3, then one request every 100 s."""
    settings = Settings(database_url=database_url, mqtt_url=mosquitto.url)
    app = create_app(settings, limits=Limits(rate_per_s=0.01, burst=3))
    with TestClient(app) as test_client:
        yield test_client


def test_a_key_over_its_rate_gets_429_and_other_keys_do_not(slow_rate_client: TestClient, fleet: Fleet) -> None:
    maintainer = auth(fleet.keys[Role.MAINTAINER])
    statuses = [slow_rate_client.get("/units/A1", headers=maintainer).status_code for _ in range(5)]
    assert statuses[:3] == [200, 200, 200]
    assert statuses[3:] == [429, 429]
    refused = slow_rate_client.get("/units/A1", headers=maintainer)
    assert refused.json()["error"] == "too_many_requests"
    assert int(refused.headers["Retry-After"]) >= 1
    assert slow_rate_client.get("/units/A1", headers=auth(fleet.keys[Role.ADMIN])).status_code == 200


def test_a_console_session_shares_its_keys_rate(slow_rate_client: TestClient, fleet: Fleet) -> None:
    assert sign_in(slow_rate_client, fleet.keys[Role.MAINTAINER]).status_code == 303  # not signed in yet: no charge
    statuses = [slow_rate_client.get("/console/fleet").status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    refused = slow_rate_client.get("/console/fleet")
    assert refused.headers["content-type"].startswith("text/html")  # the console's own error page
    assert int(refused.headers["Retry-After"]) >= 1
    api = slow_rate_client.get("/units/A1", headers=auth(fleet.keys[Role.MAINTAINER]))
    assert api.status_code == 429  # the same key through the API: the same bucket
    slow_rate_client.cookies.clear()
    assert slow_rate_client.get("/console/sign-in").status_code == 200  # a visitor signing in is not that key


def test_exhausted_pool_answers_503(client: TestClient, fleet: Fleet) -> None:
    admin = auth(fleet.keys[Role.ADMIN])
    assert client.get("/units/A1", headers=admin).status_code == 200  # the key is now cached
    pool: ConnectionPool[Connection] = client.app.state.pool  # type: ignore[attr-defined]
    held = [pool.getconn() for _ in range(pool.max_size)]
    try:
        response = client.get("/units/A1", headers=admin)
    finally:
        for conn in held:
            pool.putconn(conn)
    assert (response.status_code, response.json()["error"]) == (503, "service_unavailable")
    assert response.headers["Retry-After"] == "1"


def _scope(pool: ConnectionPool[Connection], key: str) -> Scope:
    return {
        "type": "http", "method": "GET", "path": "/units", "headers": [(b"authorization", f"Bearer {key}".encode())],
        "app": SimpleNamespace(state=SimpleNamespace(pool=pool)),
    }  # fmt: skip


def test_saturated_gate_answers_503_at_once(database_url: str, fleet: Fleet) -> None:
    """Two requests in flight hold the only slots; a third is refused at once instead of queueing."""

    async def scenario(pool: ConnectionPool[Connection]) -> list[int]:
        release = asyncio.Event()
        entered = 0

        async def inner(_scope: Scope, _receive: Receive, send: Send) -> None:
            nonlocal entered
            entered += 1
            await release.wait()
            await send({"type": "http.response.start", "status": 200, "headers": []})
            await send({"type": "http.response.body", "body": b""})

        gate = Gate(inner, keys=KeyCache(), limits=Limits(max_in_flight=2))
        statuses: list[int] = []

        async def call() -> None:
            async def receive() -> Message:
                return {"type": "http.request", "body": b"", "more_body": False}

            async def send(message: Message) -> None:
                if message["type"] == "http.response.start":
                    statuses.append(int(message["status"]))

            await gate(_scope(pool, fleet.keys[Role.ADMIN]), receive, send)

        first = [asyncio.create_task(call()) for _ in range(2)]
        while entered < 2:
            await asyncio.sleep(0.01)
        await call()  # answered while the first two are still in flight
        refused = list(statuses)
        release.set()
        await asyncio.gather(*first)
        await call()  # room again
        return [*refused, *statuses[len(refused) :]]

    with open_pool(database_url) as pool:
        assert asyncio.run(scenario(pool)) == [503, 200, 200, 200]


def test_key_lookup_on_an_exhausted_pool_answers_503(database_url: str, fleet: Fleet) -> None:
    async def call(pool: ConnectionPool[Connection]) -> list[Message]:
        sent: list[Message] = []

        async def inner(_scope: Scope, _receive: Receive, _send: Send) -> None:
            raise AssertionError("not admitted")

        async def receive() -> Message:
            return {"type": "http.request", "body": b"", "more_body": False}

        async def send(message: Message) -> None:
            sent.append(message)

        await Gate(inner, keys=KeyCache(), limits=Limits())(_scope(pool, fleet.keys[Role.ADMIN]), receive, send)
        return sent

    with open_pool(database_url, max_size=1) as pool, pool.connection():
        sent = asyncio.run(call(pool))
    assert sent[0]["status"] == 503
    assert (b"retry-after", b"1") in sent[0]["headers"]
