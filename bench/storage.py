"""Storage at rest and long reads: bytes per telemetry row in the hypertable vs the Parquet cold tier, and a
30-day hourly window read from the rollups vs from raw rows (hot, then cold).

    .venv/bin/python bench/storage.py [--units 100] [--days 30] [--period 30] [--sim-days 1] [--seed 3]

The simulated fleet (simulators.engine, seeded) is published as contract messages (simulators.messages),
decoded and written by ingest's own path (decode_telemetry -> telemetry_rows -> copy_telemetry), so rows carry
what a real fleet sends; the first `--sim-days` are simulated and repeated (shifted, counters carried on) up
to `--days`, since one simulator step costs about the same whatever the fleet's size. Then, in order: the raw
hourly window is read (no rollups yet: the baseline), the brain's rollups run, the window is read again (now
from rollups), every day older than one day moves to the cold tier (the issue's goal: <= 25 bytes per row for
data older than a day), and the same hourly buckets are computed from the cold files. Reads are the median of
REPEATS. One process (plus PostgreSQL): the bench's own CPU and the server's are both reported. Uses
LIFTBRAIN_DATABASE_URL when set (a scratch database!), else a throwaway local server. Prints a table, then one
JSON object with every figure as the last line.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from brain.jobs import cold_tier, rollups
from models.access.tenancy import TenantScope
from models.db import Connection, connect
from models.migrate import migrate
from models.queries import PageParams
from models.telemetry.cold import cold_buckets
from models.telemetry.contract import decode_telemetry
from models.telemetry.presence import register_units
from models.telemetry.rollups import COUNTERS
from models.telemetry.samples import TELEMETRY_COLUMNS, ReceivedSamples, copy_telemetry, telemetry_rows
from models.telemetry.windows import Bucket, telemetry_window
from simulators.engine import Simulation
from simulators.fleet import build_fleet
from simulators.messages import telemetry_payloads
from stack.postgres import LocalPostgres

START = datetime(2026, 3, 2, tzinfo=UTC)
DAY = timedelta(days=1)
# Samples per published message, as the simulator batches them.
BLOCK_STEPS = 20
# Broker and ingest batching between a block's last sample and its commit.
PUBLISH_LATENCY = timedelta(milliseconds=180)
# Rows per COPY transaction, as an ingest batch of a busy fleet.
COPY_ROWS = 100_000
# Reads are timed this many times; the median is reported (the first read also warms the caches).
REPEATS = 7
# The goal for data older than a day.
GOAL_BYTES_PER_ROW = 25.0
WINDOW_DAYS = 30


def _simulated_rows(args: argparse.Namespace) -> tuple[list[str], list[list[Any]]]:
    """The fleet's first `--sim-days` through ingest's decode path: (unit ids, rows in TELEMETRY_COLUMNS order)."""
    fleet = build_fleet(seed=args.seed, units=args.units, start=START)
    sim = Simulation(fleet, start=START, sample_period_s=args.period)
    steps = round(args.sim_days * 86_400 / args.period)
    rows: list[list[Any]] = []
    for first in range(0, steps, BLOCK_STEPS):
        block = [sim.step().snapshot for _ in range(min(BLOCK_STEPS, steps - first))]
        # Published once the block is complete: each sample reaches ingest some seconds after its own time.
        received_at = datetime.fromtimestamp(float(block[-1].ts.max()), UTC) + PUBLISH_LATENCY
        received = [
            ReceivedSamples(fleet.unit_ids[unit], received_at, decode_telemetry(payload))
            for unit, payload, _ in telemetry_payloads(block)
        ]
        rows.extend(telemetry_rows(received))
    return list(fleet.unit_ids), rows


def _ingest(dsn: str, args: argparse.Namespace) -> tuple[int, float]:
    """Simulate the fleet's first days, write them and their repeats up to `--days` by the COPY path; (rows, s).

    A repeat is the simulated block shifted by its length, each unit's counters carried on from where the last
    repeat ended; the simulator's cost (about 50 ms a step whatever the fleet) would otherwise decide the bench.
    """
    began = time.perf_counter()
    unit_ids, block = _simulated_rows(args)
    at = {name: TELEMETRY_COLUMNS.index(name) for name in ("unit_id", "time", "received_at", *COUNTERS)}
    growth: dict[tuple[str, str], float] = {}
    for counter in COUNTERS:
        values: dict[str, list[float]] = {}
        for row in block:
            if row[at[counter]] is not None:
                values.setdefault(row[at["unit_id"]], []).append(row[at[counter]])
        growth |= {(unit, counter): max(v) - min(v) + 1 for unit, v in values.items()}
    rows_written = 0
    with connect(dsn) as conn:
        register_units(conn, ids=set(unit_ids))
        for repeat in range(math.ceil(args.days / args.sim_days)):
            shift = repeat * args.sim_days * DAY
            for first in range(0, len(block), COPY_ROWS):
                rows = []
                for row in block[first : first + COPY_ROWS]:
                    moved = list(row)
                    moved[at["time"]] += shift
                    moved[at["received_at"]] += shift
                    for counter in COUNTERS:
                        if moved[at[counter]] is not None:
                            moved[at[counter]] += repeat * growth[(row[at["unit_id"]], counter)]
                    rows.append(moved)
                rows_written += copy_telemetry(conn, rows=rows).new
                conn.commit()
            print(f"  {rows_written} rows ({(repeat + 1) * args.sim_days} days)", flush=True)
    return rows_written, time.perf_counter() - began


def _scalar(conn: Connection, query: str) -> Any:
    row = conn.execute(query.encode()).fetchone()
    return None if row is None else next(iter(row.values()))


def _median_ms(read: Callable[[], object]) -> float:
    timings = []
    for _ in range(REPEATS):
        began = time.perf_counter()
        read()
        timings.append((time.perf_counter() - began) * 1000)
    return round(statistics.median(timings), 2)


def _server_cpu_s(conn: Connection) -> float:
    """CPU seconds of every PostgreSQL process of this server so far (from /proc; Linux only)."""
    pid = int(_scalar(conn, "SELECT pg_backend_pid()"))
    parent = int(Path(f"/proc/{pid}/stat").read_text().split(")")[1].split()[1])
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().split(")")[1].split()
        except OSError:
            continue
        if int(fields[1]) == parent or int(stat.parent.name) == parent:
            total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def measure(dsn: str, args: argparse.Namespace, cold_root: Path) -> dict[str, Any]:
    """Ingest, then size and read each tier; every figure of the run."""
    rows, ingest_s = _ingest(dsn, args)
    end = START + args.days * DAY
    days = min(WINDOW_DAYS, args.days)
    since, until = end - days * DAY, end
    unit = "sim-00000"
    page = PageParams(limit=1000, offset=0)
    tenant = TenantScope.internal()

    with connect(dsn, autocommit=True) as conn:

        def window() -> int:
            return len(telemetry_window(conn, tenant=tenant, unit_id=unit, since=since, until=until,
                                        bucket=Bucket.HOUR, page=page).items)  # fmt: skip

        conn.execute("VACUUM ANALYZE telemetry")
        hot_bytes = int(_scalar(conn, "SELECT hypertable_size('telemetry')"))
        extras_bytes = int(_scalar(conn, "SELECT coalesce(sum(pg_column_size(extras)), 0) FROM telemetry"))
        raw_ms = _median_ms(window)
        buckets = window()
        began = time.perf_counter()
        rollups.run(conn, now=end + timedelta(hours=1), lookback=timedelta(0))
        rollup_s = time.perf_counter() - began
        rollup_bytes = int(_scalar(conn, "SELECT pg_total_relation_size('telemetry_hourly')"
                                         " + pg_total_relation_size('telemetry_daily')"))  # fmt: skip
        rollup_ms = _median_ms(window)
        began = time.perf_counter()
        with conn.transaction():
            cold_tier.run(conn, now=end, root=cold_root, hot_for=DAY, retention=timedelta(days=3650))
        cold_s = time.perf_counter() - began
        hot_left = int(_scalar(conn, "SELECT count(*) FROM telemetry"))
        assert window() == buckets, "the window changed when its days went cold"
        server_cpu_s = _server_cpu_s(conn)
    cold_bytes = sum(path.stat().st_size for path in cold_root.rglob("*.parquet"))
    cold_rows = rows - hot_left
    cold_ms = _median_ms(lambda: cold_buckets(cold_root, unit_id=unit, since=since, until=until, width=DAY / 24))
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return {
        "units": args.units, "days": args.days, "period_s": args.period, "rows": rows,
        "load_rows_per_s": round(rows / ingest_s), "hot_bytes_per_row": round(hot_bytes / rows, 1),
        "hot_extras_bytes_per_row": round(extras_bytes / rows, 1), "rollup_mb": round(rollup_bytes / 2**20, 2),
        "rollup_s": round(rollup_s, 2), "cold_rows": cold_rows, "cold_s": round(cold_s, 2),
        "cold_bytes_per_row": round(cold_bytes / cold_rows, 2) if cold_rows else None,
        "hot_to_cold_ratio": round(hot_bytes / rows / (cold_bytes / cold_rows), 1) if cold_rows else None,
        "goal_bytes_per_row": GOAL_BYTES_PER_ROW,
        "goal_met": bool(cold_rows and cold_bytes / cold_rows <= GOAL_BYTES_PER_ROW),
        "window_days": days, "window_buckets": buckets, "window_raw_ms": raw_ms, "window_rollup_ms": rollup_ms,
        "window_cold_raw_ms": cold_ms, "rollup_speedup": round(raw_ms / rollup_ms, 1),
        "bench_cpu_s": round(usage.ru_utime + usage.ru_stime, 1), "server_cpu_s": round(server_cpu_s, 1),
        "bench_peak_mb": round(usage.ru_maxrss / 1024),
    }  # fmt: skip


def main() -> None:
    """Run the bench and print the table and the JSON line."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--units", type=int, default=100)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--period", type=float, default=30.0, help="seconds between samples")
    parser.add_argument("--sim-days", type=int, default=1, help="days simulated, then repeated up to --days")
    parser.add_argument("--seed", type=int, default=3)
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
        print(f"simulating {args.units} units x {args.days} days, one sample per {args.period:g} s ...", flush=True)
        figures = measure(dsn, args, workdir / "cold" / "telemetry")
    finally:
        if postgres is not None:
            postgres.stop()
        shutil.rmtree(workdir, ignore_errors=True)
    f = figures
    print(f"\n{f['rows']:,} rows ({f['units']} units x {f['days']} days at {f['period_s']:g} s)")
    print(f"{'figure':<48} {'value':>12}")
    for label, value in (
        ("hypertable bytes/row, incl. indexes (baseline)", f["hot_bytes_per_row"]),
        ("  of which extras (jsonb)", f["hot_extras_bytes_per_row"]),
        ("cold tier bytes/row (Parquet, zstd)", f["cold_bytes_per_row"]),
        (f"goal <= {GOAL_BYTES_PER_ROW:g} bytes/row for data older than a day", "met" if f["goal_met"] else "MISSED"),
        ("rollups (hourly + daily), MB", f["rollup_mb"]),
        (f"{f['window_days']}-day hourly window from raw rows, ms (baseline)", f["window_raw_ms"]),
        (f"{f['window_days']}-day hourly window from rollups, ms", f["window_rollup_ms"]),
        (f"{f['window_days']}-day hourly buckets from the cold tier, ms", f["window_cold_raw_ms"]),
        ("rollup job / cold job, s", f"{f['rollup_s']} / {f['cold_s']}"),
        ("CPU: bench process / PostgreSQL, s", f"{f['bench_cpu_s']} / {f['server_cpu_s']}"),
    ):
        print(f"{label:<48} {value!s:>12}")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
