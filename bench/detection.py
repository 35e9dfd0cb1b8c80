"""Detection quality and cost: a seeded simulated fleet -> TimescaleDB -> features -> detector -> findings,
scored against the simulator's ground truth, next to a simple threshold baseline run on the same features.

    .venv/bin/python bench/detection.py [--units 500] [--days 60] [--sample-period 300] [--seed 3]

Path into the database: the simulator runs in-process (simulators.engine.Simulation, seeded); each simulated
day's samples are written with the ingest's own COPY path (models.telemetry.copy_telemetry), the units'
last_seen is updated as ingest would, then the brain's features job and detection job run for that day (the
detector never sees a later day). Ground truth is the simulator's labels file loaded into simulation_labels.
Uses LIFTBRAIN_DATABASE_URL when set (a scratch database!), else a throwaway local server. Prints a table, then
one JSON object with every figure as the last line.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
from scoring import Alarm, score, threshold_alarms

from brain.jobs import detection, features
from models.db import connect
from models.migrate import migrate
from models.monitoring.features import read_features, read_window, read_window_rows
from models.monitoring.findings import list_findings
from models.telemetry.presence import touch_last_seen
from models.telemetry.samples import copy_telemetry
from models.telemetry.simulation_labels import load_labels_file, read_labels
from simulators.engine import Simulation
from simulators.fleet import build_fleet
from simulators.labels import LabelWriter
from simulators.sampling import Snapshot
from simulators.seeding import seed_fleet
from stack.postgres import LocalPostgres

START = datetime(2026, 3, 2, tzinfo=UTC)
DAY = timedelta(days=1)
# Days before anything is judged: the detector needs MIN_HISTORY_DAYS and the threshold baseline its limits.
WARMUP_DAYS = 14
_DOOR = ("closed", "opening", "open", "closing", "blocked")


def _rows(fleet_ids: list[str], snap: Snapshot) -> list[tuple[Any, ...]]:
    """Telemetry rows (models.telemetry.TELEMETRY_COLUMNS order) of one step's reporting units."""
    units = np.flatnonzero(snap.reporting)
    cols = [
        np.round(snap.ts[units], 3).tolist(), snap.floor[units].tolist(), np.round(snap.position_m[units], 3).tolist(),
        snap.direction[units].tolist(), np.round(snap.speed_mps[units], 3).tolist(),
        np.round(snap.load_pct[units], 1).tolist(), snap.door_state[units].tolist(),
        np.round(snap.motor_current_a[units], 2).tolist(), np.round(snap.motor_temp_c[units], 2).tolist(),
        np.round(snap.drive_temp_c[units], 2).tolist(), np.round(snap.vibration[units], 3).tolist(),
        snap.brake_engaged[units].tolist(), np.round(snap.levelling_error_mm[units], 1).tolist(),
        snap.trip_count[units].tolist(), snap.door_cycles[units].tolist(), np.round(snap.energy_kwh[units], 3).tolist(),
        np.round(snap.standby_power_w[units], 1).tolist(), np.round(snap.door_open_s[units], 2).tolist(),
        np.round(snap.door_close_s[units], 2).tolist(), snap.door_reopens[units].tolist(),
        np.round(snap.vibration_hf[units], 4).tolist(), np.round(snap.stop_distance_mm[units], 1).tolist(),
    ]  # fmt: skip
    out = []
    for u, (ts, fl, pos, dr, sp, ld, door, cur, mt, dt, vib, br, lev, trips, doors, kwh, sb, do, dc, ro, hf, sd) in zip(
        units.tolist(), zip(*cols, strict=True), strict=True
    ):
        at = datetime.fromtimestamp(ts, UTC)
        out.append((fleet_ids[u], at, at, fl, pos, dr, sp, ld, door, cur, mt, dt, vib[0], vib[1], vib[2], br, lev,
                    trips, doors, kwh, sb, None, do, dc, ro, hf, sd))  # fmt: skip
    return out


