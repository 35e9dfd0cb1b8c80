"""`GET /units/{id}/telemetry`: time_bucket aggregates over a window, JSON and CSV."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient

from models.access.tenancy import Role
from models.db import Connection
from models.telemetry.samples import TELEMETRY_COLUMNS, copy_telemetry
from tests.support.api import auth
from tests.support.fleet import Fleet


def _store(conn: Connection, unit_id: str, start: datetime, speeds: list[float]) -> None:
    """One sample a second with the given speeds and rising counters."""
    rows = []
    for i, speed in enumerate(speeds):
        values = dict.fromkeys(TELEMETRY_COLUMNS)
        values.update(unit_id=unit_id, time=start + timedelta(seconds=i), received_at=start, speed_mps=speed,
                      trip_count=100 + i, load_pct=50.0)  # fmt: skip
        rows.append(tuple(values.values()))
    copy_telemetry(conn, rows=rows)
    conn.commit()


def test_default_window_buckets_the_last_day(client: TestClient, conn: Connection, fleet: Fleet) -> None:
    minute = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(minutes=10)
    _store(conn, fleet.unit_a1, minute, [1.0, 2.0, 3.0])
    _store(conn, fleet.unit_a1, minute + timedelta(minutes=1), [4.0, 6.0])
    _store(conn, fleet.unit_a1, minute - timedelta(days=2), [9.0])  # outside the default window
    response = client.get(f"/units/{fleet.unit_a1}/telemetry?bucket=1m", headers=auth(fleet.keys[Role.MANUFACTURER]))
    assert response.status_code == 200, response.text
    buckets = response.json()["items"]
    assert [(b["samples"], b["speed_mps_avg"], b["speed_mps_max"], b["trips"]) for b in buckets] == [
        (3, 2.0, 3.0, 2),
        (2, 5.0, 6.0, 1),
    ]
    assert datetime.fromisoformat(buckets[0]["bucket"]) == minute


def test_explicit_window_and_csv_export(client: TestClient, conn: Connection, fleet: Fleet) -> None:
    start = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
    _store(conn, fleet.unit_a1, start, [1.0] * 120)
    response = client.get(
        f"/units/{fleet.unit_a1}/telemetry",
        params={"since": "2026-03-01T08:00:00Z", "until": "2026-03-01T09:00:00Z", "bucket": "1h", "format": "csv"},
        headers=auth(fleet.keys[Role.ADMIN]),
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    lines = response.text.strip().splitlines()
    assert lines[0].startswith("bucket,samples,speed_mps_avg")
    assert lines[1].split(",")[1:3] == ["120", "1.0"]
