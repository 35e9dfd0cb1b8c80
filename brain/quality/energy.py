"""Energy performance per unit and month: ISO 25745-2 classes from counters, and drift against the unit's own past.

CALIBRATION (ISO 25745-2:2015, "Energy performance of lifts, escalators and moving walks - Part 2: Energy
calculation and classification for lifts"). The figures below are an ESTIMATE recalled from memory, not copied
from the standard: check them against Tables 2, 3, 5 and 6 (and the total-energy classification, 8.3) before
any class is quoted as a certificate.
- Usage categories 1-6 (Table 2): nominal 50, 125, 300, 750, 1,500 and 2,500 trips a day with 0.2, 0.5, 1.5, 3,
  6 and 12 running hours a day. A unit's category is the nearest to its measured trips per day (geometric
  midpoints between the nominal counts).
- Idle/standby power classes A-G (Table 5): upper bounds 50, 100, 200, 400, 800, 1,600 W (G above).
- Specific running energy classes A-G (Table 6): upper bounds 0.72, 1.08, 1.62, 2.43, 3.65, 5.47 mWh per kg of
  rated load per m of travel (G above). VDI 4707-1:2009 used 0.56 ... 4.20 for the same letters.
- Average travel per trip (Table 3): 100 % of the travel height with two stops, 67 % with three, 49 % with more.
- Total energy class (8.3): the daily energy at the category's nominal usage, E_d = E_spr * Q * n_d * s_av +
  P_standby * (24 h - running hours), against the same sum taken at each class's two bounds.
The registry keeps floors, not the travel height: travel is (floors - 1) * FLOOR_HEIGHT_M (estimate).
Running energy is the counter's growth less the standby power over the same hours: the counter also runs while
parked (simulators/sampling.py does the same), so this is exact for a constant standby draw.
"""

from __future__ import annotations

import logging
from datetime import date, datetime, timedelta

import numpy as np
import polars as pl

from models.db import Connection
from models.monitoring.alarm_policies import Severity
from models.monitoring.alarms import clear_alarms, raise_alarm
from models.quality.energy_rollup import energy_history, energy_month_inputs, store_drift, store_energy_months

__all__ = ["CLASSES", "DRIFT_ALARM", "classify", "judge_drift", "run_energy"]

log = logging.getLogger(__name__)

CLASSES = "ABCDEFG"
# The alarm a drifting unit raises: minor (no work order of its own; the maintainer plans it in), by the quality job.
DRIFT_ALARM = "energy_drift"
SOURCE = "quality"
USAGE_TRIPS_PER_DAY = np.array([50.0, 125.0, 300.0, 750.0, 1500.0, 2500.0])
USAGE_RUNNING_HOURS = np.array([0.2, 0.5, 1.5, 3.0, 6.0, 12.0])
STANDBY_BOUNDS_W = np.array([50.0, 100.0, 200.0, 400.0, 800.0, 1600.0])
RUNNING_BOUNDS_MWH = np.array([0.72, 1.08, 1.62, 2.43, 3.65, 5.47])
# Typical storey height of residential and office buildings (estimate; the registry has no travel height).
FLOOR_HEIGHT_M = 3.0
# A month with fewer days of readings or trips says nothing reliable about the unit's energy.
MIN_MONTH_HOURS = 14 * 24.0
MIN_MONTH_TRIPS = 200
# Drift: a month against the median of up to BASELINE_MONTHS earlier ones (at least MIN_BASELINE_MONTHS),
# flagged when it is both MIN_RISE above it (traffic mix and load move energy per trip by ~10 %: simulators'
# imbalance term) and MAD_FACTOR robust deviations out, so a unit with a noisy history needs a bigger step.
BASELINE_MONTHS = 12
MIN_BASELINE_MONTHS = 3
MIN_RISE = 0.20
MAD_FACTOR = 4.0
# The verdict of a unit that cannot be judged yet (stored, so it is not judged again every pass).
TOO_LITTLE_HISTORY = "too little history"
# The MAD of a normal sample times this is its standard deviation.
MAD_TO_SIGMA = 1.4826

