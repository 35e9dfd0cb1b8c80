"""Serving the API with uvicorn: the server's own limits, which refuse excess before any of our code runs.

uvicorn answers 503 by itself once `SERVER_LIMIT_CONCURRENCY` connections are open or requests running: that
answer does not pass the gate, so its body is uvicorn's plain-text "Service Unavailable" without Retry-After
(the only answer not in our error shape; clients treat it as any 503). The gate's own 503 (JSON, Retry-After)
answers ordinary saturation well below that bound.

With `workers` > 1, uvicorn forks that many processes on the one port; each builds its app from the
environment (`LIFTBRAIN_*`), and each keeps its own key cache, rate buckets and in-flight count (api/gate.py).
"""

from __future__ import annotations

from fastapi import FastAPI

from api.app import create_app
from api.gate import Limits
from runtime.settings import Settings

__all__ = ["SERVER_BACKLOG", "SERVER_LIMIT_CONCURRENCY", "from_environment", "serve"]

# Open connections plus running requests one process carries before uvicorn refuses with 503. Keep-alive
# clients each hold a connection, so it sits well above the gate's in-flight bound (8): a dashboard's idle
# connections are not refused, while a flood of new connections is answered without touching the app.
SERVER_LIMIT_CONCURRENCY = 256
# Connections the kernel queues before uvicorn accepts them: a short queue refuses a flood at the socket
# rather than letting it wait past the 2 s a client may wait.
SERVER_BACKLOG = 256
# Seconds a shutdown waits for running requests.
GRACEFUL_SHUTDOWN_S = 5


def from_environment() -> FastAPI:
    """The app built from `LIFTBRAIN_*` (what each uvicorn worker process calls)."""
    return create_app(Settings())


def serve(
    settings: Settings,
    *,
    host: str,
    port: int,
    workers: int = 1,
    limits: Limits | None = None,
    limit_concurrency: int = SERVER_LIMIT_CONCURRENCY,
) -> None:
    """Run the API until stopped: in this process, or in `workers` processes configured from the environment."""
    import uvicorn

    # Several workers each build the app from the environment (an app object cannot cross a fork + exec).
    app: str | FastAPI = "api.server:from_environment" if workers > 1 else create_app(settings, limits=limits)
    uvicorn.run(
        app,
        factory=workers > 1,
        workers=workers,
        host=host,
        port=port,
        log_config=None,
        access_log=False,  # a line per request costs more than a cached request; metrics count them per route
        limit_concurrency=limit_concurrency,
        backlog=SERVER_BACKLOG,
        timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_S,
    )
