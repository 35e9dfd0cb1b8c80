"""The detector: scikit-learn's estimator contract, robust baselines, and judging units fairly on bad input."""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np
import polars as pl
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError

from brain.detection.baselines import MIN_FAMILY_UNITS, TREND_DAYS, assess_unit, drift_statistics, train_family
from brain.detection.detector import RobustBaseline
from brain.detection.features import compute_features
from brain.detection.health import verdicts
from tests.brain.synthetic import START, unit_rows, window_frame


def _days(unit_id: str, *, days: int, seed: int, wear_from_day: float | None = None) -> pl.DataFrame:
    rows = unit_rows(unit_id, days=days, seed=seed, wear_from_day=wear_from_day)
    return compute_features(window_frame(rows), window_hours=24)


def test_estimator_contract() -> None:
    detector = RobustBaseline(threshold=5.0)
    assert clone(detector).get_params()["threshold"] == 5.0
    with pytest.raises(NotFittedError):
        detector.anomaly_score(np.zeros((1, 2)))
    data = np.random.default_rng(0).normal(size=(200, 2))
    assert detector.fit(data) is detector
    assert {"center_", "scale_", "usable_", "threshold_"} <= set(vars(detector))
    assert detector.predict(data).tolist().count(-1) <= 2


def test_a_planted_deviation_scores_high_and_the_harmless_direction_does_not() -> None:
    data = np.random.default_rng(1).normal(10.0, 1.0, size=(100, 2))
    detector = RobustBaseline(directions=(1, 1)).fit(data)
    rows = np.array([[10.0, 10.0], [20.0, 10.0], [0.0, 10.0]])
    scores = detector.anomaly_score(rows)
    assert scores[0] < 2 < detector.threshold_ < scores[1]
    assert scores[2] == 0.0


def test_nan_and_constant_channels_are_ignored_not_fatal() -> None:
    data = np.column_stack([np.full(50, np.nan), np.full(50, 3.0), np.random.default_rng(2).normal(size=50)])
    detector = RobustBaseline().fit(data)
    assert detector.usable_.tolist() == [False, True, True]
    scores = detector.anomaly_score(np.array([[np.nan, 3.0, 0.0], [np.nan, np.nan, np.nan]]))
    assert scores[0] < 1.0
    assert scores[1] == 0.0


def test_unit_with_door_wear_is_flagged_and_its_healthy_twin_is_not() -> None:
    at = START + timedelta(days=26)
    worn = assess_unit("WORN", _days("WORN", days=26, seed=10, wear_from_day=16), at=at, model=None)
    twin = assess_unit("TWIN", _days("TWIN", days=26, seed=10), at=at, model=None)
    flagged = {v.component_type: v for v in verdicts(worn) if v.degrading}
    assert set(flagged) == {"door_rollers"}
    assert flagged["door_rollers"].evidence[0]["feature"] in {"door_close_s", "door_open_s", "reopen_rate"}
    assert "door_rollers:" in flagged["door_rollers"].reason
    assert not [v for v in verdicts(twin) if v.degrading]


def test_a_unit_with_one_day_of_history_says_so() -> None:
    at = START + timedelta(days=1)
    assessment = assess_unit("NEW", _days("NEW", days=1, seed=11), at=at, model=None)
    assert not assessment.judged
    assert "not enough history" in assessment.reason
    assert verdicts(assessment) == []


def test_a_family_of_three_units_trains_no_family_model() -> None:
    at = START + timedelta(days=30)
    history = pl.concat([_days(f"F{i}", days=30, seed=20 + i) for i in range(3)])
    assert train_family("small", history, at=at) is None
    bigger = pl.concat([history, *[_days(f"G{i}", days=30, seed=30 + i) for i in range(MIN_FAMILY_UNITS)]])
    model = train_family("big", bigger, at=at)
    assert model is not None
    assert model.units == MIN_FAMILY_UNITS + 3
    assert type(model).from_artifact(model.to_artifact()) == model


def _levelling(unit_id: str, change: np.ndarray) -> tuple[pl.DataFrame, datetime]:
    """Daily features of a healthy unit whose daily mean levelling error moves by `change` (mm per day)."""
    days = _days(unit_id, days=len(change), seed=40).sort("window_start")
    moved = days.with_columns(pl.col("levelling_mean_mm") + pl.Series(change))
    return moved, START + timedelta(days=len(change))


def _rope_verdict(unit_id: str, change: np.ndarray) -> bool:
    days, at = _levelling(unit_id, change)
    found = verdicts(assess_unit(unit_id, days, at=at, model=None))
    return any(v.degrading for v in found if v.component_type == "ropes")


def test_a_slow_levelling_drift_is_found_and_steps_are_not() -> None:
    days = np.arange(TREND_DAYS, dtype=np.float64)
    # Rope stretch: the car sinks 0.05 mm a day, well inside one day's noise; a firmware offset or a
    # recalibration is one step of several mm; a healthy unit does neither.
    assert _rope_verdict("ROPE", -0.05 * days)
    assert not _rope_verdict("FIRMWARE", np.where(days >= 20, -4.0, 0.0))
    assert not _rope_verdict("RECALIBRATED", np.where(days >= 12, 3.0, 0.0))
    assert not _rope_verdict("HEALTHY", np.zeros(TREND_DAYS))


def test_drift_statistics_use_the_units_own_day_to_day_noise() -> None:
    rng = np.random.default_rng(5)
    days = np.arange(TREND_DAYS, dtype=np.float64)
    quiet = -0.05 * days + rng.normal(0, 0.1, TREND_DAYS)
    noisy = -0.05 * days + rng.normal(0, 2.0, TREND_DAYS)
    start, end, error = drift_statistics(np.column_stack([quiet, noisy]), np.zeros(2))
    drift = end - start
    assert np.allclose(drift, -0.05 * (TREND_DAYS - 1), atol=[0.3, 6.0])
    assert error[1] > 10 * error[0]
    assert -drift[0] / error[0] > 6 > -drift[1] / error[1]
    gappy = np.where(days % 3 == 0, np.nan, quiet)[:, None]
    assert np.isfinite(drift_statistics(gappy, np.zeros(1))[2]).all()
    assert np.isnan(drift_statistics(gappy[:10], np.zeros(1))[2]).all()
