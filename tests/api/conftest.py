"""The API under test: the real app (lifespan, pool) on the test's database and the session's broker."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from starlette.types import ASGIApp, Message, Scope

from api.app import create_app
from models.settings import Settings
from stack.mosquitto import LocalMosquitto


@pytest.fixture
def client(database_url: str, mosquitto: LocalMosquitto) -> Iterator[TestClient]:
    """A client of the app; pass a key per request with `auth(key)`."""
    app = create_app(Settings(database_url=database_url, mqtt_url=mosquitto.url))
    with TestClient(app) as test_client:
        yield test_client


def auth(key: str | None) -> dict[str, str]:
    """The headers that present `key` (none for an anonymous call)."""
    return {} if key is None else {"Authorization": f"Bearer {key}"}


def send_raw(app: ASGIApp, method: str, path: str, headers: list[tuple[bytes, bytes]], chunks: list[bytes]) -> int:
    """Send one request straight to the ASGI app and return its status: header bytes as a server passes them
    (TestClient re-encodes headers as UTF-8, so a latin-1 byte such as 0xB2 never reaches the app through it),
    and the body in `chunks` as a chunked transfer delivers it."""

    async def call() -> int:
        incoming: list[Message] = [
            {"type": "http.request", "body": chunk, "more_body": i < len(chunks) - 1} for i, chunk in enumerate(chunks)
        ]
        sent: list[Message] = []

        async def receive() -> Message:
            return incoming.pop(0) if incoming else {"type": "http.disconnect"}

        async def send(message: Message) -> None:
            sent.append(message)

        scope: Scope = {
            "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method, "scheme": "http",
            "path": path, "raw_path": path.encode(), "query_string": b"", "root_path": "", "headers": headers,
            "client": ("testclient", 50000), "server": ("testserver", 80),
        }  # fmt: skip
        await app(scope, receive, send)
        return int(next(m["status"] for m in sent if m["type"] == "http.response.start"))

    return asyncio.run(call())
