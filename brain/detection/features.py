"""Condition features per unit and window (hour or day), computed with polars from raw telemetry windows.

Every feature is robust to what devices really send: missing signals give nulls, not errors; percentiles and
medians instead of means where one bad sample could dominate; counters as (max - min) within the window, so a
gap in the data lowers the count instead of inventing trips.
"""

from __future__ import annotations

import polars as pl

__all__ = ["MIN_WINDOW_SAMPLES", "NOMINAL_BALANCE_PCT", "compute_features"]

# A window with fewer samples than this says nothing reliable about its hour or day; it is left out.
MIN_WINDOW_SAMPLES = 6
# Counterweights balance about 45 % of rated load (40-50 % in practice): the load where the drive works least.
NOMINAL_BALANCE_PCT = 45.0
# Duty below this share of moving samples leaves the temperature rise per duty undefined (divide by ~0).
MIN_DUTY = 0.02

_moving = pl.col("direction").fill_null(0) != 0
_parked = pl.col("direction").fill_null(0) == 0


def _span(name: str) -> pl.Expr:
    """Increase of a cumulative counter within the window (a counter reset would be negative: null)."""
    span = pl.col(name).max() - pl.col(name).min()
    return pl.when(span >= 0).then(span).otherwise(None)


def _fit_current() -> list[pl.Expr]:
    """Motor current of moving samples against the load they carry (signed by direction), fitted linearly."""
    x = (pl.col("direction") * (pl.col("load_pct") - NOMINAL_BALANCE_PCT)).filter(_moving)
    y = pl.col("motor_current_a").filter(_moving)
    slope = pl.cov(x, y) / x.var()
    return [
        slope.alias("current_per_load_a"),
        (y.mean() - slope.fill_nan(None).fill_null(0.0) * x.mean()).alias("current_at_balance_a"),
    ]


def _aggregates() -> list[pl.Expr]:
    trips = _span("trip_count")
    moving_share = _moving.mean()
    temp_rise = pl.col("motor_temp_c").mean() - pl.col("motor_temp_c").min()
    return [
        pl.len().alias("samples"),
        moving_share.alias("moving_share"),
        trips.alias("trips"),
        _span("door_cycles").alias("door_cycles"),
        pl.when(trips > 0).then(((_span("door_cycles") - trips) / trips).clip(0.0)).alias("reopen_rate"),
        pl.col("door_open_s").median().alias("door_open_s"),
        pl.col("door_close_s").median().alias("door_close_s"),
        pl.col("levelling_error_mm").filter(_parked).mean().alias("levelling_mean_mm"),
        pl.col("levelling_error_mm").abs().quantile(0.95).alias("levelling_abs_p95_mm"),
        pl.col("stop_distance_mm").median().alias("stop_distance_p50_mm"),
        pl.col("vibration_z").filter(_moving).median().alias("vibration_z_p50"),
        pl.col("vibration_z").filter(_moving).quantile(0.95).alias("vibration_z_p95"),
        pl.col("vibration_hf").filter(_moving).median().alias("vibration_hf_p50"),
        *_fit_current(),
        pl.when(moving_share >= MIN_DUTY).then(temp_rise / moving_share).alias("motor_temp_rise_per_duty"),
        (pl.col("drive_temp_c") - pl.col("motor_temp_c")).median().alias("drive_over_motor_c"),
        pl.when(trips > 0).then(_span("energy_kwh") / trips).alias("energy_per_trip_kwh"),
        pl.col("standby_power_w").filter(_parked).median().alias("standby_power_w"),
    ]


def compute_features(window: pl.DataFrame, *, window_hours: int) -> pl.DataFrame:
    """One row per unit and window of `window_hours` (1 or 24) with every feature; sparse windows left out."""
    every = f"{window_hours}h"
    frame = (
        window.sort("unit_id", "time")
        .with_columns(pl.col("time").dt.truncate(every).alias("window_start"))
        .group_by("unit_id", "window_start")
        .agg(_aggregates())
        .filter(pl.col("samples") >= MIN_WINDOW_SAMPLES)
        .with_columns(pl.lit(window_hours, dtype=pl.Int64).alias("window_hours"))
    )
    floats = [name for name, dtype in frame.schema.items() if dtype.is_float()]
    # A fit over identical loads divides by zero: NaN becomes null, the detector ignores it.
    return frame.with_columns(pl.col(floats).fill_nan(None)).sort("unit_id", "window_start")
