"""The FastAPI application: one router per resource, one error shape, a body-size limit, metrics."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from api import health
from api.auth import KeyCache
from api.console import install_console
from api.errors import ERROR_RESPONSES, install_error_handlers
from api.gate import Gate, Limits
from api.middleware import BodyLimit, NoSniff, RequestMetrics
from api.routers import ROUTERS
from models.db import open_pool
from runtime.settings import Settings

__all__ = ["create_app"]


def create_app(settings: Settings, *, limits: Limits | None = None) -> FastAPI:
    """Build the API for `settings` (database and broker must be configured), admitting requests within `limits`."""
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
    app.state.keys = KeyCache()
    install_error_handlers(app)
    # Added innermost first: metrics and nosniff see every answer; the gate answers 401/429/503 before the
    # body is read (so before the body limit) and before any route dependency takes a connection.
    app.add_middleware(BodyLimit, limit=settings.api_max_body_bytes)
    app.add_middleware(Gate, keys=app.state.keys, limits=limits or Limits())
    app.add_middleware(NoSniff)
    app.add_middleware(RequestMetrics)

    @app.get("/metrics", include_in_schema=False)
    def metrics() -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    app.include_router(health.router)
    for router in ROUTERS:
        app.include_router(router, responses=ERROR_RESPONSES)
    install_console(app)
    return app
