"""Fleet quality on a simulated history: are the simulator's defective batches flagged, how soon after their third
field failure, how many healthy batches are flagged, and how long the quality jobs take.

    .venv/bin/python bench/quality.py [--units 2000] [--years 5] [--step-days 7] [--seed 1]

The fleet (units, builds, batches, which lots are defective) is the simulator's (`simulators.fleet.build_fleet`,
seeded into a throwaway database through `simulators.seeding`). Stepping the simulator sample by sample over
years is out of reach, so the history is drawn from the simulator's own wear model: each wear process fails at
its onset plus its time to failure, and the part is swapped (a part replacement on the unit's chain, as a crew
records it). As confounders, PLANNED_PER_YEAR of all parts are swapped under preventive work orders (not
failures), units were installed over years before the history starts (unequal exposure), and spares carry no
lot. The batch test then runs every `--step-days` of simulated time, as the hourly job would see the fleet.
Baseline, same data: flag a batch at its third failure (no rate test). Prints a table, then one JSON line.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from datetime import time as dt_time
from pathlib import Path

import numpy as np
from quality_counters import drift_units, write_counters

from brain.jobs import quality
from brain.quality.alerts import raise_alerts
from brain.quality.energy import CLASSES, run_energy
from models.access.tenancy import TenantScope
from models.db import Connection, connect
from models.lifecycle import part_replacements
from models.migrate import migrate
from models.quality.lives import without_jit
from models.registry import components
from models.work import work_orders
from simulators.degradation import PROCESSES
from simulators.fleet import Fleet, build_fleet
from simulators.seeding import FACTORY_LEAD_DAYS, REPLACEMENT_LEAD_DAYS, seed_fleet
from stack.postgres import LocalPostgres

START = datetime(2021, 6, 1, tzinfo=UTC)
# Share of parts swapped on a schedule per year (planned work, not failures): a confounder for the failure count.
PLANNED_PER_YEAR = 0.02
# The goal: flagged within this many simulated days of the batch's third field failure.
GOAL_DAYS = 30
# simulators.seeding installs units and fits parts at this time of day.
INSTALL_TIME = dt_time(10)
# Raw telemetry the timed pass rolls up (the days since the previous passes' readings).
RAW_DAYS = timedelta(days=1)
# How far back a job pass with no readings yet would read counters (the scheduler's retention).
COUNTERS_SINCE = timedelta(days=400)
# Part swaps per transaction while writing the history.
SWAPS_PER_TRANSACTION = 500


@dataclass(frozen=True)
class Swap:
    """A part leaving a unit's position: a failure, or a planned swap."""

    at: datetime
    unit_id: str
    component_type: str
    lot: str | None
    failure: bool


def draw_history(fleet: Fleet, *, end: datetime, seed: int) -> list[Swap]:
    """The simulator's wear failures up to `end`, plus planned swaps, in time order."""
    swaps = []
    failed_at: dict[tuple[int, str], float] = {}
    for p, process in enumerate(PROCESSES):
        fail = fleet.onset[p] + fleet.ttf_s[p]
        for index in np.flatnonzero(np.isfinite(fail) & (fail <= end.timestamp()) & (fail > START.timestamp())):
            unit = int(index)
            part = fleet.components[unit][process.component_type]
            if fail[unit] <= fitted_at(fleet, unit, process.component_type).timestamp():
                continue  # the part went in after this failure would have happened
            failed_at[(unit, process.component_type)] = float(fail[unit])
            at = datetime.fromtimestamp(float(fail[unit]), UTC)
            swaps.append(Swap(at, fleet.unit_ids[unit], process.component_type, part.batch.lot, failure=True))
    rng = np.random.default_rng(seed)
    span_s = (end - START).total_seconds()
    for u, parts in enumerate(fleet.components):
        for component_type, part in parts.items():
            planned = START.timestamp() + rng.exponential(365.25 * 86_400 / PLANNED_PER_YEAR)
            if (planned - START.timestamp() < span_s and planned < failed_at.get((u, component_type), np.inf)
                    and planned > fitted_at(fleet, u, component_type).timestamp()):  # fmt: skip
                at = datetime.fromtimestamp(planned, UTC)
                swaps.append(Swap(at, fleet.unit_ids[u], component_type, part.batch.lot, failure=False))
    return sorted(swaps, key=lambda s: s.at)


def fitted_at(fleet: Fleet, unit: int, component_type: str) -> datetime:
    """When simulators.seeding fitted the unit's part: at its factory build, or once its (later) lot was made."""
    built = datetime.combine(fleet.installed_on[unit], INSTALL_TIME, UTC) - timedelta(days=FACTORY_LEAD_DAYS)
    produced = fleet.components[unit][component_type].batch.produced_on
    return max(built, datetime.combine(produced, INSTALL_TIME, UTC) + timedelta(days=REPLACEMENT_LEAD_DAYS))


