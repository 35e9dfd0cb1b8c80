"""The web console, served by the API under /console: server-rendered pages over the same models functions,
roles and tenancy as the API. A page is one view module (a router) plus its templates; add it to VIEWS."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.staticfiles import StaticFiles
from starlette.responses import Response

from api.console import alarms, compliance, fleet, quality, sign_in, units, work_orders
from api.console.pages import PREFIX, error_page, is_console
from api.console.session import SessionStore
from models.errors import DomainError

__all__ = ["install_console"]

VIEWS = (
    sign_in.router,
    fleet.router,
    units.router,
    work_orders.router,
    alarms.router,
    quality.router,
    compliance.router,
)
STATIC = Path(__file__).parent / "static"
Handler = Callable[[Request, Exception], Response | Awaitable[Response]]


def _pages_for_console(api_handler: Handler) -> Callable[[Request, Exception], Awaitable[Response]]:
    """The console's errors as pages; everything else as the API renders it."""

    async def handle(request: Request, exc: Exception) -> Response:
        if is_console(request):
            return error_page(request, exc)
        response = api_handler(request, exc)
        return await response if isinstance(response, Awaitable) else response

    return handle


def install_console(app: FastAPI) -> None:
    """Mount the console on `app` (after the API's error handlers are installed)."""
    app.state.console_sessions = SessionStore()
    for router in VIEWS:
        app.include_router(router)
    app.mount(f"{PREFIX}/static", StaticFiles(directory=STATIC), name="console-static")
    # The handlers run after the request's transaction is rolled back, so a failed form post leaves nothing.
    for error in (DomainError, RequestValidationError):
        app.add_exception_handler(error, _pages_for_console(app.exception_handlers[error]))
