"""Renders every error in one shape, `{"error": ..., "detail": ...}` (the tree is in models/errors.py).

Domain errors, request validation, Starlette's own 404/405 (unknown routes, wrong methods), an exhausted
connection pool (503) and any bug (500, without its text) all leave in that shape; `ERROR_RESPONSES`
documents it in the OpenAPI document for every status a route can answer.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from psycopg_pool import PoolTimeout
from pydantic import BaseModel
from starlette.exceptions import HTTPException

from models.errors import DomainError, ServiceUnavailable

__all__ = ["ERROR_RESPONSES", "ErrorBody", "error_response", "install_error_handlers"]

log = logging.getLogger(__name__)
# Starlette's own refusals, named as our error codes.
HTTP_ERRORS = {404: "not_found", 405: "method_not_allowed", 400: "bad_request"}
# How long a client should wait before retrying a 503 raised by the database pool.
POOL_RETRY_AFTER_S = 1


class ErrorBody(BaseModel):
    """Every error the API answers: a stable code and a human-readable detail (a list for validation errors)."""

    error: str
    detail: str | list[dict[str, Any]]


_DESCRIPTIONS = {
    400: "The request cannot be carried out as asked",
    401: "No valid API key",
    403: "The key's role may not do this",
    404: "No such object (or not one this key may see), or no such route",
    405: "The route does not take this method",
    409: "The change clashes with what exists",
    412: "The object changed since it was read (If-Match)",
    413: "The body is over the size limit",
    422: "The request does not validate",
    428: "The change needs an If-Match header",
    429: "The key is over its request rate (see Retry-After)",
    503: "The API is saturated or the database is busy (see Retry-After)",
}
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorBody, "description": text} for status, text in _DESCRIPTIONS.items()
}


def error_response(exc: DomainError) -> JSONResponse:
    """The one error shape for a domain error, with WWW-Authenticate or Retry-After where they apply."""
    headers: dict[str, str] = {}
    if exc.status == 401:
        headers["WWW-Authenticate"] = "Bearer"
    if exc.retry_after is not None:
        headers["Retry-After"] = str(exc.retry_after)
    return JSONResponse({"error": exc.error, "detail": exc.detail}, status_code=exc.status, headers=headers)


def install_error_handlers(app: FastAPI) -> None:
    """Render every error the app can raise in the one error shape."""

    async def api_error(_request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, DomainError)
        return error_response(exc)

    async def validation_error(_request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        problems = [{"loc": list(err.get("loc", ())), "msg": str(err.get("msg", ""))} for err in exc.errors()]
        return JSONResponse({"error": "validation_error", "detail": problems}, status_code=422)

    async def http_error(_request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, HTTPException)
        code = HTTP_ERRORS.get(exc.status_code, "http_error")
        body = {"error": code, "detail": str(exc.detail)}
        return JSONResponse(body, status_code=exc.status_code, headers=exc.headers)

    async def pool_timeout(_request: Request, _exc: Exception) -> JSONResponse:
        return error_response(ServiceUnavailable("the database is busy; retry shortly", retry_after=POOL_RETRY_AFTER_S))

    async def bug(request: Request, exc: Exception) -> JSONResponse:
        log.error("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
        return JSONResponse({"error": "internal_error", "detail": "internal error"}, status_code=500)

    app.add_exception_handler(DomainError, api_error)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(HTTPException, http_error)
    app.add_exception_handler(PoolTimeout, pool_timeout)
    app.add_exception_handler(Exception, bug)
