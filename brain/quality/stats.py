"""The statistics behind the quality figures, from well-kept libraries: exact Poisson intervals and tests
(scipy), Weibull fits with right-censoring and Kaplan-Meier estimates (lifelines)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from lifelines import KaplanMeierFitter, WeibullFitter
from scipy import stats

__all__ = ["CONFIDENCE", "WeibullFit", "excess_p_value", "fit_weibull", "poisson_interval", "unreliability_points"]

# Two-sided confidence of every interval reported.
CONFIDENCE = 0.95
# A Weibull fit on fewer failures is noise: its shape bounds would span wear-out and infant mortality alike.
MIN_WEIBULL_FAILURES = 3
# The probability plot needs the curve's shape, not every failure of a large group.
MAX_PLOT_POINTS = 200
# Large groups are fitted on lives rounded to BINS_PER_E bins per e-fold of hours (at most 0.1 % off), weighted
# by count: the likelihood is the same to that precision and a fleet-size group costs what a small one does.
AGGREGATE_ABOVE = 2000
BINS_PER_E = 500

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class WeibullFit:
    """Shape (beta) and scale (eta, hours) with their bounds at CONFIDENCE."""

    shape: float
    shape_lower: float
    shape_upper: float
    scale: float
    scale_lower: float
    scale_upper: float


def poisson_interval(failures: int, exposure: float) -> tuple[float, float]:
    """The exact (Garwood) interval of a failure rate per unit of `exposure` at CONFIDENCE."""
    if exposure <= 0:
        return (math.nan, math.nan)
    tail = (1.0 - CONFIDENCE) / 2.0
    lower = float(stats.chi2.ppf(tail, 2 * failures)) / (2 * exposure) if failures > 0 else 0.0
    upper = float(stats.chi2.ppf(1.0 - tail, 2 * failures + 2)) / (2 * exposure)
    return (lower, upper)


def excess_p_value(failures: int, expected: float) -> float:
    """One-sided Poisson test: the chance of at least `failures` when `expected` are due at the reference rate."""
    if failures <= 0:
        return 1.0
    return float(stats.poisson.sf(failures - 1, expected))


def _weighted(hours: FloatArray, failed: npt.NDArray[np.bool_]) -> tuple[FloatArray, npt.NDArray[np.bool_], FloatArray]:
    """Positive lives as (hours, failed, count), log-binned when the group is large (see AGGREGATE_ABOVE)."""
    positive = hours > 0
    hours, failed = hours[positive], failed[positive]
    if hours.size <= AGGREGATE_ABOVE:
        return hours, failed, np.ones(hours.size)
    binned = np.exp(np.round(np.log(hours) * BINS_PER_E) / BINS_PER_E)
    keys, counts = np.unique(np.stack([binned, failed.astype(np.float64)]), axis=1, return_counts=True)
    return keys[0], keys[1].astype(bool), counts.astype(np.float64)


def fit_weibull(hours: FloatArray, failed: npt.NDArray[np.bool_]) -> WeibullFit | None:
    """Maximum-likelihood Weibull fit with right-censoring (parts still running); None on too few failures."""
    hours, failed, counts = _weighted(hours, failed)
    failures = float(counts[failed].sum())
    if failures < MIN_WEIBULL_FAILURES:
        return None
    # lifelines converges fastest on durations near 1 from a sensible start: the exponential fit (shape 1).
    unit = float(np.median(hours))
    start = np.array([float((hours * counts).sum()) / failures / unit, 1.0])
    fitter = WeibullFitter(alpha=1.0 - CONFIDENCE).fit(
        hours / unit, event_observed=failed, weights=counts, initial_point=start
    )
    # Bounds from the observed information on the log scale (as Meeker & Escobar do), so they stay positive;
    # lifelines names the scale lambda_ and the shape rho_.
    se = fitter.summary["se(coef)"]
    shape, scale = float(fitter.rho_), float(fitter.lambda_) * unit
    z = float(stats.norm.ppf(0.5 + CONFIDENCE / 2.0))
    shape_factor = math.exp(z * float(se["rho_"]) / shape)
    scale_factor = math.exp(z * float(se["lambda_"]) * unit / scale)
    return WeibullFit(
        shape=shape,
        shape_lower=shape / shape_factor,
        shape_upper=shape * shape_factor,
        scale=scale,
        scale_lower=scale / scale_factor,
        scale_upper=scale * scale_factor,
    )


def unreliability_points(hours: FloatArray, failed: npt.NDArray[np.bool_]) -> list[tuple[float, float]]:
    """Kaplan-Meier unreliability F(t) at the failure times (censoring-aware), for a Weibull probability plot."""
    hours, failed, counts = _weighted(hours, failed)
    if not failed.any():
        return []
    fitter = KaplanMeierFitter().fit(hours, event_observed=failed, weights=counts)
    table = fitter.survival_function_
    times = table.index.to_numpy(dtype=float)
    unreliability = 1.0 - table.iloc[:, 0].to_numpy(dtype=float)
    observed = fitter.event_table["observed"].reindex(table.index, fill_value=0).to_numpy() > 0
    keep = observed & (times > 0) & (unreliability > 0) & (unreliability < 1)
    times, unreliability = times[keep], unreliability[keep]
    if times.size > MAX_PLOT_POINTS:
        pick = np.linspace(0, times.size - 1, MAX_PLOT_POINTS).round().astype(int)
        times, unreliability = times[pick], unreliability[pick]
    return [(float(t), float(f)) for t, f in zip(times, unreliability, strict=True)]
