"""ASGI middleware: a request-body limit that also holds for chunked bodies, nosniff, and request metrics."""

from __future__ import annotations

import json
import time
from typing import Any

from prometheus_client import Counter, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.params import is_decimal

__all__ = ["BodyLimit", "NoSniff", "RequestMetrics"]

REQUESTS = Counter("liftbrain_api_requests", "HTTP requests answered", ["method", "route", "status"])
LATENCY = Histogram(
    "liftbrain_api_request_seconds",
    "time to answer an HTTP request",
    ["route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)


async def _refuse(send: Send, limit: int) -> None:
    body = json.dumps({"error": "payload_too_large", "detail": f"body over {limit} bytes"}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": 413, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class BodyLimit:
    """Refuse bodies over `limit` bytes: by the declared length up front, or as a chunked body streams in.

    Starlette sets no limit of its own, and a chunked request declares no length at all.
    """

    def __init__(self, app: ASGIApp, *, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and (not is_decimal(declared.decode("latin-1")) or int(declared) > self.limit):
            await _refuse(send, self.limit)
            return
        if declared is not None:
            await self.app(scope, receive, send)
            return
        # No declared length (chunked): read up to the limit first, then hand the body on. At most `limit`
        # bytes are held, and the route never sees a body cut short.
        body = bytearray()
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return  # the client went away
            body += message.get("body", b"")
            if len(body) > self.limit:
                await _refuse(send, self.limit)
                return
            if not message.get("more_body", False):
                break
        replay: list[Message] = [{"type": "http.request", "body": bytes(body), "more_body": False}]

        async def replay_receive() -> Message:
            return replay.pop() if replay else await receive()

        await self.app(scope, replay_receive, send)


class RequestMetrics:
    """Count requests and time them per route template (not per URL: ids would explode the label set)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status = 500
        started = time.perf_counter()

        async def status_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, status_send)
        finally:
            route: Any = scope.get("route")
            template = getattr(route, "path", "unmatched")
            REQUESTS.labels(method=scope["method"], route=template, status=str(status)).inc()
            LATENCY.labels(route=template).observe(time.perf_counter() - started)


class NoSniff:
    """`X-Content-Type-Options: nosniff` on every response: a browser never runs a CSV or JSON body as script."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_header(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), (b"x-content-type-options", b"nosniff")]}
            await send(message)

        await self.app(scope, receive, with_header)
