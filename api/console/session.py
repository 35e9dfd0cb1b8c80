"""Console sessions: an API key exchanged at sign-in for a random session id in a cookie.

The key stays in this process's memory, never in the browser; every request resolves it again through
`api.auth.principal_for_secret`, the API gate's own path (its key cache), so a revoked key ends its sessions
as soon as the API stops taking it, and the console sees exactly what the key sees through the API. Each
session carries a CSRF token that every form posts back. Sessions live in the API process: a restart signs
everyone out, and several API replicas need sticky sessions.
"""

from __future__ import annotations

import hmac
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Annotated

from fastapi import Depends, Form, Request, Response

from api.auth import Principal, Scope, principal_for_secret
from models.errors import Forbidden, Unauthorized

__all__ = [
    "SESSION_COOKIE",
    "ConsoleSession",
    "ConsoleUser",
    "SessionStore",
    "clear_cookie",
    "console_user",
    "current_session",
    "form_session",
    "set_cookie",
    "verified_form",
]

SESSION_COOKIE = "lb_console"
# 256 bits: as hard to guess as the API keys themselves.
SESSION_ID_BYTES = 32
# A shift: a session left alone this long must sign in again.
IDLE_TIMEOUT_S = 8 * 3600
# Even a session in constant use is renewed daily, so a stolen cookie does not live forever.
ABSOLUTE_TIMEOUT_S = 24 * 3600
# Bounds the memory of a flood of sign-ins; the least recently used session goes first.
MAX_SESSIONS = 10_000


@dataclass
class ConsoleSession:
    """One signed-in browser: the key it signed in with (server-side only) and its CSRF token."""

    id: str
    secret: str = field(repr=False)
    csrf_token: str
    created: float
    last_used: float


class SessionStore:
    """Sessions by id, bounded in number and age; safe across the API's worker threads."""

    def __init__(self, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._sessions: OrderedDict[str, ConsoleSession] = OrderedDict()
        self._lock = threading.Lock()
        self._clock = clock

    def create(self, secret: str) -> ConsoleSession:
        """A new session for a key that has just been checked."""
        now = self._clock()
        session = ConsoleSession(
            id=secrets.token_urlsafe(SESSION_ID_BYTES),
            secret=secret,
            csrf_token=secrets.token_urlsafe(SESSION_ID_BYTES),
            created=now,
            last_used=now,
        )
        with self._lock:
            self._sessions[session.id] = session
            while len(self._sessions) > MAX_SESSIONS:
                self._sessions.popitem(last=False)
        return session

    def get(self, session_id: str) -> ConsoleSession | None:
        """The live session with this id (and mark it used), or None when unknown or expired."""
        now = self._clock()
        with self._lock:
            session = self._sessions.get(session_id)
            if session is None:
                return None
            if now - session.last_used > IDLE_TIMEOUT_S or now - session.created > ABSOLUTE_TIMEOUT_S:
                del self._sessions[session_id]
                return None
            session.last_used = now
            self._sessions.move_to_end(session_id)
            return session

    def drop(self, session_id: str) -> None:
        """End a session (sign-out); unknown ids are ignored."""
        with self._lock:
            self._sessions.pop(session_id, None)


def set_cookie(request: Request, response: Response, name: str, value: str) -> None:
    """Set a console cookie: HttpOnly, SameSite=Strict, Secure when the console is served over TLS."""
    response.set_cookie(
        name, value, path="/console", httponly=True, samesite="strict", secure=request.url.scheme == "https"
    )


def clear_cookie(response: Response, name: str) -> None:
    """Remove a console cookie from the browser."""
    response.delete_cookie(name, path="/console", httponly=True, samesite="strict")


def current_session(request: Request) -> ConsoleSession:
    """The request's session, or Unauthorized (the console answers with the sign-in page); takes no connection."""
    store: SessionStore = request.app.state.console_sessions
    session_id = request.cookies.get(SESSION_COOKIE)
    session = store.get(session_id) if session_id else None
    if session is None:
        raise Unauthorized("sign in to use the console")
    return session


Session = Annotated[ConsoleSession, Depends(current_session)]


@dataclass(frozen=True)
class ConsoleUser:
    """The signed-in caller (the same Principal an API request with the key gets) and its session."""

    principal: Principal
    session: ConsoleSession

    def may(self, scope: Scope) -> bool:
        """Whether the caller's role grants `scope` (pages show only what it may do)."""
        return scope in self.principal.scopes


def _user(request: Request, session: ConsoleSession, scope: Scope) -> ConsoleUser:
    try:
        principal = principal_for_secret(request, session.secret)
    except Unauthorized:
        request.app.state.console_sessions.drop(session.id)  # the key was revoked: so is the session
        raise
    principal.ensure(scope)
    return ConsoleUser(principal=principal, session=session)


def console_user(scope: Scope) -> Callable[[Request, ConsoleSession], ConsoleUser]:
    """A dependency: the signed-in caller, resolved as the API resolves its key, whose role grants `scope`."""

    def check(request: Request, session: Session) -> ConsoleUser:
        return _user(request, session, scope)

    return check


def form_session(session: Session, csrf_token: Annotated[str, Form(max_length=100)] = "") -> ConsoleSession:
    """The session of a form post that carries its CSRF token, else 403 (checked before a connection is taken)."""
    if not hmac.compare_digest(csrf_token.encode(), session.csrf_token.encode()):
        raise Forbidden("the form's security token is missing or stale; reload the page and try again")
    return session


def verified_form(scope: Scope) -> Callable[[Request, ConsoleSession], ConsoleUser]:
    """Like `console_user`, for a form post: a post without the session's CSRF token is refused (403)."""

    def check(request: Request, session: Annotated[ConsoleSession, Depends(form_session)]) -> ConsoleUser:
        return _user(request, session, scope)

    return check
