"""Features: polars aggregates per unit and window, robust to gaps, NaN and missing signals; the bulk read."""

from __future__ import annotations

from datetime import timedelta

import polars as pl
import pytest

from brain.detection.features import compute_features
from brain.jobs import features
from models.db import connect
from models.monitoring.features import read_features, read_window, read_window_rows
from tests.brain.synthetic import SAMPLES_PER_DAY, START, load_units, unit_rows, window_frame


def test_daily_features_count_trips_and_door_cycles() -> None:
    rows = unit_rows("U1", days=2, seed=1)
    daily = compute_features(window_frame(rows), window_hours=24)
    assert daily.height == 2
    first = daily.row(0, named=True)
    day_rows = rows[:SAMPLES_PER_DAY]
    assert first["trips"] == day_rows[-1][17] - day_rows[0][17]
    assert first["door_cycles"] == day_rows[-1][18] - day_rows[0][18]
    assert 0.0 <= first["reopen_rate"] < 0.2
    assert first["door_close_s"] == pytest.approx(3.0, rel=0.05)


def test_hourly_windows_and_gaps_leave_sparse_windows_out() -> None:
    rows = unit_rows("U1", days=1, seed=2)
    gappy = rows[:30] + rows[60:]  # five hours missing
    hourly = compute_features(window_frame(gappy), window_hours=1)
    assert 18 <= hourly.height <= 20
    assert (hourly["samples"] >= 6).all()


def test_nan_and_missing_signals_give_nulls_not_errors() -> None:
    window = window_frame(unit_rows("U1", days=1, seed=3)).with_columns(
        pl.lit(None, dtype=pl.Float64).alias("door_open_s"),
        pl.when(pl.col("trip_count") % 2 == 0).then(float("nan")).otherwise(pl.col("vibration_z")).alias("vibration_z"),
        pl.lit(None, dtype=pl.Float64).alias("motor_current_a"),
    )
    daily = compute_features(window.with_columns(pl.col("vibration_z").fill_nan(None)), window_hours=24)
    row = daily.row(0, named=True)
    assert row["door_open_s"] is None
    assert row["current_at_balance_a"] is None
    assert row["vibration_z_p50"] is not None


def test_copy_read_matches_row_fetch_and_feature_refresh_is_idempotent(database_url: str) -> None:
    with connect(database_url) as conn:
        load_units(conn, {"U1": unit_rows("U1", days=2, seed=4), "U2": unit_rows("U2", days=2, seed=5)})
        since, until = START, START + timedelta(days=2)
        copied = read_window(conn, unit_ids=["U1", "U2"], since=since, until=until)
        fetched = read_window_rows(conn, unit_ids=["U1", "U2"], since=since, until=until)
        assert copied.height == 2 * 2 * SAMPLES_PER_DAY
        assert copied.equals(fetched)
        for _ in range(2):
            features.refresh_windows(conn, unit_ids=["U1", "U2"], since=since, until=until, window_hours=24, now=until)
        stored = read_features(conn, window_hours=24, since=since, until=until)
        assert stored.height == 4
        assert stored["door_close_s"].is_between(2.8, 3.2).all()


def test_features_job_fills_completed_days_and_hours(database_url: str) -> None:
    with connect(database_url) as conn:
        load_units(conn, {"U1": unit_rows("U1", days=3, seed=6)})
        now = START + timedelta(days=3, minutes=5)
        features.run(conn, now=now)
        features.run(conn, now=now)
        daily = read_features(conn, window_hours=24, since=START, until=now)
        hourly = read_features(conn, window_hours=1, since=START, until=now)
    assert daily["window_start"].to_list() == [START + timedelta(days=d) for d in range(3)]
    assert hourly.height >= 1
