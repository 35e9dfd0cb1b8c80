"""Fleet baselines: which features watch which component, family models, and a unit's assessment at a time.

A unit is judged against its own healthy history (the days before a guard gap, so a fault developing now is
not learned as normal), with each feature's spread floored by its model family's typical spread, so a unit
with an unusually quiet history does not alarm on everyday noise. Recent behaviour is the median of the
last few complete days, so one odd day (a party, an inspection, a data gap) does not raise a finding.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import polars as pl

from brain.detection.detector import (
    DEFAULT_RELATIVE_FLOOR,
    MAD_TO_SIGMA,
    FloatMatrix,
    directed_deviation,
    nan_quiet,
    robust_baseline,
)

__all__ = [
    "FLEET_FEATURES",
    "MIN_FAMILY_UNITS",
    "MIN_HISTORY_DAYS",
    "Assessment",
    "FamilyModel",
    "FeatureSpec",
    "assess_unit",
    "assess_units",
    "drift_statistics",
    "train_family",
]


@dataclass(frozen=True)
class FeatureSpec:
    """A daily feature the fleet detector watches: the component it speaks for and its harmful direction."""

    name: str
    component: str | None  # None: counts toward the unit's health only
    direction: int  # +1 higher is worse, -1 lower is worse, 0 either way
    # Judged by its drift over the whole history window (trend test) instead of recent days against baseline:
    # for wear that drifts too slowly to stand out of a baseline that already holds some of it.
    trend: bool = False


FLEET_FEATURES: tuple[FeatureSpec, ...] = (
    FeatureSpec("door_open_s", "door_rollers", 1),
    FeatureSpec("door_close_s", "door_rollers", 1),
    FeatureSpec("reopen_rate", "door_rollers", 1),
    # Stretched ropes let the car sink below the sill, a few hundredths of a mm a day: a trend, not a level.
    FeatureSpec("levelling_mean_mm", "ropes", -1, trend=True),
    FeatureSpec("stop_distance_p50_mm", "brake", 1),
    FeatureSpec("vibration_hf_p50", "bearing", 1),
    FeatureSpec("vibration_z_p95", "bearing", 1),
    FeatureSpec("drive_over_motor_c", "drive", 1),  # the drive heats beyond what the motor's duty explains
    FeatureSpec("levelling_abs_p95_mm", None, 1),
    FeatureSpec("current_at_balance_a", None, 1),
    FeatureSpec("motor_temp_rise_per_duty", None, 1),
    FeatureSpec("energy_per_trip_kwh", None, 1),
    FeatureSpec("standby_power_w", None, 1),
)
FEATURE_NAMES = tuple(spec.name for spec in FLEET_FEATURES)
_DIRECTIONS = tuple(spec.direction for spec in FLEET_FEATURES)
_TRENDS = tuple(i for i, spec in enumerate(FLEET_FEATURES) if spec.trend)

# Days of feature history a unit needs before it is judged: one week covers the weekly traffic pattern.
MIN_HISTORY_DAYS = 7
# The baseline is the BASELINE_DAYS before a GUARD_DAYS gap: wear that started within the gap still shows.
BASELINE_DAYS = 21
GUARD_DAYS = 7
# Recent behaviour: the median of this many last complete days (one odd day does not decide).
RECENT_DAYS = 3
# The trend test reads the whole history window and needs this many usable days in it.
TREND_DAYS = BASELINE_DAYS + GUARD_DAYS + RECENT_DAYS
MIN_TREND_DAYS = 14
# A day-to-day change this many spreads (of the unit's own day-to-day changes) past the typical one is a step -
# a recalibration, a firmware offset, a sensor swap - and is taken out before the trend is fitted: wear creeps.
STEP_SPREADS = 4.0
# Cap of the residuals' lag-1 autocorrelation in the trend test (above it the effective sample is ~2 days).
MAX_AUTOCORRELATION = 0.9
# A day with fewer samples (an outage, a data gap) is too thin to judge or to learn from.
MIN_DAY_SAMPLES = 24
# A family needs this many units for a family spread; smaller families use the fleet's.
MIN_FAMILY_UNITS = 5
# The family floor is this share of the family's median unit spread (a unit may be quieter, not much).
FAMILY_FLOOR_SHARE = 0.5


@dataclass(frozen=True)
class FamilyModel:
    """The learned state of a model family: its spread floor per feature."""

    family: str
    features: tuple[str, ...]
    scale_floor: tuple[float, ...]
    units: int
    days: int

    def to_artifact(self) -> bytes:
        """The model as JSON bytes."""
        return json.dumps(
            {
                "family": self.family,
                "features": self.features,
                "scale_floor": self.scale_floor,
                "units": self.units,
                "days": self.days,
            }
        ).encode()

    @classmethod
    def from_artifact(cls, data: bytes) -> FamilyModel:
        """The model stored by `to_artifact`."""
        raw = json.loads(data)
        return cls(raw["family"], tuple(raw["features"]), tuple(raw["scale_floor"]), raw["units"], raw["days"])


@dataclass
class Assessment:
    """A unit's state at one time: judged (deviations per feature) or not (with the reason)."""

    unit_id: str
    at: datetime
    judged: bool
    reason: str
    window_start: datetime | None = None
    window_end: datetime | None = None
    values: dict[str, float] = field(default_factory=dict)
    baseline: dict[str, float] = field(default_factory=dict)
    spread: dict[str, float] = field(default_factory=dict)
    deviations: dict[str, float] = field(default_factory=dict)


