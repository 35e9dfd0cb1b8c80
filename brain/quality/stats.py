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


def fit_weibull(hours: FloatArray, failed: npt.NDArray[np.bool_]) -> WeibullFit | None:
    """Maximum-likelihood Weibull fit with right-censoring (parts still running); None on too few failures."""
    positive = hours > 0
    if int(failed[positive].sum()) < MIN_WEIBULL_FAILURES:
        return None
    fitter = WeibullFitter(alpha=1.0 - CONFIDENCE).fit(hours[positive], event_observed=failed[positive])
    # Bounds from the observed information on the log scale (as Meeker & Escobar do), so they stay positive;
    # lifelines names the scale lambda_ and the shape rho_.
    se = fitter.summary["se(coef)"]
    shape, scale = float(fitter.rho_), float(fitter.lambda_)
    z = float(stats.norm.ppf(0.5 + CONFIDENCE / 2.0))
    shape_factor = math.exp(z * float(se["rho_"]) / shape)
    scale_factor = math.exp(z * float(se["lambda_"]) / scale)
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
    positive = hours > 0
    if not failed[positive].any():
        return []
    fitter = KaplanMeierFitter().fit(hours[positive], event_observed=failed[positive])
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
