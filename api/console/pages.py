"""Rendering: the Jinja2 templates (autoescaped), the console's response headers, and errors as pages."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, StrictUndefined

from api.auth import Scope
from models.errors import DomainError, Unauthorized

__all__ = ["PREFIX", "error_page", "is_console", "is_fragment_request", "page", "redirect"]

PREFIX = "/console"
TEMPLATES = Path(__file__).parent / "templates"
# A timeline row stays one or two lines; the full detail is in the API's timeline export.
BRIEF_CHARS = 300
# Only our own files: no inline script or style, no other origin (the console works with no internet).
# nosniff comes from the app's middleware, on every answer.
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}

# The main menu: (scope needed, path, label, section key); each role sees the entries its scopes open.
NAV = (
    (Scope.UNITS_READ, "fleet", "Fleet", "fleet"),
    (Scope.WORK_ORDERS_READ, "work-orders", "Work orders", "work"),
    (Scope.ALARMS_READ, "alarms", "Alarms", "alarms"),
    (Scope.QUALITY_READ, "quality", "Quality", "quality"),
    (Scope.REGULATION_READ, "compliance", "Compliance", "compliance"),
)

_env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=True, undefined=StrictUndefined)


def _when(value: datetime | None) -> str:
    """A timestamp as UTC minutes, the way the whole console shows time."""
    return "-" if value is None else value.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def _brief(detail: dict[str, Any], prefix: str = "") -> str:
    """A timeline entry's detail as `key: value; ...`, nested keys dotted and empty values left out."""
    parts: list[str] = []
    for key, value in detail.items():
        if value in (None, "", {}, []):
            continue
        if isinstance(value, dict):
            parts.append(_brief(value, f"{prefix}{key}."))
        else:
            parts.append(f"{prefix}{key}: {value}")
    return "; ".join(parts)[:BRIEF_CHARS]


def _query(values: dict[str, Any], **changes: Any) -> str:
    """A query string from `values` with `changes` applied; empty values are left out."""
    merged = {**values, **changes}
    return urlencode({k: v for k, v in merged.items() if v not in (None, "")})


_env.filters["when"] = _when
_env.filters["brief"] = _brief
_env.globals["Scope"] = Scope
_env.globals["query"] = _query
_env.globals["prefix"] = PREFIX
_env.globals["nav"] = NAV


def is_fragment_request(request: Request) -> bool:
    """True when htmx asks for a part of a page (live refresh) rather than a whole page."""
    return request.headers.get("HX-Request") == "true"


def page(request: Request, template: str, context: dict[str, Any], *, status: int = 200) -> HTMLResponse:
    """Render a template into a response with the console's headers."""
    html = _env.get_template(template).render(request=request, **context)
    response = HTMLResponse(html, status_code=status, headers=SECURITY_HEADERS)
    response.headers["Vary"] = "HX-Request, Cookie"
    return response


def redirect(path: str) -> RedirectResponse:
    """See other (303): after a form post, the browser loads the result with a GET."""
    return RedirectResponse(path, status_code=303, headers={"Cache-Control": "no-store"})


def is_console(request: Request) -> bool:
    """Whether the request is for the console (its errors are pages, not JSON)."""
    return request.url.path == PREFIX or request.url.path.startswith(PREFIX + "/")


def error_page(request: Request, exc: Exception) -> Response:
    """An error as the console shows it: to sign-in when not signed in, else a page with the status and reason."""
    if isinstance(exc, Unauthorized):
        target = f"{PREFIX}/sign-in"
        if is_fragment_request(request):  # a live refresh after the session ended: send the whole page there
            return Response(status_code=200, headers={"HX-Redirect": target})
        return redirect(target)
    if isinstance(exc, RequestValidationError):
        problems = [f"{'.'.join(str(p) for p in e.get('loc', ())[1:])}: {e.get('msg', '')}" for e in exc.errors()]
        return page(request, "error.html", {"status": 422, "detail": "; ".join(problems), "user": None}, status=422)
    assert isinstance(exc, DomainError)
    return page(request, "error.html", {"status": exc.status, "detail": exc.detail, "user": None}, status=exc.status)