_USAGE_EDGES = np.sqrt(USAGE_TRIPS_PER_DAY[1:] * USAGE_TRIPS_PER_DAY[:-1])


def _letters(values: np.ndarray, bounds: np.ndarray) -> list[str | None]:
    """The class letter of each value (above a bound: the next class); None where the value is missing."""
    index = np.searchsorted(bounds, values, side="left")
    return [None if not np.isfinite(v) else CLASSES[int(i)] for v, i in zip(values, index, strict=True)]


def _column(frame: pl.DataFrame, name: str) -> np.ndarray:
    return frame[name].cast(pl.Float64).fill_null(np.nan).to_numpy()


def classify(months: pl.DataFrame) -> pl.DataFrame:
    """Add running energy per trip, specific running energy, usage category, daily energy and the three classes
    to monthly inputs (models.quality.energy_rollup.energy_month_inputs); thin months get figures but no class."""
    hours, trips, energy = _column(months, "hours"), _column(months, "trips"), _column(months, "energy_kwh")
    standby = _column(months, "standby_power_w")
    capacity, floors = _column(months, "capacity_kg"), _column(months, "floors")
    usable = (hours >= MIN_MONTH_HOURS) & (trips >= MIN_MONTH_TRIPS)
    with np.errstate(invalid="ignore", divide="ignore"):
        running_kwh = energy - np.nan_to_num(standby) * hours / 1000.0
        per_trip = np.where(usable & (running_kwh > 0), running_kwh / trips, np.nan)
        travel = np.maximum(floors - 1, 1) * FLOOR_HEIGHT_M
        share = np.where(floors <= 2, 1.0, np.where(floors == 3, 0.67, 0.49))
        average_travel = travel * share
        specific = per_trip * 1e6 / (capacity * average_travel)
        category = np.searchsorted(_USAGE_EDGES, trips / (hours / 24.0))
        category = np.where(usable, category, 0)
        n_day, run_h = USAGE_TRIPS_PER_DAY[category], USAGE_RUNNING_HOURS[category]
        load_travel = capacity * n_day * average_travel / 1e6  # kWh per mWh/(kg m) at the nominal usage
        daily = specific * load_travel + standby * (24.0 - run_h) / 1000.0
        daily_bounds = RUNNING_BOUNDS_MWH[None, :] * load_travel[:, None] + (
            STANDBY_BOUNDS_W[None, :] * (24.0 - run_h)[:, None] / 1000.0
        )
        total = (daily[:, None] > daily_bounds).sum(axis=1)
    return months.with_columns(
        pl.Series("running_kwh_per_trip", per_trip).fill_nan(None),
        pl.Series("specific_running_mwh", specific).fill_nan(None),
        pl.Series("usage_category", np.where(usable, category + 1, 0), dtype=pl.Int16).replace(0, None),
        pl.Series("daily_kwh", np.where(usable, daily, np.nan)).fill_nan(None),
        pl.Series("running_class", _letters(np.where(usable, specific, np.nan), RUNNING_BOUNDS_MWH), dtype=pl.String),
        pl.Series("standby_class", _letters(np.where(usable, standby, np.nan), STANDBY_BOUNDS_W), dtype=pl.String),
        pl.Series("energy_class", [CLASSES[int(t)] if np.isfinite(d) else None for t, d in
                                   zip(total, np.where(usable, daily, np.nan), strict=True)], dtype=pl.String),
    )  # fmt: skip