def simulate_and_detect(dsn: str, args: argparse.Namespace, labels_path: Path) -> dict[str, Any]:
    """Run the fleet day by day through the database and the brain; return timings and counts."""
    fleet = build_fleet(seed=args.seed, units=args.units, start=START)
    sim = Simulation(fleet, start=START, sample_period_s=args.sample_period)
    labels = LabelWriter(labels_path)
    steps_per_day = round(86_400 / args.sample_period)
    timings = {"simulate_s": 0.0, "write_s": 0.0, "features_s": 0.0, "detect_s": 0.0}
    rows_written = 0
    with connect(dsn) as conn:
        seed_fleet(conn, fleet)
        for day in range(args.days):
            began = time.perf_counter()
            rows: list[tuple[Any, ...]] = []
            for _ in range(steps_per_day):
                result = sim.step()
                for incident in result.incidents:
                    labels.incident(fleet, incident)
                rows.extend(_rows(fleet.unit_ids, result.snapshot))
            timings["simulate_s"] += time.perf_counter() - began
            began = time.perf_counter()
            rows_written += copy_telemetry(conn, rows=rows).new
            seen: dict[str, datetime] = {}
            for row in rows:
                seen[row[0]] = max(seen.get(row[0], row[1]), row[1])
            touch_last_seen(conn, seen=seen)
            conn.commit()
            timings["write_s"] += time.perf_counter() - began
            now = START + (day + 1) * DAY + timedelta(minutes=5)
            began = time.perf_counter()
            features.run(conn, now=now)
            conn.commit()
            timings["features_s"] += time.perf_counter() - began
            began = time.perf_counter()
            detection.run(conn, now=now)
            conn.commit()
            timings["detect_s"] += time.perf_counter() - began
            print(f"  day {day + 1}/{args.days}: {len(rows)} rows, {timings}", flush=True)
        labels.degradations(sim, until=sim.start_s + sim.step_index * sim.dt)
        labels.confounders(sim, until=sim.start_s + sim.step_index * sim.dt)
        labels.close()
        load_labels_file(conn, run_id="bench", path=labels_path)
        conn.commit()
    return {"rows": rows_written, **{k: round(v, 1) for k, v in timings.items()}}


def read_paths(dsn: str, units: list[str], day: datetime) -> dict[str, float]:
    """One day of raw telemetry of every unit read by COPY -> polars and by row fetches."""
    with connect(dsn) as conn:
        began = time.perf_counter()
        frame = read_window(conn, unit_ids=units, since=day, until=day + DAY)
        copy_s = time.perf_counter() - began
        began = time.perf_counter()
        rows = read_window_rows(conn, unit_ids=units, since=day, until=day + DAY)
        fetch_s = time.perf_counter() - began
    assert frame.height == rows.height
    return {"read_rows": frame.height, "copy_rows_per_s": round(frame.height / copy_s),
            "fetch_rows_per_s": round(rows.height / fetch_s)}  # fmt: skip