def write_history(conn: Connection, swaps: list[Swap]) -> None:
    """Record every swap as a part replacement (planned ones under a preventive work order)."""
    scope = TenantScope.internal()
    for first in range(0, len(swaps), SWAPS_PER_TRANSACTION):
        with conn.transaction():
            for n, swap in enumerate(swaps[first : first + SWAPS_PER_TRANSACTION], start=first):
                serial = f"spare-{swap.unit_id}-{swap.component_type}-{n}"
                components.create_component(conn, serial=serial, component_type=swap.component_type, batch_id=None)
                order = None
                if not swap.failure:
                    create = work_orders.WorkOrderCreate(unit_id=swap.unit_id, kind="preventive", title="planned swap")
                    order = work_orders.create_work_order(conn, tenant=scope, order=create).id
                replacement = part_replacements.PartReplacement(
                    position=swap.component_type, installed_serial=serial, occurred_at=swap.at, work_order_id=order
                )
                part_replacements.replace_part(conn, tenant=scope, unit_id=swap.unit_id, replacement=replacement,
                                               actor="bench")  # fmt: skip


def run_alerts(conn: Connection, *, end: datetime, step: timedelta) -> tuple[dict[str, datetime], list[float]]:
    """Run the batch test every `step` up to `end`; when each lot was first flagged, and each pass's seconds."""
    lots = {str(row["id"]): str(row["lot"]) for row in conn.execute("SELECT id, lot FROM component_batches")}
    flagged: dict[str, datetime] = {}
    passes = []
    now = START + step
    while now <= end:
        began = time.perf_counter()
        with conn.transaction():
            for batch_id in raise_alerts(conn, now=now):
                flagged.setdefault(lots[str(batch_id)], now)
        passes.append(time.perf_counter() - began)
        now += step
    return flagged, passes


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--units", type=int, default=2000, help="units in the fleet (default 2000)")
    parser.add_argument("--years", type=float, default=5.0, help="simulated years of history (default 5)")
    parser.add_argument("--step-days", type=int, default=7, help="simulated days between alert passes (default 7)")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    end = START + timedelta(days=365.25 * args.years)
    step = timedelta(days=args.step_days)

    workdir = Path(tempfile.mkdtemp(prefix="liftbrain-bench-", dir="/tmp"))
    workdir.chmod(0o755)
    postgres = LocalPostgres(workdir / "pg")
    try:
        postgres.start()
        dsn = postgres.create_database("bench")
        migrate(dsn)
        fleet = build_fleet(seed=args.seed, units=args.units, start=START, id_prefix="q")
        swaps = draw_history(fleet, end=end, seed=args.seed)
        with connect(dsn, application_name="bench-quality") as conn:
            began = time.perf_counter()
            seed_fleet(conn, fleet)
            seed_s = time.perf_counter() - began
            began = time.perf_counter()
            write_history(conn, swaps)
            history_s = time.perf_counter() - began
            flagged, passes = run_alerts(conn, end=end, step=step)
            cut = datetime.combine((end - RAW_DAYS).date(), datetime.min.time(), UTC)
            drift_month = (cut.date().replace(day=1) - timedelta(days=1)).replace(day=1)
            drifting = drift_units(fleet, seed=args.seed)
            began = time.perf_counter()
            counter_days, samples = write_counters(
                conn, fleet, start=START, cut=cut, end=end, drifting=drifting,
                drift_from=datetime.combine(drift_month, datetime.min.time(), UTC),
            )  # fmt: skip
            counters_s = time.perf_counter() - began
            began = time.perf_counter()
            with conn.transaction():  # what the job's passes up to the cut left: every month classified...
                without_jit(conn)
                run_energy(conn, since=START.date(), now=cut)
            backfill_s = time.perf_counter() - began
            conn.execute("ANALYZE")
            began = time.perf_counter()
            with conn.transaction():  # ...and the reliability snapshot of the last of them (every fit made)
                quality.timed_pass(conn, now=cut, counters_since=COUNTERS_SINCE)
            first_s = time.perf_counter() - began
            began = time.perf_counter()
            with conn.transaction():
                stages = quality.timed_pass(conn, now=end, counters_since=COUNTERS_SINCE)
            job_s = time.perf_counter() - began
            energy = energy_outcome(conn, drift_month, drifting)
            row = conn.execute("SELECT count(*) AS n FROM unit_components").fetchone()
            lives = row["n"] if row else 0
    finally:
        postgres.stop()
        shutil.rmtree(workdir, ignore_errors=True)
    timings = {
        "seed_registry_s": seed_s, "write_history_s": history_s, "write_counters_s": counters_s,
        "counter_days": counter_days, "raw_samples": samples, "energy_backfill_s": backfill_s, "first_pass_s": first_s,
        "quality_job_s": job_s,
        **{f"job_{stage}_s": seconds for stage, seconds in stages.items()},
    }  # fmt: skip
    return report(args, fleet, swaps, flagged, passes, timings=timings, energy=energy,
                  lives=lives if isinstance(lives, int) else 0)  # fmt: skip


