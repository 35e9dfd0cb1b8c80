"""The worker processes' /health and /metrics endpoint."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from ingest import metrics
from runtime.probes import serve_probes
from stack._process import free_port


@pytest.fixture
def checks() -> dict[str, bool]:
    return {"broker": True, "database": True}


@pytest.fixture
def base_url(checks: dict[str, bool]) -> Iterator[str]:
    port = free_port()
    server = serve_probes("127.0.0.1", port, lambda: dict(checks))
    assert server is not None
    yield f"http://127.0.0.1:{port}"
    server.shutdown()
    server.server_close()


def test_health_reports_each_check(base_url: str, checks: dict[str, bool]) -> None:
    ok = httpx.get(f"{base_url}/health")
    assert (ok.status_code, ok.json()) == (200, {"status": "ok", "broker": "connected", "database": "connected"})
    checks["database"] = False
    degraded = httpx.get(f"{base_url}/health")
    assert (degraded.status_code, degraded.json()["database"]) == (503, "unreachable")


def test_metrics_expose_the_ingest_counters(base_url: str) -> None:
    metrics.MESSAGES_DEAD_LETTERED.inc()
    body = httpx.get(f"{base_url}/metrics").text
    assert "liftbrain_ingest_messages_dead_lettered_total" in body
    assert "liftbrain_ingest_commit_latency_seconds_bucket" in body


def test_unknown_path_is_404(base_url: str) -> None:
    assert httpx.get(f"{base_url}/nope").status_code == 404


def test_port_zero_disables_the_endpoint() -> None:
    assert serve_probes("127.0.0.1", 0, dict) is None
