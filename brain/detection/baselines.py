"""Fleet baselines: which features watch which component, family models, and a unit's assessment at a time.

A unit is judged against its own healthy history (the days before a guard gap, so a fault developing now is
not learned as normal), with each feature's spread floored by its model family's typical spread, so a unit
with an unusually quiet history does not alarm on everyday noise. Recent behaviour is the median of the
last few complete days, so one odd day (a party, an inspection, a data gap) does not raise a finding.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import numpy as np
import polars as pl

from brain.detection.detector import DEFAULT_THRESHOLD, FloatMatrix, RobustBaseline, nan_quiet

__all__ = [
    "FLEET_FEATURES",
    "MIN_FAMILY_UNITS",
    "MIN_HISTORY_DAYS",
    "Assessment",
    "FamilyModel",
    "FeatureSpec",
    "assess_unit",
    "train_family",
]


@dataclass(frozen=True)
class FeatureSpec:
    """A daily feature the fleet detector watches: the component it speaks for and its harmful direction."""

    name: str
    component: str | None  # None: counts toward the unit's health only
    direction: int  # +1 higher is worse, -1 lower is worse, 0 either way


FLEET_FEATURES: tuple[FeatureSpec, ...] = (
    FeatureSpec("door_open_s", "door_rollers", 1),
    FeatureSpec("door_close_s", "door_rollers", 1),
    FeatureSpec("reopen_rate", "door_rollers", 1),
    FeatureSpec("levelling_mean_mm", "ropes", -1),  # stretched ropes let the car sink below the sill
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

# Days of feature history a unit needs before it is judged: one week covers the weekly traffic pattern.
MIN_HISTORY_DAYS = 7
# The baseline is the BASELINE_DAYS before a GUARD_DAYS gap: wear that started within the gap still shows.
BASELINE_DAYS = 21
GUARD_DAYS = 7
# Recent behaviour: the median of this many last complete days (one odd day does not decide).
RECENT_DAYS = 3
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


def _matrix(days: pl.DataFrame) -> FloatMatrix:
    return days.select([pl.col(name).cast(pl.Float64) for name in FEATURE_NAMES]).to_numpy()


def _usable(days: pl.DataFrame) -> pl.DataFrame:
    return days.filter(pl.col("samples") >= MIN_DAY_SAMPLES)


def _baseline_rows(days: pl.DataFrame, at: datetime) -> pl.DataFrame:
    start, end = at - timedelta(days=GUARD_DAYS + BASELINE_DAYS), at - timedelta(days=GUARD_DAYS)
    return _usable(days).filter((pl.col("window_start") >= start) & (pl.col("window_start") < end))


def train_family(family: str, history: pl.DataFrame, *, at: datetime) -> FamilyModel | None:
    """The family's spread floors from its units' baseline days before `at`; None if too few units qualify."""
    spreads = []
    rows = _baseline_rows(history, at)
    for _, unit_days in rows.group_by("unit_id"):
        if unit_days.height >= MIN_HISTORY_DAYS:
            spreads.append(RobustBaseline(min_rows=MIN_HISTORY_DAYS).fit(_matrix(unit_days)).scale_)
    if len(spreads) < MIN_FAMILY_UNITS:
        return None
    floor = FAMILY_FLOOR_SHARE * nan_quiet(np.nanmedian, np.stack(spreads), axis=0)
    return FamilyModel(family, FEATURE_NAMES, tuple(np.nan_to_num(floor, nan=0.0).tolist()), len(spreads), rows.height)


def assess_unit(unit_id: str, days: pl.DataFrame, *, at: datetime, model: FamilyModel | None) -> Assessment:
    """Judge the unit's last complete days against its own baseline (spreads floored by the family model)."""
    baseline = _baseline_rows(days, at)
    if baseline.height < MIN_HISTORY_DAYS:
        reason = (
            f"not enough history: {baseline.height} usable day(s) in the baseline window, {MIN_HISTORY_DAYS} needed"
        )
        return Assessment(unit_id, at, judged=False, reason=reason)
    recent = _usable(days).filter(
        (pl.col("window_start") >= at - timedelta(days=RECENT_DAYS)) & (pl.col("window_start") < at)
    )
    if recent.is_empty():
        return Assessment(unit_id, at, judged=False, reason=f"no usable day of data in the last {RECENT_DAYS} day(s)")
    floor = model.scale_floor if model is not None else None
    detector = RobustBaseline(
        threshold=DEFAULT_THRESHOLD, directions=_DIRECTIONS, scale_floor=floor, min_rows=MIN_HISTORY_DAYS
    ).fit(_matrix(baseline))
    now_values = nan_quiet(np.nanmedian, _matrix(recent), axis=0)[None, :]
    deviations = detector.deviations(now_values)[0]
    judged = {name: i for i, name in enumerate(FEATURE_NAMES) if np.isfinite(deviations[i])}
    if not judged:
        return Assessment(unit_id, at, judged=False, reason="no feature has both a baseline and a recent value")
    starts: list[datetime] = recent["window_start"].to_list()
    return Assessment(
        unit_id,
        at,
        judged=True,
        reason="judged against its own baseline" + ("" if model else " (no family spread: too few units)"),
        window_start=min(starts),
        window_end=max(starts) + timedelta(days=1),
        values={name: float(now_values[0, i]) for name, i in judged.items()},
        baseline={name: float(detector.center_[i]) for name, i in judged.items()},
        spread={name: float(detector.scale_[i]) for name, i in judged.items()},
        deviations={name: float(deviations[i]) for name, i in judged.items()},
    )
