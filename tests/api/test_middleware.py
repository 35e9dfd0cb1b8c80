"""The body limit (declared and chunked bodies) and the request metrics."""

from __future__ import annotations

from fastapi.testclient import TestClient
from starlette.types import ASGIApp

from models.access.tenancy import Role
from tests.support.api import auth, send_raw
from tests.support.fleet import Fleet

LIMIT = 1 << 20


def _chunked_status(app: ASGIApp, key: str, chunks: list[bytes]) -> int:
    """POST /sites with the body in chunks and no Content-Length, as a chunked transfer arrives at the app."""
    headers = [(b"authorization", f"Bearer {key}".encode()), (b"content-type", b"application/json"),
               (b"transfer-encoding", b"chunked")]  # fmt: skip
    return send_raw(app, "POST", "/sites", headers, chunks)


def test_declared_oversize_body_is_refused_before_it_is_read(client: TestClient, fleet: Fleet) -> None:
    response = client.post("/sites", content=b" " * (LIMIT + 1), headers=auth(fleet.keys[Role.ADMIN]))
    assert (response.status_code, response.json()["error"]) == (413, "payload_too_large")


def test_chunked_oversize_body_is_refused_as_it_streams(client: TestClient, fleet: Fleet) -> None:
    chunks = [b'{"name": "' + b"x" * (LIMIT // 2)] + [b"x" * (LIMIT // 2)] * 2 + [b'"}']
    assert _chunked_status(client.app, fleet.keys[Role.ADMIN], chunks) == 413


def test_chunked_body_within_the_limit_is_accepted(client: TestClient, fleet: Fleet) -> None:
    assert _chunked_status(client.app, fleet.keys[Role.ADMIN], [b'{"name": "Tower ', b'A", "city": "Oslo"}']) == 201


def test_requests_are_counted_per_route_template(client: TestClient, fleet: Fleet) -> None:
    client.get(f"/units/{fleet.unit_a1}", headers=auth(fleet.keys[Role.ADMIN]))
    body = client.get("/metrics").text
    assert 'liftbrain_api_requests_total{method="GET",route="/units/{unit_id}",status="200"}' in body
