"""Benchmark: a controller event published over MQTT -> committed by ingest -> an open alarm in the API.

Starts its own PostgreSQL+TimescaleDB and Mosquitto, runs ingest in this process (its commit hook stamps
each event's commit: the baseline, ingest alone), and the brain and the API as the real processes
(`liftbrain brain`, `liftbrain api`). A fleet of --units units publishes a telemetry batch of
--samples samples every second (background load) while --events events arrive at --event-rate per second,
each on a (unit, code) pair with no alarm yet. A poller reads `GET /alarms?since=...` every POLL_S and
notes when each alarm first appears. Then a backlog of --backlog events committed at once is drained by
the rules alone (events/s: how fast the alarms catch up when many gateways reconnect together).
With --backlog-only, only that drain runs (PostgreSQL alone), next to a baseline in the same run: the same
rules applied one event at a time (--baseline-events of them, on a second database).

    .venv/bin/python bench/alarm_latency.py --units 200 --events 300 --event-rate 5
    .venv/bin/python bench/alarm_latency.py --backlog-only --units 2000 --backlog 20000

Prints a table, then one JSON line with every figure.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import msgspec
import numpy as np
import paho.mqtt.client as mqtt
import psycopg
from paho.mqtt.enums import CallbackAPIVersion

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from brain.jobs.alarms import BATCH_UNITS, CURSOR, apply_events, run_event_rules
from brain.scheduler import jobs_for
from ingest.batch import BatchResult
from ingest.consumer import Delivery
from ingest.parse import Accepted
from ingest.service import Ingest
from models.access import api_keys
from models.access.tenancy import Role
from models.db import connect
from models.migrate import migrate
from models.monitoring.alarm_policies import POLICIES
from models.monitoring.alarm_sources import MAX_EVENTS_PER_PASS, advance_cursor, mark_applied, pending_events
from models.registry import organizations
from models.telemetry.contract import MessageKind, TelemetryBatch, TelemetrySample, topic_for
from runtime.settings import Settings
from stack._process import free_port
from stack.mosquitto import LocalMosquitto
from stack.postgres import LocalPostgres

PREFIX = "lb/v1"
RULES_INTERVAL_S = next(j.every_seconds for j in jobs_for(Settings()) if j.name == "alarm_event_rules")
# Finer than the latencies measured (hundreds of ms) without the poller becoming load of its own.
POLL_S = 0.05
# Alarms seen within this window are listed: several times the latency measured, and few enough items that
# the poller does not load the API it measures.
POLL_WINDOW = timedelta(seconds=10)
# After the last event, how long an alarm may still take before it counts as missing.
SETTLE_S = 10.0
# Codes that open an alarm of their own; inspection is left out so no unit's later alarms are suppressed.
CODES = sorted(code for code, p in POLICIES.items() if p.severity is not None and p.service is None)


class Clock:
    """Publish, commit and first-seen-in-the-API times per (unit, code)."""

    def __init__(self) -> None:
        self.published: dict[tuple[str, str], float] = {}
        self.committed: dict[tuple[str, str], float] = {}
        self.visible: dict[tuple[str, str], float] = {}
        self.rows = BatchResult()
        self.lock = threading.Lock()

    def on_committed(self, batch: Sequence[Delivery], result: BatchResult) -> None:
        """Ingest's hook: stamp each event message of the batch."""
        now = time.time()
        with self.lock:
            self.rows.add(result)
            for delivery in batch:
                parsed = delivery.parsed
                if isinstance(parsed, Accepted) and parsed.event is not None:
                    self.committed.setdefault((parsed.unit_id, parsed.event.code), now)


def _telemetry(client: mqtt.Client, units: list[str], samples: int, stop: threading.Event) -> None:
    """Background load: every unit publishes one batch a second."""
    trips = 0
    while not stop.is_set():
        started = time.time()
        t0 = datetime.now(UTC)
        for unit in units:
            trips += 1
            batch = TelemetryBatch(samples=[
                TelemetrySample(ts=t0 - timedelta(milliseconds=100 * k), floor=k % 10, speed_mps=1.0, load_pct=30.0,
                                motor_current_a=20.0, vibration_z=0.03, trip_count=trips)
                for k in range(samples)
            ])  # fmt: skip
            client.publish(topic_for(unit, MessageKind.TELEMETRY, prefix=PREFIX), msgspec.json.encode(batch), qos=1)
        stop.wait(max(0.0, 1.0 - (time.time() - started)))