def _rise(value: float | None, history: pl.Series, what: str) -> str | None:
    """Why `value` is a significant rise over `history` (its median and spread), or None."""
    past = history.drop_nulls()
    if value is None or past.len() < MIN_BASELINE_MONTHS:
        return None
    median = float(past.median())  # type: ignore[arg-type]
    mad = float((past - median).abs().median())  # type: ignore[arg-type]
    if median <= 0 or value < median * (1 + MIN_RISE) or value < median + MAD_FACTOR * MAD_TO_SIGMA * mad:
        return None
    return f"{what} {value / median - 1:.0%} above its {past.len()}-month median"


def judge_drift(history: pl.DataFrame, *, month: date) -> pl.DataFrame:
    """For each unit with figures in `month`: (unit_id, drift, drift_reason) against its earlier months in
    `history` (classified rows); drift is None (reason TOO_LITTLE_HISTORY) where there is too little to judge."""
    rows = []
    for group in history.sort("month").partition_by("unit_id"):
        current = group.filter(pl.col("month") == month)
        if current.is_empty():
            continue
        past = group.filter(pl.col("month") < month).tail(BASELINE_MONTHS)
        now = current.row(0, named=True)
        reasons = [
            _rise(now["specific_running_mwh"], past["specific_running_mwh"], "running energy per trip"),
            _rise(now["standby_power_w"], past["standby_power_w"], "standby power"),
        ]
        found = [reason for reason in reasons if reason is not None]
        judged = past["specific_running_mwh"].drop_nulls().len() >= MIN_BASELINE_MONTHS
        classes = past["running_class"].drop_nulls()
        if found and classes.len() and now["running_class"] and now["running_class"] > classes[-1]:
            found.append(f"running class {classes[-1]} -> {now['running_class']}")
        reason = "; ".join(found) if found else None if judged else TOO_LITTLE_HISTORY
        rows.append({"unit_id": now["unit_id"], "drift": bool(found) if judged else None, "drift_reason": reason})
    return pl.DataFrame(rows, schema={"unit_id": pl.String, "drift": pl.Boolean, "drift_reason": pl.String})


def _month_start(moment: datetime) -> date:
    return moment.date().replace(day=1)


def _previous_month(month: date) -> date:
    return (month - timedelta(days=1)).replace(day=1)


def run_energy(conn: Connection, *, since: date, now: datetime) -> tuple[int, int]:
    """Classify every unit's months from `since`'s month on, then judge the last complete month against each
    unit's history: raise an `energy_drift` alarm (the maintainer's; the manufacturer sees it on its units) or
    clear last month's. The months stored and the units found drifting."""
    months = energy_month_inputs(conn, since=since, until=now)
    stored = store_energy_months(conn, months=classify(months), now=now) if not months.is_empty() else 0
    judged = _previous_month(_month_start(now))
    earliest = judged
    for _ in range(BASELINE_MONTHS):
        earliest = _previous_month(earliest)
    history = energy_history(conn, since=earliest, until=judged, undecided_in=judged)
    if history.is_empty():
        return stored, 0
    verdicts = judge_drift(history, month=judged)
    store_drift(conn, month=judged, verdicts=verdicts)
    was_drifting = set(history.filter((pl.col("month") < judged) & pl.col("drift"))["unit_id"].unique())
    drifting = 0
    for unit_id, drift, reason in verdicts.iter_rows():
        if drift:
            drifting += 1
            evidence: dict[str, object] = {"month": judged.isoformat(), "reason": reason}
            raise_alarm(
                conn, unit_id=unit_id, alarm_type=DRIFT_ALARM, severity=Severity.MINOR, component_type=None,
                source=SOURCE, reason=f"energy drift in {judged:%Y-%m}: {reason}", evidence=evidence, at=now,
            )  # fmt: skip
        elif drift is False and unit_id in was_drifting:
            clear_alarms(conn, unit_id=unit_id, alarm_type=DRIFT_ALARM, component_type=None,
                         reason=f"energy back within its history in {judged:%Y-%m}", at=now)  # fmt: skip
    if drifting:
        log.info("energy drift in %s: %d unit(s)", judged, drifting)
    return stored, drifting
