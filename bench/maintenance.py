"""Benchmark: the maintenance planning job over a large fleet (the issue asks for 10,000 units within 30 s).

Starts its own PostgreSQL+TimescaleDB (durable commits) in a temporary directory, seeds a fleet (one make,
maintainers each holding contracts for a share of the units, crews in the units' cities, fault events for some
units, most units monitored), then times the planning job (`brain.jobs.planning.plan`, one transaction, per-unit
savepoints) in the passes a fleet goes through:

  assign   every unit gets its default plan (set-based)
  due      the whole fleet's half-monthly visit comes due at once (worst case): a visit, a work order and a
           dispatch decision per unit
  repeat   the same pass again: nothing new (the steady state of a job that runs every 10 minutes)
  decide   after two completed visits (per completing unit): the on-demand interval decision for every unit

Between the passes the open visits (of all units, or of `--complete-share` of them) are completed through
`models.work.visits.complete_visit` with a full checklist (a small share of measured items out of limits, which
opens corrective work orders); that rate is reported too. Baseline, measured in the same run: a pass of
`for_each_unit` over the same units doing nothing but its savepoint (the floor of per-unit isolation).

    .venv/bin/python bench/maintenance.py --units 10000

`--loop` runs the maintenance loop closed over a simulated fleet instead (bench/closed_loop.py): `--units` units
for `--days` days at `--sample-period` seconds; alarms, work orders (none duplicated), share verified, reopened,
SLA compliance, with the plan-only pass timed in the same run as the baseline.

    .venv/bin/python bench/maintenance.py --loop --units 1000 --days 90 --sample-period 900
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from closed_loop import run_loop

from brain.jobs.planning import PlanningReport, plan
from brain.units import for_each_unit
from models.access.tenancy import TenantScope
from models.db import Connection, connect
from models.migrate import migrate
from models.registry import organizations
from models.work import crews
from models.work.checklists import ItemResult, VisitCompletion
from models.work.dispatch import set_crew_region
from models.work.plans import Judged, PlanItem, load_plan
from models.work.visits import complete_visit
from stack.postgres import LocalPostgres

CEILING_DAYS = 60
CITIES = 20
MAINTAINERS = 10
CREWS_PER_MAINTAINER = 40
T0 = datetime(2026, 1, 1, 8, tzinfo=UTC)
INTERNAL = TenantScope.internal()


def seed(conn: Connection, *, units: int, rng: random.Random, monitored_share: float) -> None:
    """A fleet of `units` in service, contracts spread over the maintainers, crews in every city."""
    make = organizations.create_organization(conn, name="Make", kind="manufacturer")
    conn.execute("INSERT INTO manufacturers (name, organization_id) VALUES ('Make', %s)", (make.id,))
    conn.execute(
        "INSERT INTO unit_models (manufacturer_id, name, capacity_kg, rated_speed_mps, drive_type)"
        " SELECT id, 'M1000', 1000, 1.75, 'traction_gearless' FROM manufacturers"
    )
    conn.execute(
        "INSERT INTO sites (name, city) SELECT 'Site ' || g, 'City ' || (g %% %s) FROM generate_series(0, %s) g",
        (CITIES, units // 10),
    )
    conn.execute(
        "INSERT INTO units (id, serial, registration_code, model_id, manufacturer_id, site_id, floors, status,"
        " last_seen) SELECT 'U' || lpad(g::text, 6, '0'), 'SN' || g, 'REG' || g, m.id, m.manufacturer_id,"
        " (SELECT id FROM sites ORDER BY id OFFSET g %% (%s + 1) LIMIT 1), 12, 'in_service',"
        " CASE WHEN random() < %s THEN %s END FROM generate_series(0, %s) g, unit_models m",
        (units // 10, monitored_share, T0 + timedelta(days=400), units - 1),
    )
    for m in range(MAINTAINERS):
        org = organizations.create_organization(conn, name=f"Maintainer {m}", kind="maintainer")
        conn.execute(
            "INSERT INTO maintenance_contracts (unit_id, maintainer_id, starts_on)"
            " SELECT id, %s, '2024-01-01' FROM units WHERE hashtext(id) %% %s = %s",
            (org.id, MAINTAINERS, m),
        )
        conn.execute("UPDATE maintenance_contracts SET maintainer_id = %s WHERE maintainer_id IS NULL", (org.id,))
        for c in range(CREWS_PER_MAINTAINER):
            crew = crews.create_crew(conn, tenant=INTERNAL, maintainer_id=org.id, name=f"crew {c}")
            set_crew_region(conn, tenant=INTERNAL, crew_id=crew.id, region=f"City {c % CITIES}")
    # Units without a contract after the modulo split (negative hashes) go to the first maintainer.
    conn.execute(
        "INSERT INTO maintenance_contracts (unit_id, maintainer_id, starts_on) SELECT u.id,"
        " (SELECT id FROM organizations WHERE name = 'Maintainer 0'), '2024-01-01' FROM units u"
        " WHERE NOT EXISTS (SELECT 1 FROM maintenance_contracts c WHERE c.unit_id = u.id)"
    )
    unit_ids = [str(r["id"]) for r in conn.execute("SELECT id FROM units").fetchall()]
    faults = []
    for unit_id in unit_ids:
        n = rng.choices([0, 1, 3], weights=[85, 10, 5])[0]
        faults += [(unit_id, T0 + timedelta(days=rng.uniform(1, 29))) for _ in range(n)]
    with conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO events (unit_id, time, received_at, code, category) VALUES (%s, %s, %s, 'overspeed', 'fault')"
            " ON CONFLICT DO NOTHING",
            [(u, t, t) for u, t in faults],
        )
    conn.commit()


def _result(item: PlanItem, rng: random.Random, fail_share: float) -> ItemResult:
    fields: dict[str, Any] = {"item": item.code}
    if item.judged is Judged.QUALITATIVE:
        fields["outcome"] = "pass"
    else:
        fields["unit"] = item.unit
        fields["value"] = item.min if item.min is not None else (item.max or 2.0) / 2
        if item.judged is Judged.MEASURED and rng.random() < fail_share:
            fields["value"] = (item.min or 0) - 1 if item.min is not None else (item.max or 0) + 1
        if item.judged is Judged.MANUFACTURER_LIMIT:
            fields["outcome"] = "pass"
    if item.evidence_required:
        fields["evidence"] = ["report.pdf"]
    return ItemResult.model_validate(fields)


def complete_all(
    conn: Connection, *, day: datetime, rng: random.Random, fail_share: float, share: float
) -> tuple[int, float]:
    """Complete the open visits of `share` of the units (the same units each time) on `day`; (visits, seconds)."""
    rows = conn.execute(
        "SELECT id, plan_code, intervals FROM maintenance_visits WHERE completed_at IS NULL"
        " AND abs(hashtext(unit_id)) %% 1000 < %s",
        (round(share * 1000),),
    ).fetchall()
    started = time.perf_counter()
    for row in rows:
        items = load_plan(str(row["plan_code"])).items_for(list(row["intervals"]))  # type: ignore[call-overload]
        completion = VisitCompletion(results=[_result(i, rng, fail_share) for i in items.values()])
        complete_visit(conn, tenant=INTERNAL, visit_id=row["id"], completion=completion, actor="bench",  # type: ignore[arg-type]
                       now=day)  # fmt: skip
    conn.commit()
    return len(rows), time.perf_counter() - started


def timed_pass(conn: Connection, now: datetime) -> tuple[PlanningReport, float]:
    """One planning pass, committed; its report and seconds."""
    started = time.perf_counter()
    report = plan(conn, now=now, ceiling_days=CEILING_DAYS)
    conn.commit()
    return report, round(time.perf_counter() - started, 2)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--units", type=int, default=10000, help="units in the fleet (default 10000)")
    parser.add_argument("--monitored", type=float, default=0.8, help="share of units with a reporting device")
    parser.add_argument("--fail-share", type=float, default=0.02, help="share of measured items out of limits")
    parser.add_argument(
        "--complete-share",
        type=float,
        default=1.0,
        help="share of units whose visits are completed (completions are the slow part of the run)",
    )
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--loop", action="store_true", help="close the loop over a simulated fleet")
    parser.add_argument("--days", type=int, default=90, help="--loop: simulated days")
    parser.add_argument("--sample-period", type=float, default=900.0, help="--loop: seconds between samples")
    parser.add_argument("--window-days", type=float, default=3.0, help="--loop: verification window")
    args = parser.parse_args()
    rng = random.Random(args.seed)
    if args.loop:
        return loop(args)

    workdir = Path(tempfile.mkdtemp(prefix="liftbrain-bench-", dir="/tmp"))
    workdir.chmod(0o755)
    postgres = LocalPostgres(workdir / "pg")
    figures: dict[str, Any] = {"units": args.units, "ceiling_days": CEILING_DAYS, "complete_share": args.complete_share}
    try:
        postgres.start()
        dsn = postgres.create_database("bench")
        migrate(dsn)
        with connect(dsn) as conn:
            print(f"seeding {args.units} units ...", flush=True)
            seed(conn, units=args.units, rng=rng, monitored_share=args.monitored)
            unit_ids = [str(r["id"]) for r in conn.execute("SELECT id FROM units").fetchall()]
            started = time.perf_counter()
            for_each_unit(conn, unit_ids, lambda c, u: None, job="baseline")
            conn.commit()
            figures["baseline_savepoints_s"] = round(time.perf_counter() - started, 2)

            print("planning passes: assign, due, repeat ...", flush=True)
            report, figures["assign_s"] = timed_pass(conn, T0)
            figures["plans_assigned"] = report.plans_assigned
            report, figures["due_s"] = timed_pass(conn, T0 + timedelta(days=13))
            figures["due_visits_opened"] = report.visits_opened
            figures["due_failed_units"] = len(report.failed_units)
            report, figures["repeat_s"] = timed_pass(conn, T0 + timedelta(days=13, minutes=10))
            figures["repeat_visits_opened"] = report.visits_opened

            print("completing every visit, twice ...", flush=True)
            done, seconds = complete_all(
                conn, day=T0 + timedelta(days=15), rng=rng, fail_share=args.fail_share, share=args.complete_share
            )
            report, _ = timed_pass(conn, T0 + timedelta(days=28))
            done2, seconds2 = complete_all(
                conn, day=T0 + timedelta(days=30), rng=rng, fail_share=args.fail_share, share=args.complete_share
            )
            figures["completions"] = done + done2
            figures["completions_per_s"] = round((done + done2) / max(seconds + seconds2, 1e-9), 1)

            print("planning pass: interval decisions ...", flush=True)
            report, figures["decide_s"] = timed_pass(conn, T0 + timedelta(days=31))
            figures["decide_intervals_changed"] = report.intervals_changed
            figures["decide_visits_opened"] = report.visits_opened
            counts = conn.execute(
                "SELECT (SELECT count(*) FROM work_orders) AS orders,"
                " (SELECT count(*) FROM maintenance_visits) AS visits,"
                " (SELECT count(*) FROM work_orders WHERE source = 'plan') AS plan_orders,"
                " (SELECT count(DISTINCT (source, source_ref)) FROM work_orders) AS distinct_sources,"
                " (SELECT count(*) FROM work_orders WHERE source = 'visit') AS corrective_orders,"
                " (SELECT count(*) FROM work_orders WHERE crew_id IS NULL AND status = 'open') AS undispatched"
            ).fetchone()
            assert counts is not None
            figures.update({k: int(str(v)) for k, v in counts.items()})
            by_days = conn.execute(
                "SELECT interval_days, count(*) AS n FROM plan_schedules WHERE interval_code = 'half_monthly'"
                " GROUP BY interval_days ORDER BY interval_days"
            ).fetchall()
            figures["routine_interval_days"] = {str(r["interval_days"]): r["n"] for r in by_days}
    finally:
        postgres.stop()
        shutil.rmtree(workdir, ignore_errors=True)

    print_figures(figures)
    return 0


def print_figures(figures: dict[str, Any]) -> None:
    """The table, then the JSON line."""
    print()
    print(f"{'figure':<30}{'value':>40}")
    print("-" * 70)
    for name, value in figures.items():
        print(f"{name:<30}{value!s:>40}")
    print(json.dumps(figures))


def _server_cpu_s(pgdata: Path) -> float:
    """CPU seconds the PostgreSQL server has used: the postmaster, its reaped children, and its live ones."""
    tick = os.sysconf("SC_CLK_TCK")
    postmaster = int((pgdata / "postmaster.pid").read_text().split()[0])
    total = 0.0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:  # the process ended while being read
            continue
        pid, ppid = int(stat.parent.name), int(fields[1])
        if pid == postmaster:
            total += sum(int(f) for f in fields[11:15]) / tick  # utime, stime and the reaped children's
        elif ppid == postmaster:
            total += sum(int(f) for f in fields[11:13]) / tick
    return total


def loop(args: argparse.Namespace) -> int:
    """The closed-loop mode on a throwaway server."""
    workdir = Path(tempfile.mkdtemp(prefix="liftbrain-bench-", dir="/tmp"))
    workdir.chmod(0o755)
    postgres = LocalPostgres(workdir / "pg")
    figures: dict[str, Any] = {"mode": "loop", "units": args.units, "days": args.days,
                               "sample_period_s": args.sample_period}  # fmt: skip
    try:
        postgres.start()
        dsn = postgres.create_database("bench")
        migrate(dsn)
        started, own_cpu, server_cpu = time.perf_counter(), time.process_time(), _server_cpu_s(postgres.pgdata)
        figures.update(run_loop(dsn, units=args.units, days=args.days, sample_period_s=args.sample_period,
                                seed=args.seed, window=timedelta(days=args.window_days)))  # fmt: skip
        wall = time.perf_counter() - started
        shares = {"bench (simulator, brain jobs, crews)": (time.process_time() - own_cpu) / wall,
                  "postgres": (_server_cpu_s(postgres.pgdata) - server_cpu) / wall}  # fmt: skip
        figures["total_s"] = round(wall, 1)
        figures["cpu_share"] = {name: round(share, 2) for name, share in shares.items()}
        figures["bottleneck"] = max(shares, key=lambda name: shares[name])
    finally:
        postgres.stop()
        shutil.rmtree(workdir, ignore_errors=True)
    print_figures(figures)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