def _poll(api: str, key: str, clock: Clock, stop: threading.Event) -> None:
    """Note the first time each alarm appears in `GET /alarms`."""
    with httpx.Client(base_url=api, headers={"Authorization": f"Bearer {key}"}, timeout=10) as client:
        while not stop.is_set():
            since = (datetime.now(UTC) - POLL_WINDOW).isoformat()
            response = client.get("/alarms", params={"since": since, "state": "open", "limit": 1000})
            now = time.time()
            response.raise_for_status()
            with clock.lock:
                for item in response.json()["items"]:
                    clock.visible.setdefault((item["unit_id"], item["alarm_type"]), now)
            stop.wait(POLL_S)


def _wait_serving(api: str, key: str, timeout: float, *, logs: Path) -> None:
    """Until the API answers an authenticated read (its /health also probes the broker, which a loaded
    machine can make time out: not what this bench measures)."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            if httpx.get(f"{api}/alarms", headers={"Authorization": f"Bearer {key}"}, timeout=5).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{api} does not answer; its log ends:\n{logs.read_text()[-2000:]}")


def _commit_backlog(conn: psycopg.Connection[Any], units: list[str], events: int) -> None:
    """`events` events over the units, committed at once (a fleet's gateways reconnecting after a power cut)."""
    now = datetime.now(UTC)
    with conn.cursor() as cur:
        cur.execute("INSERT INTO events (unit_id, time, received_at, code, category)"
                    " SELECT u, %s - n * interval '1 ms', clock_timestamp(), c, 'fault'"
                    " FROM unnest(%s::text[], %s::text[], %s::int[]) AS b(u, c, n)",
                    (now, [units[n % len(units)] for n in range(events)],
                     [CODES[n % len(CODES)] for n in range(events)], list(range(events))))  # fmt: skip
    conn.commit()


def drain_backlog(dsn: str, units: list[str], events: int) -> float:
    """Events/s the rules apply when a backlog arrives at once: set-based, a batch of units at a time."""
    with connect(dsn) as conn:
        _commit_backlog(conn, units, events)
        started = time.perf_counter()
        while pending_events(conn, cursor=CURSOR):
            run_event_rules(conn, now=datetime.now(UTC))
            conn.commit()
        return events / (time.perf_counter() - started)


def drain_one_at_a_time(dsn: str, units: list[str], events: int) -> float:
    """The baseline: the same rules applied one event at a time (a savepoint and its statements per event)."""
    with connect(dsn) as conn:
        _commit_backlog(conn, units, events)
        started = time.perf_counter()
        while pending := pending_events(conn, cursor=CURSOR):
            for event in sorted(pending, key=lambda e: (e.unit_id, e.time, e.code)):
                with conn.transaction():
                    mark_applied(conn, [event])
                    apply_events(conn, [event])
            advance_cursor(conn, cursor=CURSOR, to=max(e.received_at for e in pending))
            conn.commit()
        return events / (time.perf_counter() - started)


def _alarm_counts(dsn: str) -> tuple[int, int]:
    with psycopg.connect(dsn) as conn:
        row = conn.execute("SELECT count(*), coalesce(sum(count), 0) FROM alarms").fetchone()
    return (int(row[0]), int(row[1])) if row else (0, 0)


def backlog_only(args: argparse.Namespace) -> int:
    """Only the drain: the set-based rules against one event at a time, each on its own fresh database."""
    workdir = Path(tempfile.mkdtemp(prefix="liftbrain-bench-", dir="/tmp"))
    workdir.chmod(0o755)
    postgres = LocalPostgres(workdir / "pg")
    try:
        postgres.start()
        fast, slow = postgres.create_database("batched"), postgres.create_database("single")
        units = _setup(fast, args.units)[0]
        _setup(slow, args.units)
        print(f"backlog: {args.backlog} events over {args.units} units committed at once ...", flush=True)
        batched = drain_backlog(fast, units, args.backlog)
        batched_alarms = _alarm_counts(fast)
        print(f"baseline: {args.baseline_events} events one at a time ...", flush=True)
        single = drain_one_at_a_time(slow, units, args.baseline_events)
    finally:
        postgres.stop()
        shutil.rmtree(workdir, ignore_errors=True)
    figures = {"units": args.units, "backlog_events": args.backlog, "batch_units": BATCH_UNITS,
               "events_per_pass": MAX_EVENTS_PER_PASS, "backlog_events_per_s": round(batched),
               "backlog_drain_s": round(args.backlog / batched, 1), "alarms_stored": batched_alarms[0],
               "occurrences_counted": batched_alarms[1], "baseline_events": args.baseline_events,
               "baseline_one_at_a_time_events_per_s": round(single), "speedup": round(batched / single, 1)}  # fmt: skip
    print(f"\n{'figure':<40}{'value':>12}")
    print("-" * 52)
    for name, value in figures.items():
        print(f"{name:<40}{value!s:>12}")
    print(json.dumps(figures))
    # Every event counted once: each occurrence is a repeat on an alarm or an alarm of its own.
    return 0 if batched_alarms[1] == args.backlog and batched > single else 1


def _percentiles(values: list[float]) -> dict[str, float]:
    data = np.array(values) * 1000
    return {"p50": round(float(np.percentile(data, 50)), 1), "p99": round(float(np.percentile(data, 99)), 1),
            "max": round(float(data.max()), 1)}  # fmt: skip


def _setup(dsn: str, units: int) -> tuple[list[str], str]:
    migrate(dsn)
    ids = [f"lat-{n:05d}" for n in range(units)]
    with connect(dsn) as conn:
        conn.execute("INSERT INTO units (id, status) SELECT unnest(%s::text[]), 'in_service'", (ids,))
        platform = organizations.create_organization(conn, name="Platform", kind="platform")
        key = api_keys.create_api_key(conn, name="bench", role=Role.ADMIN, organization_id=platform.id)[1]
    return ids, key


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--units", type=int, default=200, help="units publishing telemetry (default 200)")
    parser.add_argument("--samples", type=int, default=10, help="samples per unit per second (default 10)")
    parser.add_argument("--events", type=int, default=300, help="events to time (default 300)")
    parser.add_argument("--event-rate", type=float, default=5.0, help="events per second (default 5)")
    parser.add_argument("--backlog", type=int, default=5000, help="events for the drain phase (default 5000)")
    parser.add_argument(
        "--backlog-only",
        action="store_true",
        help="only the drain (PostgreSQL alone): batched rules vs one event at a time",
    )
    parser.add_argument(
        "--baseline-events",
        type=int,
        default=2000,
        help="events the one-at-a-time baseline drains in --backlog-only (default 2000)",
    )
    args = parser.parse_args()
    if args.backlog_only:
        return backlog_only(args)
    if args.events > args.units * len(CODES):
        parser.error(f"at most {args.units * len(CODES)} events: one per (unit, code)")

    workdir = Path(tempfile.mkdtemp(prefix="liftbrain-bench-", dir="/tmp"))
    workdir.chmod(0o755)
    postgres, broker = LocalPostgres(workdir / "pg"), LocalMosquitto(workdir / "mqtt", auth_dir=None)
    procs: list[subprocess.Popen[bytes]] = []
    clock, stop = Clock(), threading.Event()
    try:
        postgres.start()
        broker.start()
        dsn = postgres.create_database("bench")
        units, key = _setup(dsn, args.units)
        api_port = free_port()
        env = {**os.environ, "LIFTBRAIN_DATABASE_URL": dsn, "LIFTBRAIN_MQTT_URL": broker.url,
               "LIFTBRAIN_API_PORT": str(api_port), "LIFTBRAIN_BRAIN_HTTP_PORT": "0"}  # fmt: skip
        cli = str(Path(sys.executable).parent / "liftbrain")
        for service in ("brain", "api"):
            log = (workdir / f"{service}.log").open("wb")
            procs.append(subprocess.Popen([cli, service], env=env, stdout=log, stderr=subprocess.STDOUT))
        api = f"http://127.0.0.1:{api_port}"
        _wait_serving(api, key, 60, logs=workdir / "api.log")
        pipeline = Ingest(Settings(database_url=dsn, mqtt_url=broker.url, ingest_http_port=0),
                          on_committed=clock.on_committed)  # fmt: skip
        pipeline.start()
        pipeline.consumer.connected.wait(10)

        client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="bench-alarm-publisher", clean_session=True)
        client.max_inflight_messages_set(1000)
        client.connect("127.0.0.1", broker.port)
        client.loop_start()
        threads = [threading.Thread(target=_telemetry, args=(client, units, args.samples, stop), daemon=True),
                   threading.Thread(target=_poll, args=(api, key, clock, stop), daemon=True)]  # fmt: skip
        for thread in threads:
            thread.start()
        time.sleep(2)  # the background load reaches its steady state first
        pairs = [(unit, code) for code in CODES for unit in units][: args.events]
        print(f"{len(pairs)} events at {args.event_rate}/s over {args.units} units publishing "
              f"{args.units * args.samples} samples/s ...", flush=True)  # fmt: skip
        started = time.time()
        for n, (unit, code) in enumerate(pairs):
            time.sleep(max(0.0, started + n / args.event_rate - time.time()))
            payload = msgspec.json.encode({"ts": datetime.now(UTC), "code": code, "floor": n % 10})
            with clock.lock:
                clock.published[(unit, code)] = time.time()
            client.publish(topic_for(unit, MessageKind.EVENT, prefix=PREFIX), payload, qos=1)
        deadline = time.time() + SETTLE_S
        while time.time() < deadline and len(clock.visible.keys() & set(pairs)) < len(pairs):
            time.sleep(0.2)
        elapsed = time.time() - started
        stop.set()
        for thread in threads:
            thread.join(10)
        client.loop_stop()
        client.disconnect()
        pipeline.stop()
        with psycopg.connect(dsn) as conn:
            alarms_row = conn.execute("SELECT count(*) FROM alarms").fetchone()
        stored_alarms = int(alarms_row[0]) if alarms_row else 0
        procs[0].terminate()  # the brain: the backlog phase drains alone
        procs[0].wait(30)
        print(f"backlog: {args.backlog} events committed at once, drained by the rules alone ...", flush=True)
        backlog_rate = drain_backlog(dsn, units, args.backlog)
    finally:
        stop.set()
        for proc in procs:
            proc.terminate()
            proc.wait(30)
        broker.stop()
        postgres.stop()
        shutil.rmtree(workdir, ignore_errors=True)

    seen = [k for k in pairs if k in clock.visible and k in clock.committed]
    commit = _percentiles([clock.committed[k] - clock.published[k] for k in seen])
    to_api = _percentiles([clock.visible[k] - clock.committed[k] for k in seen])
    total = _percentiles([clock.visible[k] - clock.published[k] for k in seen])
    figures: dict[str, Any] = {
        "units": args.units,
        "telemetry_samples_per_s": args.units * args.samples,
        "telemetry_rows_committed": clock.rows.telemetry_new,
        "dead_lettered": clock.rows.dead_lettered,
        "events": len(pairs),
        "event_rate_per_s": args.event_rate,
        "run_s": round(elapsed, 1),
        "rules_job_interval_s": RULES_INTERVAL_S,
        "poll_interval_s": POLL_S,
        "baseline_publish_to_commit_p50_ms": commit["p50"],
        "baseline_publish_to_commit_p99_ms": commit["p99"],
        "commit_to_api_p50_ms": to_api["p50"],
        "commit_to_api_p99_ms": to_api["p99"],
        "commit_to_api_max_ms": to_api["max"],
        "publish_to_api_p50_ms": total["p50"],
        "publish_to_api_p99_ms": total["p99"],
        "publish_to_api_max_ms": total["max"],
        "missing": len(pairs) - len(seen),
        "alarms_stored": stored_alarms,
        "backlog_events": args.backlog,
        "backlog_events_per_s": round(backlog_rate),
    }
    print()
    print(f"{'figure':<36}{'value':>12}")
    print("-" * 48)
    for name, value in figures.items():
        print(f"{name:<36}{value!s:>12}")
    print(json.dumps(figures))
    return 0 if figures["missing"] == 0 and figures["commit_to_api_p99_ms"] <= 2000 else 1


if __name__ == "__main__":
    sys.exit(main())
