"""The API's error tree, rendered by one handler as `{"error": ..., "detail": ...}`.

ApiError (500 base; never raised for what a user can cause)
+-- BadRequest (400)
+-- Unauthorized (401)
+-- Forbidden (403)
+-- NotFound (404)    also for another tenant's object, so existence does not leak
+-- Conflict (409)
+-- PreconditionFailed (412)
+-- PayloadTooLarge (413)
"""

from __future__ import annotations

from typing import ClassVar

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

__all__ = [
    "ApiError",
    "BadRequest",
    "Conflict",
    "Forbidden",
    "NotFound",
    "PayloadTooLarge",
    "PreconditionFailed",
    "Unauthorized",
    "install_error_handlers",
]


class ApiError(Exception):
    """Base of every error the API answers with; `status` is the HTTP status."""

    status: ClassVar[int] = 500
    error: ClassVar[str] = "internal_error"

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class BadRequest(ApiError):
    """The request cannot be carried out as asked."""

    status = 400
    error = "bad_request"


class Unauthorized(ApiError):
    """No valid API key."""

    status = 401
    error = "unauthorized"


class Forbidden(ApiError):
    """The key is valid but its role may not do this."""

    status = 403
    error = "forbidden"


class NotFound(ApiError):
    """No such object, or not one this caller may see."""

    status = 404
    error = "not_found"


class Conflict(ApiError):
    """The change clashes with what exists."""

    status = 409
    error = "conflict"


class PreconditionFailed(ApiError):
    """The object changed since the caller read it (If-Match)."""

    status = 412
    error = "precondition_failed"


class PayloadTooLarge(ApiError):
    """The request body is over the limit."""

    status = 413
    error = "payload_too_large"


def _render(exc: ApiError) -> JSONResponse:
    headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
    return JSONResponse({"error": exc.error, "detail": exc.detail}, status_code=exc.status, headers=headers)


def install_error_handlers(app: FastAPI) -> None:
    """Render ApiError and payload validation errors in the one error shape."""

    async def api_error(_request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, ApiError)
        return _render(exc)

    async def validation_error(_request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        problems = [{"loc": list(err.get("loc", ())), "msg": str(err.get("msg", ""))} for err in exc.errors()]
        return JSONResponse({"error": "validation_error", "detail": problems}, status_code=422)

    app.add_exception_handler(ApiError, api_error)
    app.add_exception_handler(RequestValidationError, validation_error)
