"""The FastAPI application: one router per resource, one error shape, a body-size limit, metrics."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from api import health
from api.errors import install_error_handlers
from api.params import is_decimal
from api.routers import ROUTERS
from models.db import open_pool
from models.settings import Settings

__all__ = ["create_app"]


def create_app(settings: Settings) -> FastAPI:
    """Build the API for `settings` (database and broker must be configured)."""
    dsn = settings.require_database_url()
    broker = settings.require_mqtt()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.pool = open_pool(dsn, application_name="liftbrain-api")
        app.state.broker_probe = health.BrokerProbe(broker)
        try:
            yield
        finally:
            app.state.pool.close()

    app = FastAPI(
        title="liftbrain",
        version="0.1.0",
        lifespan=lifespan,
        description="The closed-loop record of every elevator: manufacture to decommission.",
    )
    app.state.settings = settings
    install_error_handlers(app)
    limit = settings.api_max_body_bytes

    @app.middleware("http")
    async def limit_body(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        # Starlette sets no limit of its own; refuse by the declared length before reading anything.
        declared = request.headers.get("content-length")
        if declared is not None and (not is_decimal(declared) or int(declared) > limit):
            return JSONResponse({"error": "payload_too_large", "detail": f"body over {limit} bytes"}, status_code=413)
        return await call_next(request)

    @app.get("/metrics", include_in_schema=False)
    def metrics() -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    app.include_router(health.router)
    for router in ROUTERS:
        app.include_router(router)
    return app
