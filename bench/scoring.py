"""Scoring of degradation alarms against the simulator's ground truth, and the simple threshold baseline.

An alarm (unit, component, opened at) is a true positive when that unit's component was degrading then
(from the labelled onset until its repair, or its failure, or the end of the run); any other alarm is false.
An episode is eligible for recall when it failed after the warm-up; it is caught when an alarm opened before
the failure, and its lead time is from that alarm's opening to the failure.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import polars as pl

from brain.detection.baselines import FLEET_FEATURES, TREND_DAYS
from models.telemetry.simulation_labels import Label

__all__ = ["Alarm", "score", "threshold_alarms"]

# The baseline's static limit: the fleet's 99th percentile of each feature during the warm-up days.
BASELINE_QUANTILE = 0.99


@dataclass(frozen=True)
class Alarm:
    """A degradation alarm as scored: which unit, which component, when it opened."""

    unit_id: str
    component_type: str
    opened_at: datetime


def _episode_end(label: Label, run_end: datetime) -> datetime:
    return label.repaired_at or label.failure_at or run_end


def _confounder_of(alarm: Alarm, confounders: list[Label]) -> str:
    """The confounder a false alarm may be blamed on: the latest to start among the unit's episodes that were
    under way within the detector's history window before the alarm ("none" if there was none)."""
    since = alarm.opened_at - timedelta(days=TREND_DAYS)
    overlapping = [c for c in confounders if c.unit_id == alarm.unit_id and c.onset_at <= alarm.opened_at
                   and (c.ends_at or alarm.opened_at) >= since]  # fmt: skip
    return max(overlapping, key=lambda c: c.onset_at).cause if overlapping else "none"


def score(
    alarms: list[Alarm], truth: list[Label], *, warmup_until: datetime, run_end: datetime, unit_days: int,
    confounders: list[Label] | None = None,
) -> dict[str, Any]:  # fmt: skip
    """Per class recall, precision and median lead (days), and false alarms per 1,000 unit-days (in all, and
    split by the confounder under way on the unit when each was raised)."""
    episodes: dict[tuple[str, str], list[Label]] = defaultdict(list)
    cause_of: dict[str, str] = {}
    for label in truth:
        if label.component_type:
            episodes[(label.unit_id, label.component_type)].append(label)
            cause_of[label.component_type] = label.cause
    true_alarms: dict[str, int] = defaultdict(int)
    all_alarms: dict[str, int] = defaultdict(int)
    false = 0
    blamed: dict[str, int] = defaultdict(int)
    for alarm in alarms:
        cls = cause_of.get(alarm.component_type, alarm.component_type)
        all_alarms[cls] += 1
        hit = any(e.onset_at <= alarm.opened_at <= _episode_end(e, run_end)
                  for e in episodes.get((alarm.unit_id, alarm.component_type), []))  # fmt: skip
        if hit:
            true_alarms[cls] += 1
        else:
            false += 1
            blamed[_confounder_of(alarm, confounders or [])] += 1
    classes: dict[str, dict[str, Any]] = {}
    for label in truth:
        if label.failure_at is None or not warmup_until <= label.failure_at <= run_end or not label.component_type:
            continue
        entry = classes.setdefault(label.cause, {"episodes": 0, "caught": 0, "leads": []})
        entry["episodes"] += 1
        opened = [a.opened_at for a in alarms if (a.unit_id, a.component_type) == (label.unit_id, label.component_type)
                  and label.onset_at <= a.opened_at < label.failure_at]  # fmt: skip
        if opened:
            entry["caught"] += 1
            entry["leads"].append((label.failure_at - min(opened)) / timedelta(days=1))
    for cls in set(all_alarms) | set(classes):
        entry = classes.setdefault(cls, {"episodes": 0, "caught": 0, "leads": []})
        leads = entry.pop("leads")
        entry["recall"] = round(entry["caught"] / entry["episodes"], 3) if entry["episodes"] else None
        entry["alarms"] = all_alarms.get(cls, 0)
        entry["precision"] = round(true_alarms.get(cls, 0) / all_alarms[cls], 3) if all_alarms.get(cls) else None
        entry["median_lead_days"] = round(statistics.median(leads), 1) if leads else None
    per_1000 = round(1000 * false / unit_days, 2) if unit_days else None
    by_confounder = {cause: round(1000 * n / unit_days, 2) for cause, n in sorted(blamed.items())} if unit_days else {}
    return {"classes": classes, "false_alarms": false, "false_per_1000_unit_days": per_1000,
            "false_per_1000_unit_days_by_confounder": by_confounder}  # fmt: skip


def threshold_alarms(daily: pl.DataFrame, *, warmup_until: datetime) -> list[Alarm]:
    """The baseline: a unit-day past the fleet's static limit of a component feature opens an alarm (one open
    per unit and component; it closes when the unit's day is back inside every limit of that component)."""
    alarms: list[Alarm] = []
    warm = daily.filter(pl.col("window_start") < warmup_until)
    judged = daily.filter(pl.col("window_start") >= warmup_until).sort("window_start")
    breach: dict[str, pl.Expr] = {}
    for spec in FLEET_FEATURES:
        if spec.component is None:
            continue
        q = BASELINE_QUANTILE if spec.direction >= 0 else 1 - BASELINE_QUANTILE
        limit = warm[spec.name].quantile(q)
        if limit is None:
            continue
        over = pl.col(spec.name) > limit if spec.direction >= 0 else pl.col(spec.name) < limit
        breach[spec.component] = (
            breach[spec.component] | over.fill_null(False) if spec.component in breach else over.fill_null(False)
        )
    flags = judged.select("unit_id", "window_start", *[expr.alias(c) for c, expr in breach.items()])
    open_now: set[tuple[str, str]] = set()
    for row in flags.iter_rows(named=True):
        for component in breach:
            key = (row["unit_id"], component)
            if row[component] and key not in open_now:
                open_now.add(key)
                alarms.append(Alarm(row["unit_id"], component, row["window_start"] + timedelta(days=1)))
            elif not row[component]:
                open_now.discard(key)
    return alarms
