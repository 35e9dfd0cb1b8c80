"""Renders every error in one shape, `{"error": ..., "detail": ...}` (the tree is in models/errors.py)."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from models.errors import DomainError

__all__ = ["install_error_handlers"]


def _render(exc: DomainError) -> JSONResponse:
    headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
    return JSONResponse({"error": exc.error, "detail": exc.detail}, status_code=exc.status, headers=headers)


def install_error_handlers(app: FastAPI) -> None:
    """Render DomainError and payload validation errors in the one error shape."""

    async def api_error(_request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, DomainError)
        return _render(exc)

    async def validation_error(_request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        problems = [{"loc": list(err.get("loc", ())), "msg": str(err.get("msg", ""))} for err in exc.errors()]
        return JSONResponse({"error": "validation_error", "detail": problems}, status_code=422)

    app.add_exception_handler(DomainError, api_error)
    app.add_exception_handler(RequestValidationError, validation_error)
