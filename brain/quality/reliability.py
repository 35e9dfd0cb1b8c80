"""Reliability figures per component type, batch, supplier (per component type) and model, from component lives.

Failures and exposure (hours in service) per group; the failure rate per million hours with its exact 95 %
interval; MTBF (exposure per failure: component-hours for parts, unit-hours for models), MTTR (mean repair span
of the failures' work orders) and availability MTBF / (MTBF + MTTR); a right-censored Weibull fit of the parts'
lives. Batches and suppliers are set against the rest of their component type (the fleet rate), with the
one-sided Poisson test of their excess.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import polars as pl

from brain.quality.stats import excess_p_value, fit_weibull, poisson_interval, unreliability_points
from models.quality.reliability import GroupKind, ReliabilityStat

__all__ = ["PER_MILLION", "compute_stats", "lives_frame"]

PER_MILLION = 1e6
# See FitCache.
REFIT_AFTER = timedelta(days=1)
MAX_STALE_REFITS = 5
# Door parts wear with door cycles, the rest with trips: each type's failures are set against its own usage.
DOOR_TYPES = frozenset({"door_operator", "door_rollers"})
# Ids (UUIDs in the database) are kept as text: polars groups and compares them as plain strings.
_IDS = ("model_id", "manufacturer_id", "batch_id", "supplier_id")
_SCHEMA: dict[str, Any] = {
    "life_id": pl.Int64, "unit_id": pl.String, "component_type": pl.String, "hours": pl.Float64,
    "failed": pl.Boolean, "running": pl.Boolean, "repair_hours": pl.Float64, "verified_hours": pl.Float64,
    "unit_hours": pl.Float64,
    "trips": pl.Float64, "door_cycles": pl.Float64, **dict.fromkeys(_IDS, pl.String),
}  # fmt: skip


def lives_frame(rows: list[dict[str, Any]]) -> pl.DataFrame:
    """Component lives (models.quality.lives.component_lives) as a frame, ids as text."""
    columns = {name: [row[name] for row in rows] for name in _SCHEMA}
    for name in _IDS:
        columns[name] = [None if value is None else str(value) for value in columns[name]]
    return pl.DataFrame(columns, schema=_SCHEMA)


def _none(value: float | None) -> float | None:
    return None if value is None or not math.isfinite(value) else float(value)


def _mean(column: pl.Series) -> float | None:
    value = column.mean()
    return float(value) if isinstance(value, float | int) else None


def _figures(failures: int, exposure: float, group: pl.DataFrame) -> dict[str, float | None]:
    """Rate with its interval (per million hours), MTBF, MTTR (to done and to verified) and availability."""
    lower, upper = poisson_interval(failures, exposure)
    repaired = group.filter(pl.col("failed") & pl.col("repair_hours").is_not_null())
    mttr = _mean(repaired["repair_hours"])
    mtbf = exposure / failures if failures > 0 else None
    availability = mtbf / (mtbf + mttr) if mtbf is not None and mttr is not None else None
    return {
        "repairs": repaired.height,
        "mttr_verified_hours": _mean(repaired["verified_hours"]),
        "rate_per_mh": failures / exposure * PER_MILLION if exposure > 0 else None,
        "rate_lower": _none(lower * PER_MILLION),
        "rate_upper": _none(upper * PER_MILLION),
        "mtbf_hours": mtbf,
        "mttr_hours": _none(mttr),
        "availability": availability,
    }


def _usage(group: pl.DataFrame, component_type: str) -> dict[str, Any]:
    """Failures per million trips (door cycles for door parts) over the lives the counters cover."""
    unit = "door_cycles" if component_type in DOOR_TYPES else "trips"
    covered = group.filter(pl.col(unit).is_not_null() & (pl.col(unit) >= 0))
    usage = float(covered[unit].sum())
    if usage <= 0:
        return {}
    failures = int(covered["failed"].sum())
    lower, upper = poisson_interval(failures, usage)
    return {
        "usage_unit": unit, "usage": usage, "usage_failures": failures,
        "rate_per_m_usage": failures / usage * PER_MILLION, "usage_rate_lower": lower * PER_MILLION,
        "usage_rate_upper": upper * PER_MILLION,
    }  # fmt: skip


def _against_fleet(failures: int, exposure: float, type_failures: int, type_exposure: float) -> dict[str, Any]:
    """The rest of the component type's rate, the ratio to it, and the one-sided test of the excess."""
    rest_exposure = type_exposure - exposure
    if rest_exposure <= 0 or exposure <= 0:
        return {}
    fleet_rate = (type_failures - failures) / rest_exposure
    ratio = (failures / exposure) / fleet_rate if fleet_rate > 0 else None
    return {
        "fleet_rate_per_mh": fleet_rate * PER_MILLION,
        "rate_ratio": ratio,
        "p_value": excess_p_value(failures, fleet_rate * exposure),
    }


_FIT_FIELDS = (
    "weibull_shape", "weibull_shape_lower", "weibull_shape_upper", "weibull_scale_hours", "weibull_scale_lower",
    "weibull_scale_upper", "probability_points", "weibull_fitted_at",
)  # fmt: skip