def energy_outcome(conn: Connection, month: date, drifting: set[str]) -> dict[str, object]:
    """The drift verdicts of `month` against the units made to drift, and the fleet's classes."""
    rows = conn.execute(
        "SELECT unit_id, drift, energy_class FROM unit_energy_months WHERE month = %(m)s", {"m": month}
    ).fetchall()
    flagged = {str(r["unit_id"]) for r in rows if r["drift"]}
    judged = sum(r["drift"] is not None for r in rows)
    classes = {letter: sum(r["energy_class"] == letter for r in rows) for letter in CLASSES}
    return {
        "energy_month": month.isoformat(), "energy_units_judged": judged, "drift_units": len(drifting),
        "drift_flagged": len(flagged & drifting), "drift_false_flags": len(flagged - drifting),
        "energy_classes": classes,
    }  # fmt: skip


def report(args: argparse.Namespace, fleet: Fleet, swaps: list[Swap], flagged: dict[str, datetime], passes: list[float],
           *, timings: dict[str, float], energy: dict[str, object], lives: int) -> int:  # fmt: skip
    """Print the per-batch table and the figures; exit 0 when the issue's goal is met."""
    failures: dict[str, list[datetime]] = defaultdict(list)
    for swap in swaps:
        if swap.failure and swap.lot is not None:
            failures[swap.lot].append(swap.at)
    batches = {part.batch.lot: part.batch for parts in fleet.components for part in parts.values()}
    worn = {process.component_type for process in PROCESSES}
    scored = sorted((b for b in batches.values() if b.defective and b.component_type in worn), key=lambda b: b.lot)
    print(f"{'defective lot':<16}{'type':<14}{'failures':>9}  {'third failure':<12}  {'flagged':<12}{'lag d':>7}")
    print("-" * 74)
    lags = []
    for batch in scored:
        third = failures[batch.lot][2] if len(failures[batch.lot]) >= 3 else None
        flag = flagged.get(batch.lot)
        lag = (flag - third).days if flag and third else None
        if lag is not None:
            lags.append(lag)
        third_day, flag_day = third.date() if third else "-", flag.date() if flag else "-"
        print(
            f"{batch.lot:<16}{batch.component_type:<14}{len(failures[batch.lot]):>9}  {third_day!s:<12}  "
            f"{flag_day!s:<12}{lag if lag is not None else '-':>7}"
        )
    healthy = [lot for lot, b in batches.items() if not b.defective]
    false_flags = sorted(lot for lot in flagged if not batches[lot].defective)
    baseline_false = sorted(lot for lot in healthy if len(failures[lot]) >= 3)
    unscored = sorted(lot for lot, b in batches.items() if b.defective and b.component_type not in worn)
    figures = {
        "units": args.units, "years": args.years, "step_days": args.step_days, "seed": args.seed,
        "lives": lives, "field_failures": sum(s.failure for s in swaps),
        "planned_swaps": sum(not s.failure for s in swaps),
        "defective_scored": len(scored), "defective_flagged": sum(b.lot in flagged for b in scored),
        "flagged_within_goal": sum(lag <= GOAL_DAYS for lag in lags),
        "lag_days_median": statistics.median(lags) if lags else None, "lag_days_max": max(lags) if lags else None,
        "healthy_batches": len(healthy), "false_flags": len(false_flags), "false_flag_lots": false_flags,
        "baseline_third_failure_false_flags": len(baseline_false),
        "defective_without_wear_process": len(unscored),
        "alert_passes": len(passes), "alert_pass_ms_mean": round(statistics.mean(passes) * 1000, 1),
        "alert_pass_ms_max": round(max(passes) * 1000, 1),
        **{name: round(value, 2) for name, value in timings.items()}, **energy,
        "bottleneck": "postgres" if timings["job_counters_s"] + timings["job_lives_s"] > timings["job_stats_s"]
        else "python (brain)",
    }  # fmt: skip
    print()
    print(f"{'figure':<36}{'value':>14}")
    print("-" * 50)
    for name, value in figures.items():
        if name not in ("false_flag_lots", "energy_classes"):
            print(f"{name:<36}{value!s:>14}")
    print(f"{'energy classes (' + str(energy['energy_month']) + ')':<36}{json.dumps(energy['energy_classes']):>14}")
    print(json.dumps(figures))
    met = figures["flagged_within_goal"] == len(scored) and not false_flags
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
