"""The gate every request passes before a route: who is calling, at what rate, and is there room.

In order, and before any body is read or any route dependency runs:
1. public paths (health, metrics, the OpenAPI document) pass; anything else without a key is a 401 at once;
2. the key is resolved from the cache, or from the database in a worker thread while holding an in-flight
   slot (an unknown key is a 401; a busy pool a 503);
3. the key's token bucket: over its rate is a 429 with Retry-After;
4. an in-flight slot: when `max_in_flight` requests are already being served, a 503 with Retry-After at once,
   instead of queueing on the 40-thread pool and the database pool until clients time out.

The console (/console) signs in with a key and then carries a session cookie: the gate resolves the session's
key the same way, so a signed-in browser shares its key's rate and the same in-flight bound, and its refusals
are console pages. A visitor without a live session (or whose key was revoked) passes to the console, which
answers with its sign-in page; the page itself takes an in-flight slot like any request.

The key cache, the rate buckets and the in-flight count live in this process: with N API processes (uvicorn
workers or replicas) a key may spend N times its rate, and each process admits `max_in_flight`.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from uuid import UUID

from anyio import to_thread
from starlette.requests import Request, cookie_parser
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from api.auth import KeyCache, Principal, key_secret
from api.console.pages import PREFIX as CONSOLE_PREFIX
from api.console.pages import error_page
from api.console.session import SESSION_COOKIE, SessionStore
from api.errors import POOL_RETRY_AFTER_S, error_response
from models.db import Pool, PoolTimeout
from models.errors import DomainError, ServiceUnavailable, TooManyRequests, Unauthorized

__all__ = ["PUBLIC_PATHS", "Gate", "Limits", "RateLimiter"]

PUBLIC_PATHS = frozenset({"/health", "/metrics", "/docs", "/docs/oauth2-redirect", "/redoc", "/openapi.json"})
# What a saturated API asks clients to wait before retrying: in-flight requests finish well within it.
BUSY_RETRY_AFTER_S = 1


@dataclass(frozen=True)
class Limits:
    """Admission limits of one API process."""

    # Requests served at once. Measured with bench/api_load.py on 2 cores: 8 in flight serve 77 requests/s,
    # 16 and 24 only 83-85, but then the worker threads hold the GIL so long that the event loop cannot even
    # answer 401s and 503s within 2 s under 4x overload. Below the database pool (10), so a request never
    # waits on the pool, and far below Starlette's 40 worker threads.
    max_in_flight: int = 8
    # Sustained requests per second per key, and the burst a key may spend at once (a dashboard's page load).
    rate_per_s: float = 50.0
    burst: int = 100


class RateLimiter:
    """A token bucket per key: `rate_per_s` tokens a second up to `burst`; one request spends one."""

    # Buckets idle this long are full again; forgetting them (past MAX_BUCKETS keys) bounds the memory.
    IDLE_FORGET_S = 60.0
    MAX_BUCKETS = 10_000

    def __init__(self, rate_per_s: float, burst: int) -> None:
        self.rate = rate_per_s
        self.burst = float(burst)
        self._buckets: dict[UUID, tuple[float, float]] = {}

    def take(self, key_id: UUID, now: float) -> float:
        """Spend a token of the key's bucket: 0 when allowed, else the seconds until a token is back."""
        tokens, last = self._buckets.get(key_id, (self.burst, now))
        tokens = min(self.burst, tokens + (now - last) * self.rate)
        if tokens < 1.0:
            self._buckets[key_id] = (tokens, now)
            return (1.0 - tokens) / self.rate
        self._buckets[key_id] = (tokens - 1.0, now)
        if len(self._buckets) > self.MAX_BUCKETS:
            self._buckets = {k: v for k, v in self._buckets.items() if now - v[1] < self.IDLE_FORGET_S}
        return 0.0


class Gate:
    """Authenticate, rate-limit and admit each request (see the module docstring for the order)."""

    def __init__(self, app: ASGIApp, *, keys: KeyCache, limits: Limits) -> None:
        """Guard `app`; the database pool is the app's (`app.state.pool`, opened by its lifespan)."""
        self.app = app
        self.keys = keys
        self.limits = limits
        self.rates = RateLimiter(limits.rate_per_s, limits.burst)
        self.in_flight = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in PUBLIC_PATHS:
            await self.app(scope, receive, send)
            return
        console = scope["path"] == CONSOLE_PREFIX or scope["path"].startswith(CONSOLE_PREFIX + "/")
        admitted = False
        try:
            try:
                principal, admitted = await (self._console_caller(scope) if console else self._api_caller(scope))
                if principal is not None:
                    wait = self.rates.take(principal.key_id, time.monotonic())
                    if wait > 0:
                        raise TooManyRequests("this key is over its request rate", retry_after=max(1, math.ceil(wait)))
                admitted = admitted or self._admit()
            except DomainError as exc:
                await _refusal(scope, exc, console=console)(scope, receive, send)
                return
            if principal is not None:
                scope.setdefault("state", {})["principal"] = principal
            await self.app(scope, receive, send)
        finally:
            if admitted:
                self.in_flight -= 1

    async def _api_caller(self, scope: Scope) -> tuple[Principal, bool]:
        """The caller an API request's key names, and whether looking it up took an in-flight slot."""
        return await self._resolve(scope, key_secret(dict(scope["headers"])))

    async def _console_caller(self, scope: Scope) -> tuple[Principal | None, bool]:
        """The signed-in console caller (None: not signed in, or its key is gone) and whether a slot was taken."""
        cookies = cookie_parser(dict(scope["headers"]).get(b"cookie", b"").decode("latin-1"))
        store: SessionStore = scope["app"].state.console_sessions
        session = store.get(cookies[SESSION_COOKIE]) if SESSION_COOKIE in cookies else None
        if session is None:
            return None, False
        try:
            return await self._resolve(scope, session.secret)
        except Unauthorized:
            return None, False  # the console drops the session and shows its sign-in page

    async def _resolve(self, scope: Scope, secret: str) -> tuple[Principal, bool]:
        """The principal behind `secret`: from the cache, or looked up holding an in-flight slot."""
        principal = self.keys.cached(secret)
        if principal is not None:
            return principal, False
        self._admit()
        try:
            return await self._lookup(scope["app"].state.pool, secret), True
        except BaseException:
            self.in_flight -= 1
            raise

    def _admit(self) -> bool:
        """Take an in-flight slot (True), or ServiceUnavailable when none is free."""
        if self.in_flight >= self.limits.max_in_flight:
            raise ServiceUnavailable("the API is at capacity; retry shortly", retry_after=BUSY_RETRY_AFTER_S)
        self.in_flight += 1
        return True

    async def _lookup(self, pool: Pool, secret: str) -> Principal:
        try:
            return await to_thread.run_sync(self.keys.resolve, pool, secret)
        except PoolTimeout as exc:
            raise ServiceUnavailable("the database is busy; retry shortly", retry_after=POOL_RETRY_AFTER_S) from exc


def _refusal(scope: Scope, exc: DomainError, *, console: bool) -> Response:
    """The gate's refusal: the API's error shape, or for the console its error page (with the same headers)."""
    response = error_response(exc)
    if not console:
        return response
    page = error_page(Request(scope), exc)
    for name in ("retry-after", "www-authenticate"):
        if name in response.headers:
            page.headers[name] = response.headers[name]
    return page