def scan(dsn: str, now: datetime) -> dict[str, float]:
    """The fleet scan of one day (features from raw, then detection), in a fresh process for its peak memory."""
    code = (
        "import json, resource, sys, time; from datetime import datetime; from models.db import connect;"
        "from brain.jobs import detection, features; now = datetime.fromisoformat(sys.argv[2]);"
        'conn = connect(sys.argv[1]); conn.execute("DELETE FROM unit_features WHERE window_start >= %s",'
        " (now.replace(hour=0, minute=0) - __import__('datetime').timedelta(days=1),)); t0 = time.perf_counter();"
        "features.run(conn, now=now); t1 = time.perf_counter(); detection.run(conn, now=now); t2 = time.perf_counter();"
        "conn.rollback(); print(json.dumps({'scan_features_s': round(t1 - t0, 2), 'scan_detect_s': round(t2 - t1, 2),"
        "'scan_peak_mb': round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)}))"
    )
    out = subprocess.run([sys.executable, "-c", code, dsn, now.isoformat()], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def main() -> None:
    """Run the evaluation and print the table and the JSON line."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--units", type=int, default=500)
    parser.add_argument("--days", type=int, default=60)
    parser.add_argument("--sample-period", type=float, default=300.0, help="seconds between samples")
    parser.add_argument("--seed", type=int, default=3)
    parser.add_argument("--keep", type=Path, metavar="DIR", help="also save the daily features and labels there")
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="liftbrain-bench-", dir="/tmp"))
    workdir.chmod(0o755)
    postgres = None if os.environ.get("LIFTBRAIN_DATABASE_URL") else LocalPostgres(workdir / "pg")
    try:
        if postgres is not None:
            postgres.start()
            dsn = postgres.create_database("bench")
        else:
            dsn = os.environ["LIFTBRAIN_DATABASE_URL"]
        migrate(dsn)
        print(f"simulating {args.units} units x {args.days} days, one sample per {args.sample_period:g} s ...")
        run = simulate_and_detect(dsn, args, workdir / "labels.jsonl")
        end = START + args.days * DAY
        with connect(dsn) as conn:
            findings = [Alarm(f.unit_id, f.component_type, f.opened_at) for f in list_findings(conn)]
            daily = read_features(conn, window_hours=24, since=START, until=end)
        unit_ids = sorted(set(daily["unit_id"].to_list()))
        if args.keep:
            args.keep.mkdir(parents=True, exist_ok=True)
            daily.write_parquet(args.keep / "daily_features.parquet")
            shutil.copy(workdir / "labels.jsonl", args.keep / "labels.jsonl")
        baseline = threshold_alarms(daily, warmup_until=START + timedelta(days=WARMUP_DAYS))
        every = read_labels(workdir / "labels.jsonl")
        truth = [label for label in every if label.kind == "degradation"]
        confounders = [label for label in every if label.kind == "confounder"]
        unit_days = args.units * (args.days - WARMUP_DAYS)
        judged = {"warmup_until": START + timedelta(days=WARMUP_DAYS), "run_end": end, "unit_days": unit_days,
                  "confounders": confounders}  # fmt: skip
        ours, theirs = score(findings, truth, **judged), score(baseline, truth, **judged)
        reads = read_paths(dsn, unit_ids, end - DAY)
        scanned = scan(dsn, end + timedelta(minutes=5))
    finally:
        if postgres is not None:
            postgres.stop()
        shutil.rmtree(workdir, ignore_errors=True)
    print(f"\n{args.units} units x {args.days} days, sample period {args.sample_period:g} s, seed {args.seed}; "
          f"judged after a {WARMUP_DAYS}-day warm-up ({unit_days} unit-days, "
          f"{len(confounders)} confounder episodes)")  # fmt: skip
    print(f"{'class':<20} {'episodes':>8} | {'recall':>6} {'precision':>9} {'lead d':>7} | "
          f"{'base recall':>11} {'base prec':>9} {'base lead':>9}")  # fmt: skip
    for cls in sorted(set(ours["classes"]) | set(theirs["classes"])):
        a, b = ours["classes"].get(cls, {}), theirs["classes"].get(cls, {})
        print(f"{cls:<20} {a.get('episodes', 0):>8} | {a.get('recall')!s:>6} {a.get('precision')!s:>9} "
              f"{a.get('median_lead_days', '-')!s:>7} | {b.get('recall')!s:>11} {b.get('precision')!s:>9} "
              f"{b.get('median_lead_days', '-')!s:>9}")  # fmt: skip
    print(f"false alarms per 1,000 unit-days: detector {ours['false_per_1000_unit_days']}, "
          f"threshold baseline {theirs['false_per_1000_unit_days']}")  # fmt: skip
    for cause in sorted(set(ours["false_per_1000_unit_days_by_confounder"])
                        | set(theirs["false_per_1000_unit_days_by_confounder"])):  # fmt: skip
        print(f"  during {cause:<18} detector {ours['false_per_1000_unit_days_by_confounder'].get(cause, 0.0):>6} "
              f"  baseline {theirs['false_per_1000_unit_days_by_confounder'].get(cause, 0.0):>6}")  # fmt: skip
    print(f"pipeline: {run}")
    print(f"read one day of raw telemetry ({reads['read_rows']} rows): COPY->polars {reads['copy_rows_per_s']} rows/s, "
          f"row fetch {reads['fetch_rows_per_s']} rows/s")  # fmt: skip
    print(f"fleet scan of the last day: {scanned}")
    report = {"units": args.units, "days": args.days, "sample_period_s": args.sample_period, "seed": args.seed,
              "detector": ours, "threshold_baseline": theirs, "pipeline": run, "reads": reads,
              "scan": scanned}  # fmt: skip
    print(json.dumps(report))


if __name__ == "__main__":
    main()
