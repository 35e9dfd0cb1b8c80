"""The learned detector: robust baselines of numeric channels, as a scikit-learn estimator.

`RobustBaseline` learns, from healthy history, each channel's median and robust spread (1.4826 x MAD, floored
so a very quiet channel does not alarm on a rounding step); a row's deviation per channel is its distance from
the median in spreads, signed so that only the harmful direction counts where one is known. The row's score is
its largest deviation; the decision threshold is learned too (the configured minimum, or the training rows' own
high quantile if that is higher, so noisy channels do not alarm on their everyday spread).

The estimator scores any table (`liftbrain detect`); the fleet pass (brain/detection/baselines.py) applies the
same two functions, `robust_baseline` and `directed_deviation`, to every unit of a family at once.
"""

# ruff: noqa: N803 (scikit-learn names the data matrix X)
from __future__ import annotations

import warnings
from typing import Any, Self

import numpy as np
import numpy.typing as npt
from sklearn.base import BaseEstimator, OutlierMixin
from sklearn.utils.validation import check_is_fitted, validate_data

__all__ = [
    "DEFAULT_THRESHOLD",
    "MAD_TO_SIGMA",
    "FloatMatrix",
    "RobustBaseline",
    "directed_deviation",
    "nan_quiet",
    "robust_baseline",
]

FloatMatrix = npt.NDArray[np.float64]

# 1.4826 x MAD estimates the standard deviation of normal data, while ignoring a minority of outliers.
MAD_TO_SIGMA = 1.4826
# Deviations in robust standard deviations: 6 is far past noise (p ~ 1e-9 for normal data) yet well inside
# what a developing fault shows days before it fails (measured in bench/detection.py).
DEFAULT_THRESHOLD = 6.0
# A channel needs this many training values before its baseline is trusted; fewer and it is ignored.
DEFAULT_MIN_ROWS = 7
# Spread floor as a share of the channel's typical magnitude: quantised or constant channels have MAD 0.
DEFAULT_RELATIVE_FLOOR = 0.02
# The learned threshold is at least this quantile of the training rows' scores.
DEFAULT_TRAIN_QUANTILE = 0.995


def nan_quiet(function: Any, *args: Any, **kwargs: Any) -> FloatMatrix:
    """Run a nan-aware numpy reduction without the warning for all-NaN columns (they stay NaN on purpose)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.asarray(function(*args, **kwargs), dtype=np.float64)


def robust_baseline(
    data: FloatMatrix, *, relative_floor: float, floor: FloatMatrix | None = None
) -> tuple[FloatMatrix, FloatMatrix, npt.NDArray[np.int64]]:
    """Median, floored robust spread and count of values along the first axis (rows) of `data`, NaN ignored."""
    center = nan_quiet(np.nanmedian, data, axis=0)
    mad = nan_quiet(np.nanmedian, np.abs(data - center), axis=0)
    lowest = relative_floor * np.abs(center)
    if floor is not None:
        lowest = np.fmax(lowest, floor)
    return center, np.fmax(MAD_TO_SIGMA * mad, lowest), np.sum(~np.isnan(data), axis=0)


def directed_deviation(
    values: FloatMatrix, center: FloatMatrix, scale: FloatMatrix, directions: tuple[int, ...] | None
) -> FloatMatrix:
    """(values - center) / scale, signed so that positive is harmful (+1: higher is worse, -1 lower, 0 either)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        z = (values - center) / scale
    if directions is None:
        return np.abs(z)
    signs = np.asarray(directions, dtype=np.float64)
    return np.where(signs == 0, np.abs(z), z * signs)


class RobustBaseline(OutlierMixin, BaseEstimator):  # type: ignore[misc]
    """Median and robust spread per channel; scores are deviations in spreads (higher = more anomalous)."""

    def __init__(
        self,
        *,
        threshold: float = DEFAULT_THRESHOLD,
        directions: tuple[int, ...] | None = None,
        scale_floor: tuple[float, ...] | None = None,
        min_rows: int = DEFAULT_MIN_ROWS,
        relative_floor: float = DEFAULT_RELATIVE_FLOOR,
        train_quantile: float = DEFAULT_TRAIN_QUANTILE,
    ) -> None:
        self.threshold = threshold
        self.directions = directions
        self.scale_floor = scale_floor
        self.min_rows = min_rows
        self.relative_floor = relative_floor
        self.train_quantile = train_quantile

    def _check(self, X: Any, *, reset: bool) -> FloatMatrix:
        checked = validate_data(self, X, reset=reset, dtype=np.float64, ensure_all_finite="allow-nan")
        return np.asarray(checked, dtype=np.float64)

    def fit(self, X: Any, y: Any = None) -> Self:
        """Learn each channel's median, spread and usable flag, then the score threshold, from rows `X`."""
        data = self._check(X, reset=True)
        floor = None if self.scale_floor is None else np.asarray(self.scale_floor, dtype=np.float64)
        self.center_, self.scale_, self.rows_ = robust_baseline(data, relative_floor=self.relative_floor, floor=floor)
        self.usable_ = (self.rows_ >= self.min_rows) & (self.scale_ > 0) & np.isfinite(self.scale_)
        train_scores = self.anomaly_score(data) if data.shape[0] else np.array([])
        learned = nan_quiet(np.nanquantile, train_scores, self.train_quantile) if train_scores.size else np.nan
        self.threshold_ = float(np.fmax(self.threshold, learned))
        return self

    def deviations(self, X: Any) -> FloatMatrix:
        """Deviation of each value in spreads, in the harmful direction (NaN where the channel is unusable)."""
        check_is_fitted(self)
        z = directed_deviation(self._check(X, reset=False), self.center_, self.scale_, self.directions)
        return np.where(self.usable_, z, np.nan)

    def anomaly_score(self, X: Any) -> FloatMatrix:
        """Each row's largest harmful deviation, at least 0 (0 too when no channel of the row can be judged)."""
        worst = nan_quiet(np.nanmax, self.deviations(X), axis=1)
        return np.maximum(np.nan_to_num(worst, nan=0.0), 0.0)

    def score_samples(self, X: Any) -> FloatMatrix:
        """scikit-learn's convention: higher is more normal (the negated anomaly score)."""
        return -self.anomaly_score(X)

    def decision_function(self, X: Any) -> FloatMatrix:
        """Positive for normal rows, negative past the learned threshold."""
        return self.threshold_ - self.anomaly_score(X)

    def predict(self, X: Any) -> npt.NDArray[np.int64]:
        """1 for normal rows, -1 for anomalies (scikit-learn's outlier convention)."""
        return np.where(self.decision_function(X) < 0, -1, 1).astype(np.int64)