def _tensor(days: pl.DataFrame, unit_ids: Sequence[str], first_day: datetime, n_days: int) -> FloatMatrix:
    """Usable days of `days` in [first_day, first_day + n_days) as an array (day, unit, feature), NaN where absent."""
    out = np.full((n_days, len(unit_ids), len(FEATURE_NAMES)), np.nan)
    index = {unit: i for i, unit in enumerate(unit_ids)}
    end = first_day + timedelta(days=n_days)
    rows = days.filter(
        (pl.col("samples") >= MIN_DAY_SAMPLES)
        & (pl.col("window_start") >= first_day)
        & (pl.col("window_start") < end)
        & pl.col("unit_id").is_in(list(index))
    )
    if rows.is_empty():
        return out
    day = ((rows["window_start"] - first_day).dt.total_seconds() // 86_400).cast(pl.Int64).to_numpy()
    unit = rows["unit_id"].replace_strict(index, return_dtype=pl.Int64).to_numpy()
    out[day, unit, :] = rows.select([pl.col(name).cast(pl.Float64) for name in FEATURE_NAMES]).to_numpy()
    return out


def _baseline(days: pl.DataFrame, unit_ids: Sequence[str], at: datetime) -> tuple[FloatMatrix, FloatMatrix]:
    """The baseline tensor of the units before `at`, and each unit's count of usable baseline days."""
    tensor = _tensor(days, unit_ids, at - timedelta(days=GUARD_DAYS + BASELINE_DAYS), BASELINE_DAYS)
    return tensor, np.sum(~np.all(np.isnan(tensor), axis=2), axis=0)


def train_family(family: str, history: pl.DataFrame, *, at: datetime) -> FamilyModel | None:
    """The family's spread floors from its units' baseline days before `at`; None if too few units qualify."""
    unit_ids = sorted(set(history["unit_id"].to_list()))
    tensor, day_counts = _baseline(history, unit_ids, at)
    qualified = day_counts >= MIN_HISTORY_DAYS
    if int(qualified.sum()) < MIN_FAMILY_UNITS:
        return None
    _, scale, _ = robust_baseline(tensor[:, qualified, :], relative_floor=0.0)
    floor = FAMILY_FLOOR_SHARE * nan_quiet(np.nanmedian, scale, axis=0)
    days = int(day_counts[qualified].sum())
    return FamilyModel(family, FEATURE_NAMES, tuple(np.nan_to_num(floor, nan=0.0).tolist()), int(qualified.sum()), days)


def _floor(model: FamilyModel | None) -> tuple[float, ...] | None:
    return model.scale_floor if model is not None else None


def drift_statistics(series: FloatMatrix, floor: FloatMatrix) -> tuple[FloatMatrix, FloatMatrix, FloatMatrix]:
    """Per unit (column) of daily values (days x units): fitted level at the window's start and end, and the
    standard error of the drift between them; NaN where fewer than MIN_TREND_DAYS days are usable.

    The noise is the unit's own: from its day-to-day differences (robustly: a step is one outlying difference,
    a slow drift shifts them all a little) and from what the fitted line leaves, corrected for day-to-day
    persistence. Steps are removed before a straight line is fitted.
    `floor` is the lowest day-to-day level spread believed (the family's), so a quiet unit is not over-trusted.
    """
    units = series.shape[1]
    start, end, error = np.full(units, np.nan), np.full(units, np.nan), np.full(units, np.nan)
    for u in range(units):
        days = np.flatnonzero(np.isfinite(series[:, u]))
        if days.size < MIN_TREND_DAYS:
            continue
        steps = np.diff(series[days, u])
        typical = float(np.median(steps))
        spread = max(MAD_TO_SIGMA * float(np.median(np.abs(steps - typical))), float(floor[u]) * np.sqrt(2.0))
        if not spread > 0:
            continue
        level = np.concatenate([[0.0], np.cumsum(np.where(np.abs(steps - typical) > STEP_SPREADS * spread, 0, steps))])
        centred = days - days.mean()
        leverage = float(np.sum(centred**2))
        slope = float(np.sum(centred * (level - level.mean())) / leverage)
        residuals = level - level.mean() - slope * centred
        # Wander that persists from day to day (load mix, season) is not wear: the lag-1 autocorrelation of
        # what the line leaves shrinks the effective number of days (Santer et al. 2008's trend test).
        rho = float(np.clip(np.corrcoef(residuals[:-1], residuals[1:])[0, 1], 0.0, MAX_AUTOCORRELATION))
        noise = max(spread / np.sqrt(2.0), MAD_TO_SIGMA * float(np.median(np.abs(residuals))))
        span = float(days[-1] - days[0])
        start[u] = float(series[days[0], u]) + level.mean() + slope * float(days[0] - days.mean())
        end[u] = start[u] + slope * span
        error[u] = noise / np.sqrt(leverage) * np.sqrt((1 + rho) / (1 - rho)) * span
    return start, end, error


def _trend_columns(
    days: pl.DataFrame, unit_ids: Sequence[str], at: datetime, floors: FloatMatrix, judged: tuple[FloatMatrix, ...]
) -> None:
    """Replace the trend features' recent value, baseline, spread and deviation with their drift statistics."""
    recent, center, scale, deviations = judged
    window = _tensor(days, unit_ids, at - timedelta(days=TREND_DAYS), TREND_DAYS)
    for i in _TRENDS:
        start, end, error = drift_statistics(window[:, :, i], floors[:, i])
        recent[:, i], center[:, i], scale[:, i] = end, start, error
        deviations[:, i] = directed_deviation(end, start, error, (_DIRECTIONS[i],))


def assess_units(
    unit_ids: Sequence[str], days: pl.DataFrame, *, at: datetime, models: Mapping[str, FamilyModel | None]
) -> dict[str, Assessment]:
    """Judge each unit's last complete days against its own baseline (spreads floored by its family model);
    trend features by their drift over the whole window instead."""
    tensor, day_counts = _baseline(days, unit_ids, at)
    no_floor = (0.0,) * len(FEATURE_NAMES)
    floors = np.array([_floor(models.get(unit)) or no_floor for unit in unit_ids]).reshape(-1, len(FEATURE_NAMES))
    center, scale, counts = robust_baseline(tensor, relative_floor=DEFAULT_RELATIVE_FLOOR, floor=floors)
    recent_tensor = _tensor(days, unit_ids, at - timedelta(days=RECENT_DAYS), RECENT_DAYS)
    recent = nan_quiet(np.nanmedian, recent_tensor, axis=0)
    deviations = directed_deviation(recent, center, scale, _DIRECTIONS)
    _trend_columns(days, unit_ids, at, floors, (recent, center, scale, deviations))
    judged = (counts >= MIN_HISTORY_DAYS) & (scale > 0) & np.isfinite(deviations)
    found = {}
    for u, unit_id in enumerate(unit_ids):
        found[unit_id] = _assessment(
            unit_id,
            at,
            int(day_counts[u]),
            recent_tensor[:, u, :],
            judged[u],
            recent[u],
            center[u],
            scale[u],
            deviations[u],
            models.get(unit_id),
        )
    return found


def _assessment(
    unit_id: str,
    at: datetime,
    baseline_days: int,
    recent_days: FloatMatrix,
    judged: Any,
    recent: FloatMatrix,
    center: FloatMatrix,
    scale: FloatMatrix,
    deviations: FloatMatrix,
    model: FamilyModel | None,
) -> Assessment:
    if baseline_days < MIN_HISTORY_DAYS:
        reason = f"not enough history: {baseline_days} usable day(s) in the baseline window, {MIN_HISTORY_DAYS} needed"
        return Assessment(unit_id, at, judged=False, reason=reason)
    present = np.flatnonzero(~np.all(np.isnan(recent_days), axis=1))
    if present.size == 0:
        return Assessment(unit_id, at, judged=False, reason=f"no usable day of data in the last {RECENT_DAYS} day(s)")
    names = [(i, name) for i, name in enumerate(FEATURE_NAMES) if judged[i]]
    if not names:
        return Assessment(unit_id, at, judged=False, reason="no feature has both a baseline and a recent value")
    first = at - timedelta(days=RECENT_DAYS)
    return Assessment(
        unit_id,
        at,
        judged=True,
        reason="judged against its own baseline"
        + (f"; spread floor of family {model.family}" if model else "; no family spread floor (too few units)"),
        window_start=first + timedelta(days=int(present[0])),
        window_end=first + timedelta(days=int(present[-1]) + 1),
        values={name: float(recent[i]) for i, name in names},
        baseline={name: float(center[i]) for i, name in names},
        spread={name: float(scale[i]) for i, name in names},
        deviations={name: float(deviations[i]) for i, name in names},
    )


def assess_unit(unit_id: str, days: pl.DataFrame, *, at: datetime, model: FamilyModel | None) -> Assessment:
    """One unit's assessment (see assess_units)."""
    return assess_units([unit_id], days, at=at, models={unit_id: model})[unit_id]
