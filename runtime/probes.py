"""What worker processes (ingest, brain, up) share: a `/health` + `/metrics` endpoint, and stopping on signals."""

from __future__ import annotations

import json
import logging
import signal
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import FrameType

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

__all__ = ["HealthCheck", "serve_probes", "stop_on_signals"]

log = logging.getLogger(__name__)

HealthCheck = Callable[[], dict[str, bool]]
"""Returns named checks, e.g. {"broker": True, "database": False}."""


def serve_probes(host: str, port: int, check: HealthCheck) -> ThreadingHTTPServer | None:
    """Serve /health and /metrics on host:port in a daemon thread; None when the port is taken or 0."""
    if port == 0:
        return None

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path == "/metrics":
                body, status, kind = generate_latest(), 200, CONTENT_TYPE_LATEST
            elif self.path == "/health":
                checks = check()
                report = {"status": "ok" if all(checks.values()) else "degraded"}
                report.update({name: "connected" if ok else "unreachable" for name, ok in checks.items()})
                body, status, kind = (
                    json.dumps(report).encode(),
                    200 if all(checks.values()) else 503,
                    "application/json",
                )
            else:
                body, status, kind = b'{"error": "not_found"}', 404, "application/json"
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            """Probes are polled every few seconds; their lines would drown the log."""

    try:
        server = ThreadingHTTPServer((host, port), Handler)
    except OSError as exc:
        log.warning("health/metrics endpoint not started on %s:%d: %s", host, port, exc)
        return None
    threading.Thread(target=server.serve_forever, name="probes", daemon=True).start()
    log.info("health at http://%s:%d/health, metrics at /metrics", host, server.server_address[1])
    return server


def stop_on_signals() -> threading.Event:
    """An event set by the first SIGTERM or SIGINT (call from the main thread); the process then winds down."""
    stop = threading.Event()

    def request_stop(signum: int, _frame: FrameType | None) -> None:
        log.info("received %s, stopping", signal.Signals(signum).name)
        stop.set()

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    return stop
