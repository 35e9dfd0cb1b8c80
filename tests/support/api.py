"""Calling the API: a key's headers, and a raw ASGI request with the bytes a server would pass."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from starlette.types import ASGIApp, Message, Scope


def auth(key: str | None) -> dict[str, str]:
    """The headers that present `key` (none for an anonymous call)."""
    return {} if key is None else {"Authorization": f"Bearer {key}"}


def send_raw(
    app: ASGIApp,
    method: str,
    path: str,
    headers: list[tuple[bytes, bytes]],
    chunks: list[bytes],
    on_start: Callable[[Message], None] | None = None,
) -> int:
    """Send one request straight to the ASGI app and return its status: header bytes as a server passes them
    (TestClient re-encodes headers as UTF-8, so a latin-1 byte such as 0xB2 never reaches the app through it),
    and the body in `chunks` as a chunked transfer delivers it. `on_start` sees the response's start message
    the moment the app sends it (when a client would read the status), before the app has returned."""

    async def call() -> int:
        incoming: list[Message] = [
            {"type": "http.request", "body": chunk, "more_body": i < len(chunks) - 1} for i, chunk in enumerate(chunks)
        ]
        sent: list[Message] = []

        async def receive() -> Message:
            return incoming.pop(0) if incoming else {"type": "http.disconnect"}

        async def send(message: Message) -> None:
            if message["type"] == "http.response.start" and on_start is not None:
                on_start(message)
            sent.append(message)

        path_only, _, query = path.partition("?")
        scope: Scope = {
            "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method, "scheme": "http",
            "path": path_only, "raw_path": path_only.encode(), "query_string": query.encode(), "root_path": "",
            "headers": headers, "client": ("testclient", 50000), "server": ("testserver", 80),
        }  # fmt: skip
        await app(scope, receive, send)
        return int(next(m["status"] for m in sent if m["type"] == "http.response.start"))

    return asyncio.run(call())
