"""Rollups and the cold tier: windows served from them equal the raw computation; moves are checked and idempotent."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from models.access.tenancy import TenantScope
from models.db import Connection
from models.monitoring.features import read_window
from models.queries import PageParams
from models.telemetry.cold import cold_horizon, drop_cold_days, move_to_cold, read_cold
from models.telemetry.marks import COLD_MARK, read_mark
from models.telemetry.presence import register_units
from models.telemetry.rollups import counter_days, refresh_rollups
from models.telemetry.samples import TELEMETRY_COLUMNS, copy_telemetry
from models.telemetry.windows import Bucket, TelemetryBucket, telemetry_window

UNIT = "r1"
START = datetime(2026, 3, 1, tzinfo=UTC)
DAYS = 3
PERIOD = timedelta(minutes=2)
NO_LOOKBACK = timedelta(0)


def _rows(start: datetime, count: int, *, seed: int, trips_from: int = 1000) -> list[tuple[Any, ...]]:
    """`count` samples of UNIT from `start` with noisy signals, gaps (None), one NaN and rising counters."""
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(count):
        values: dict[str, Any] = dict.fromkeys(TELEMETRY_COLUMNS)
        at = start + i * PERIOD
        moving = bool(rng.random() < 0.3)
        values.update(unit_id=UNIT, time=at, received_at=at, speed_mps=float(rng.normal(0, 1)) if moving else 0.0,
                      load_pct=float(rng.uniform(0, 90)), motor_current_a=float(rng.normal(20, 3)),
                      motor_temp_c=math.nan if i == 7 else float(rng.normal(45, 2)), vibration_z=float(rng.gamma(2)),
                      levelling_error_mm=float(rng.normal(0, 4)), trip_count=trips_from + i, door_cycles=2 * i,
                      energy_kwh=100.0 + 0.01 * i, door_open_s=None if i % 5 == 0 else float(rng.normal(2.5, 0.1)),
                      door_reopens=int(rng.integers(0, 3)), brake_engaged=not moving)  # fmt: skip
        rows.append(tuple(values.values()))
    return rows


@pytest.fixture
def stored(conn: Connection) -> Connection:
    """UNIT with DAYS days of telemetry from START."""
    register_units(conn, ids={UNIT})
    copy_telemetry(conn, rows=_rows(START, int(timedelta(days=DAYS) / PERIOD), seed=1))
    conn.commit()
    return conn


def _window(conn: Connection, since: datetime, until: datetime, bucket: Bucket) -> list[TelemetryBucket]:
    page = PageParams(limit=1000, offset=0)
    tenant = TenantScope.internal()
    return telemetry_window(conn, tenant=tenant, unit_id=UNIT, since=since, until=until, bucket=bucket, page=page).items


def _assert_same(left: list[TelemetryBucket], right: list[TelemetryBucket]) -> None:
    assert len(left) == len(right) > 0
    for a, b in zip(left, right, strict=True):
        assert a.model_dump().keys() == b.model_dump().keys()
        for key, value in a.model_dump().items():
            other = b.model_dump()[key]
            assert (value is None) == (other is None), key
            if isinstance(value, float):
                assert value == pytest.approx(other, rel=1e-5), key  # float4 storage: 7 significant digits
            else:
                assert value == other, key


# Not aligned to hours or days: each answer has partial edge buckets (raw) around whole ones (rollups).
SINCE, UNTIL = START + timedelta(minutes=130), START + timedelta(days=DAYS, minutes=-50)
WIDTHS = (Bucket.HOUR, Bucket.SIX_HOURS, Bucket.DAY)


def test_windows_from_rollups_equal_the_raw_computation(stored: Connection) -> None:
    raw = {bucket: _window(stored, SINCE, UNTIL, bucket) for bucket in WIDTHS}
    run = refresh_rollups(stored, now=START + timedelta(days=DAYS, hours=1), lookback=NO_LOOKBACK)
    assert run.new_buckets == DAYS * 24
    assert run.daily_buckets == DAYS
    # Raw rows of the whole days inside the window go: only the rollups can still answer for them.
    stored.execute("DELETE FROM telemetry WHERE time >= %s AND time < %s", (START + timedelta(days=1),
                                                                         START + timedelta(days=DAYS - 1)))  # fmt: skip
    for bucket in WIDTHS:
        _assert_same(_window(stored, SINCE, UNTIL, bucket), raw[bucket])
    assert raw[Bucket.DAY][0].samples == (24 * 60 - 130) // 2  # the first day starts at SINCE
    assert all(b.motor_temp_c_max is not None and not math.isnan(b.motor_temp_c_max) for b in raw[Bucket.HOUR])


def test_refresh_is_incremental_idempotent_and_rerolls_late_data(stored: Connection) -> None:
    now = START + timedelta(days=1, minutes=30)
    first = refresh_rollups(stored, now=now, lookback=timedelta(hours=2))
    assert (first.new_buckets, first.late_buckets, first.daily_buckets) == (24, 0, 1)
    again = refresh_rollups(stored, now=now, lookback=timedelta(hours=2))
    assert (again.new_buckets, again.late_buckets) == (0, 0)  # nothing new, nothing late: nothing re-rolled
    late = list(_rows(START + timedelta(hours=23, minutes=1), 1, seed=2)[0])  # between two samples
    late[TELEMETRY_COLUMNS.index("received_at")] = now + timedelta(minutes=10)
    too_late = list(_rows(START + timedelta(hours=20, minutes=1), 1, seed=3)[0])  # before the lookback
    too_late[TELEMETRY_COLUMNS.index("received_at")] = now + timedelta(minutes=10)
    copy_telemetry(stored, rows=[tuple(late), tuple(too_late)])
    third = refresh_rollups(stored, now=now + timedelta(minutes=15), lookback=timedelta(hours=2))
    assert (third.new_buckets, third.late_buckets, third.daily_buckets) == (0, 1, 1)
    rows = stored.execute("SELECT bucket, samples FROM telemetry_hourly ORDER BY bucket").fetchall()
    assert [row["samples"] for row in rows] == [30] * 23 + [31]
    day = stored.execute("SELECT samples FROM telemetry_daily").fetchall()
    assert [r["samples"] for r in day] == [24 * 30 + 1]


def test_counter_days_read_the_daily_rollup(stored: Connection) -> None:
    refresh_rollups(stored, now=START + timedelta(days=DAYS), lookback=NO_LOOKBACK)
    days = counter_days(stored, since=START.date(), until=(START + timedelta(days=DAYS)).date(), unit_ids=[UNIT])
    per_day = 24 * 30
    assert [(d.day, d.trip_count, d.door_cycles) for d in days] == [
        ((START + timedelta(days=k)).date(), 1000 + per_day * (k + 1) - 1, 2 * (per_day * (k + 1) - 1))
        for k in range(DAYS)
    ]


def test_cold_tier_moves_rolled_days_and_windows_read_it(stored: Connection, tmp_path: Path) -> None:
    now = START + timedelta(days=DAYS)
    assert cold_horizon(stored, now=now, age=timedelta(days=1)) is None  # nothing rolled up yet: nothing moves
    fine = _window(stored, START + timedelta(hours=20), START + timedelta(days=1, hours=4), Bucket.FIVE_MINUTES)
    hours = _window(stored, SINCE, UNTIL, Bucket.HOUR)
    refresh_rollups(stored, now=now, lookback=NO_LOOKBACK)
    before = cold_horizon(stored, now=now, age=timedelta(days=1))
    assert before == START + timedelta(days=DAYS - 1)
    moved = move_to_cold(stored, root=tmp_path, before=before, now=now)
    assert [(m.day, m.rows) for m in moved] == [((START + timedelta(days=k)).date(), 24 * 30) for k in range(2)]
    left = stored.execute("SELECT count(*) AS n, min(time) AS first FROM telemetry").fetchone()
    assert left == {"n": 24 * 30, "first": START + timedelta(days=2)}
    frame = pl.read_parquet(moved[0].path)
    assert frame.columns == [name.replace("received_at", "received_lag_ms") for name in TELEMETRY_COLUMNS]
    cold = read_cold(tmp_path, since=START, until=START + timedelta(days=1), unit_ids=[UNIT])
    assert cold["received_at"].to_list() == cold["time"].to_list()  # received_at is back, from its lag
    assert frame.height == 24 * 30
    assert frame["time"].is_sorted()
    assert frame["brake_engaged"].dtype == pl.Boolean
    mark = read_mark(stored, COLD_MARK)
    assert mark is not None
    assert mark.until == before
    assert mark.location == str(tmp_path)
    _assert_same(_window(stored, START + timedelta(hours=20), START + timedelta(days=1, hours=4), Bucket.FIVE_MINUTES),
                 fine)  # fmt: skip
    _assert_same(_window(stored, SINCE, UNTIL, Bucket.HOUR), hours)
    assert move_to_cold(stored, root=tmp_path, before=before, now=now) == []  # nothing left to move
    assert drop_cold_days(tmp_path, older_than=START + timedelta(days=1, hours=1)) == [START.date()]
    assert not moved[0].path.exists()
    assert moved[1].path.exists()


def test_the_brains_raw_window_reads_the_cold_tier(stored: Connection, tmp_path: Path) -> None:
    now = START + timedelta(days=DAYS)
    since, until = START + timedelta(hours=22), START + timedelta(days=2, hours=2)  # cold, then hot
    before = read_window(stored, unit_ids=[UNIT], since=since, until=until)
    refresh_rollups(stored, now=now, lookback=NO_LOOKBACK)
    move_to_cold(stored, root=tmp_path, before=START + timedelta(days=2), now=now)
    after = read_window(stored, unit_ids=[UNIT], since=since, until=until)
    assert after.schema == before.schema
    assert after.height == before.height == 28 * 30
    assert_frame_equal(after, before, check_exact=False, rel_tol=1e-6)  # float4 values, printed or not


def test_late_rows_for_a_cold_day_merge_into_its_file(stored: Connection, tmp_path: Path) -> None:
    now = START + timedelta(days=DAYS)
    refresh_rollups(stored, now=now, lookback=NO_LOOKBACK)
    move_to_cold(stored, root=tmp_path, before=START + timedelta(days=1), now=now)
    late = START + timedelta(hours=5, seconds=30)
    copy_telemetry(stored, rows=_rows(late, 1, seed=3))
    (again,) = move_to_cold(stored, root=tmp_path, before=START + timedelta(days=1), now=now)
    assert again.rows == 24 * 30 + 1
    assert pl.read_parquet(again.path)["time"].is_sorted()
