"""Sign-in (an API key for a session cookie), sign-out, and the home page each role starts from."""

from __future__ import annotations

import hmac
import secrets
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, Response

from api.auth import Scope, principal_for_secret
from api.console.pages import PREFIX, page, redirect
from api.console.session import (
    SESSION_COOKIE,
    ConsoleSession,
    ConsoleUser,
    SessionStore,
    clear_cookie,
    console_user,
    form_session,
    set_cookie,
)
from models.access.tenancy import Role
from models.errors import Forbidden, Unauthorized

router = APIRouter(prefix=PREFIX, include_in_schema=False)
# Before there is a session, the sign-in form is protected by a double-submit token in its own cookie.
SIGN_IN_COOKIE = "lb_console_sign_in"
# What a console session needs at least: every person's role reads the catalogue; a device key (MQTT only) does
# not, and has nothing to show.
CONSOLE_SCOPE = Scope.CATALOG_READ
# Where each role starts (the fleet board for the others): its daily work.
HOMES = {Role.CREW: "work-orders", Role.SUPPLIER: "quality", Role.REGULATOR: "compliance"}
Home = Annotated[ConsoleUser, Depends(console_user(CONSOLE_SCOPE))]


def _form(request: Request, *, error: str | None = None, status: int = 200) -> HTMLResponse:
    token = secrets.token_urlsafe(32)
    response = page(request, "sign_in.html", {"error": error, "csrf_token": token, "user": None}, status=status)
    set_cookie(request, response, SIGN_IN_COOKIE, token)
    return response


@router.get("/sign-in")
def sign_in_form(request: Request) -> HTMLResponse:
    """The sign-in form."""
    return _form(request)


def _sign_in_token(request: Request, csrf_token: Annotated[str, Form(max_length=100)] = "") -> None:
    """403 unless the form carries the token its cookie was set with (checked before a connection is taken)."""
    expected = request.cookies.get(SIGN_IN_COOKIE, "")
    if not expected or not hmac.compare_digest(csrf_token.encode(), expected.encode()):
        raise Forbidden("the sign-in form expired; reload it and try again")


@router.post("/sign-in", dependencies=[Depends(_sign_in_token)])
def sign_in(request: Request, api_key: Annotated[str, Form(max_length=300)] = "") -> Response:
    """Check the key as the API does; on success start a session and go home."""
    try:
        principal = principal_for_secret(request, api_key.strip())
    except Unauthorized:
        return _form(request, error="That key is not valid (unknown or revoked).", status=401)
    if CONSOLE_SCOPE not in principal.scopes:
        return _form(request, error=f"A {principal.role} key cannot use the console.", status=403)
    store: SessionStore = request.app.state.console_sessions
    previous = request.cookies.get(SESSION_COOKIE)
    if previous:
        store.drop(previous)  # a fresh id at every sign-in: no session fixation
    session = store.create(api_key.strip())
    response = redirect(f"{PREFIX}/")
    set_cookie(request, response, SESSION_COOKIE, session.id)
    clear_cookie(response, SIGN_IN_COOKIE)
    return response


@router.post("/sign-out")
def sign_out(request: Request, session: Annotated[ConsoleSession, Depends(form_session)]) -> Response:
    """End the session here and in the browser."""
    request.app.state.console_sessions.drop(session.id)
    response = redirect(f"{PREFIX}/sign-in")
    clear_cookie(response, SESSION_COOKIE)
    return response


@router.get("/")
def home(user: Home) -> Response:
    """Where each role starts: a crew at its work orders, a supplier at quality, a regulator at compliance, everyone
    else at the fleet board."""
    return redirect(f"{PREFIX}/{HOMES.get(user.principal.role, 'fleet')}")