@dataclass
class FitCache:
    """The previous snapshot's Weibull fits and Kaplan-Meier points, reused while their group is unchanged.

    A fit costs lifelines 0.5-1.5 s per group: refitting a fleet's hundreds of batches every hour would be the
    whole job. A group with the same failures and lives keeps its fit for REFIT_AFTER (only its running parts
    have aged, which moves the fit little); past that at most MAX_STALE_REFITS are renewed per pass, so a fleet's
    refits spread over passes instead of landing on one. A group with a new failure or part is always refitted.
    """

    previous: dict[tuple[str, str], ReliabilityStat]
    now: datetime
    stale_budget: int = MAX_STALE_REFITS
    fitted: int = 0

    def fit(self, kind: GroupKind, key: str, group: pl.DataFrame, failures: int) -> dict[str, Any]:
        """The group's Weibull fields: reused from the previous snapshot where allowed, else fitted now."""
        old = self.previous.get((str(kind), key))
        if old is not None and old.failures == failures and old.lives == group.height and old.weibull_fitted_at:
            if self.now - old.weibull_fitted_at <= REFIT_AFTER:
                return {name: getattr(old, name) for name in _FIT_FIELDS}
            if self.stale_budget <= 0:
                return {name: getattr(old, name) for name in _FIT_FIELDS}
            self.stale_budget -= 1
        self.fitted += 1
        return {**_weibull(group), "weibull_fitted_at": self.now}


def _weibull(group: pl.DataFrame) -> dict[str, Any]:
    hours = group["hours"].to_numpy().astype(np.float64)
    failed = group["failed"].to_numpy().astype(bool)
    fit = fit_weibull(hours, failed)
    points = unreliability_points(hours, failed)
    if fit is None:
        return {"probability_points": points}
    return {
        "weibull_shape": fit.shape, "weibull_shape_lower": fit.shape_lower, "weibull_shape_upper": fit.shape_upper,
        "weibull_scale_hours": fit.scale, "weibull_scale_lower": fit.scale_lower,
        "weibull_scale_upper": fit.scale_upper, "probability_points": points,
    }  # fmt: skip


def _parts(lives: pl.DataFrame, kind: GroupKind, keys: list[str], labels: dict[str, str], now: datetime,
           types: dict[str, tuple[int, float]], fits: FitCache) -> list[ReliabilityStat]:  # fmt: skip
    """One row per group of component lives (component type, batch, or supplier and type)."""
    stats = []
    for group in lives.partition_by(keys, maintain_order=False):
        first = group.row(0, named=True)
        failures, exposure = int(group["failed"].sum()), float(group["hours"].sum())
        component_type = str(first["component_type"])
        values: dict[str, Any] = _figures(failures, exposure, group)
        values.update(_usage(group, component_type))
        if kind is GroupKind.COMPONENT_TYPE:
            key, label = component_type, labels.get(component_type, component_type)
        else:
            values.update(_against_fleet(failures, exposure, *types[component_type]))
            supplier = str(first["supplier_id"])
            if kind is GroupKind.BATCH:
                key, label = str(first["batch_id"]), labels.get(str(first["batch_id"]), "?")
                values["batch_id"] = key
            else:
                key, label = f"{supplier}/{component_type}", f"{labels.get(supplier, '?')} ({component_type})"
            values["supplier_id"] = supplier
        if kind is not GroupKind.SUPPLIER:  # a supplier's parts are its batches' parts: fitted there
            values.update(fits.fit(kind, key, group, failures))
        stats.append(ReliabilityStat(
            group_kind=kind, group_key=key, label=label, component_type=component_type, computed_at=now,
            units=group["unit_id"].n_unique(), lives=group.height, failures=failures, exposure_hours=exposure, **values,
        ))  # fmt: skip
    return stats


def _models(lives: pl.DataFrame, labels: dict[str, str], now: datetime,
            downtime: dict[str, dict[str, float | None]]) -> list[ReliabilityStat]:  # fmt: skip
    """One row per unit model: failures of any part over the units' hours in service, and its fault downtime."""
    stats = []
    for group in lives.filter(pl.col("model_id").is_not_null()).partition_by("model_id"):
        first = group.row(0, named=True)
        failures = int(group["failed"].sum())
        exposure = float(group.group_by("unit_id").agg(pl.col("unit_hours").max())["unit_hours"].sum())
        stats.append(ReliabilityStat(
            group_kind=GroupKind.MODEL, group_key=str(first["model_id"]), label=labels.get(str(first["model_id"]), "?"),
            model_id=first["model_id"], manufacturer_id=first["manufacturer_id"], computed_at=now,
            units=group["unit_id"].n_unique(), lives=group.height, failures=failures, exposure_hours=exposure,
            **_figures(failures, exposure, group), **downtime.get(str(first["model_id"]), {}),
        ))  # fmt: skip
    return stats


def compute_stats(
    lives: pl.DataFrame,
    *,
    labels: dict[str, str],
    now: datetime,
    downtime: dict[str, dict[str, float | None]] | None = None,
    previous: list[ReliabilityStat] | None = None,
) -> list[ReliabilityStat]:
    """Every group's figures from the component lives as of `now`; `downtime` per model id (models.quality.lives
    .model_downtime) adds the models' fault downtime and the availability it leaves; `previous` (the last
    snapshot) lends its Weibull fits to unchanged groups (FitCache)."""
    fits = FitCache({(str(s.group_kind), s.group_key): s for s in previous or []}, now)
    lives = lives.filter(pl.col("hours") > 0)
    if lives.is_empty():
        return []
    totals = lives.group_by("component_type").agg(pl.col("failed").sum(), pl.col("hours").sum())
    types = {row[0]: (int(row[1]), float(row[2])) for row in totals.iter_rows()}
    batches = lives.filter(pl.col("batch_id").is_not_null())
    return [
        *_parts(lives, GroupKind.COMPONENT_TYPE, ["component_type"], labels, now, types, fits),
        *_parts(batches, GroupKind.BATCH, ["batch_id"], labels, now, types, fits),
        *_parts(batches, GroupKind.SUPPLIER, ["supplier_id", "component_type"], labels, now, types, fits),
        *_models(lives, labels, now, downtime or {}),
    ]
