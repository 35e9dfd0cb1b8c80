"""Benchmark: sustained MQTT -> TimescaleDB ingest, against a plain single-connection COPY of the same rows.

Starts its own PostgreSQL+TimescaleDB (durable commits) and Mosquitto in a temporary directory and a fleet
mix of N messages (telemetry batches, some controller events). Three phases, each with every process's CPU
share (from /proc) and the bottleneck named:
- live: ingest runs here while --publishers separate processes publish flat out at QoS 1 (several, so that
  one Python publisher does not bound the rate); end-to-end rows/s;
- catch-up: the same messages queued in ingest's session while it was away, then drained alone: ingest's
  own capacity;
- paced: publishers paced at half of the live rate: publish-to-commit latency in steady state.
Then the same telemetry rows go in with one COPY BINARY into an empty hypertable (the raw limit, measured in
this run) and through the staging + ON CONFLICT path (the redelivery path).

    .venv/bin/python bench/ingest_throughput.py --messages 50000 --samples 20 --publishers 3

Prints a table, then one JSON line with every figure.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import shutil
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

import msgspec
import numpy as np
import paho.mqtt.client as mqtt
import psycopg
from paho.mqtt.enums import CallbackAPIVersion

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from cpu_share import CORES, CpuMeter, find_pid, process_cpu_s, tree_cpu_s

from ingest.batch import BatchResult
from ingest.consumer import Delivery
from ingest.parse import Accepted, Limits, parse_message
from ingest.service import Ingest, tune_gc
from models.db import connect
from models.migrate import migrate
from models.telemetry.contract import EventMessage, MessageKind, TelemetryBatch, TelemetrySample, topic_for
from models.telemetry.samples import ReceivedSamples, copy_telemetry, telemetry_rows
from runtime.settings import Settings
from stack.mosquitto import LocalMosquitto
from stack.postgres import LocalPostgres

PREFIX = "lb/v1"
# Publisher window: at most this many unacknowledged publishes (paho's mids are 16-bit; see DESIGN.md).
PUBLISH_WINDOW = 2000
EVENT_SHARE = 0.01
# The paced phase publishes at this share of the live rate: "half of capacity" in issue 20's latency goal.
PACED_SHARE = 0.5
# ... for at most this long, so that a large --messages keeps the whole bench within minutes.
PACED_MAX_S = 30.0
DIRECTIONS: tuple[Literal[-1, 0, 1], ...] = (-1, 0, 1)


def fleet_messages(messages: int, samples: int, units: int, seed: int) -> list[tuple[str, bytes, tuple[str, str]]]:
    """(topic, payload, key) for a realistic mix; key identifies the message's first row for latency."""
    rng = np.random.default_rng(seed)
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(days=2)
    out: list[tuple[str, bytes, tuple[str, str]]] = []
    windows = [0] * units
    for i in range(messages):
        unit = f"bench-{i % units:05d}"
        t0 = start + timedelta(seconds=windows[i % units])
        if rng.random() < EVENT_SHARE:
            ts = t0
            windows[i % units] += 1  # an event's (unit, time, code) is its identity: keep them distinct
            payload = msgspec.json.encode(EventMessage(ts=ts, code="door_open_fault", floor=int(rng.integers(0, 20))))
            out.append((topic_for(unit, MessageKind.EVENT, prefix=PREFIX), payload, (unit, ts.isoformat())))
            continue
        windows[i % units] += samples
        speed = rng.normal(0, 1.2, samples)
        batch = TelemetryBatch(samples=[
            TelemetrySample(
                ts=t0 + timedelta(seconds=k), floor=int(rng.integers(0, 20)), position_m=float(rng.uniform(0, 60)),
                direction=DIRECTIONS[int(np.sign(speed[k])) + 1], speed_mps=float(speed[k]),
                load_pct=float(rng.uniform(0, 90)),
                door_state="closed", motor_current_a=float(rng.normal(20, 5)), motor_temp_c=float(rng.normal(45, 3)),
                drive_temp_c=float(rng.normal(40, 3)), vibration_x=float(rng.gamma(2, 0.02)),
                vibration_y=float(rng.gamma(2, 0.02)), vibration_z=float(rng.gamma(2, 0.03)), brake_engaged=False,
                levelling_error_mm=float(rng.normal(0, 2)), trip_count=i, door_cycles=2 * i,
                energy_kwh=float(i) * 0.01, standby_power_w=float(rng.normal(150, 10)),
            )
            for k in range(samples)
        ])  # fmt: skip
        out.append((topic_for(unit, MessageKind.TELEMETRY, prefix=PREFIX), msgspec.json.encode(batch),
                    (unit, t0.isoformat())))  # fmt: skip
    return out


Message = tuple[str, bytes, tuple[str, str]]


def publish(port: int, client_id: str, messages: list[Message], rate: float, results: Any) -> None:
    """Publisher process: QoS 1 with a bounded window, paced at `rate` msg/s (0: flat out).

    Reports (started, finished, publish time by key, own CPU seconds).
    """
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id, clean_session=True)
    client.max_inflight_messages_set(1000)
    client.connect("127.0.0.1", port)
    client.loop_start()
    published: dict[tuple[str, str], float] = {}
    window: list[mqtt.MQTTMessageInfo] = []
    cpu_began, started = time.process_time(), time.time()
    for n, (topic, payload, key) in enumerate(messages):
        if rate:
            ahead = started + n / rate - time.time()
            if ahead > 0:
                time.sleep(ahead)
        published[key] = time.time()
        window.append(client.publish(topic, payload, qos=1))
        if len(window) >= PUBLISH_WINDOW:
            window[0].wait_for_publish(60)
            window = [w for w in window if not w.is_published()]
    for info in window:
        info.wait_for_publish(60)
    results.put((started, time.time(), published, time.process_time() - cpu_began))
    client.loop_stop()
    client.disconnect()


@dataclass
class Published:
    """What the publishers did: first start, last finish, publish time per key, CPU seconds per publisher."""

    started: float
    finished: float
    times: dict[tuple[str, str], float]
    cpu_s: dict[str, tuple[float, float]]


def run_publishers(port: int, messages: list[Message], rate: float, publishers: int) -> Published:
    """Publish from `publishers` separate processes (each a share of the messages and of `rate`)."""
    context = mp.get_context("spawn")
    results: Any = context.Queue()
    processes = [
        context.Process(target=publish, args=(port, f"bench-publisher-{n}", messages[n::publishers],
                                              rate / publishers, results))
        for n in range(publishers)
    ]  # fmt: skip
    for process in processes:
        process.start()
    outcomes = [results.get(timeout=3600) for _ in processes]
    for process in processes:
        process.join()
    times: dict[tuple[str, str], float] = {}
    for outcome in outcomes:
        times.update(outcome[2])
    cpu = {f"publisher-{n}": (outcome[3], 1.0) for n, outcome in enumerate(outcomes)}
    return Published(min(o[0] for o in outcomes), max(o[1] for o in outcomes), times, cpu)


class CommitClock:
    """Collects commit times per message key from ingest's on_committed hook."""

    def __init__(self, expected_messages: int) -> None:
        self.expected = expected_messages
        self.commit_times: dict[tuple[str, str], float] = {}
        self.totals = BatchResult()
        self.done = threading.Event()
        self.last_commit = 0.0

    def on_committed(self, batch: Sequence[Delivery], result: BatchResult) -> None:
        """Record the batch's commit time for each of its messages."""
        now = time.time()
        for delivery in batch:
            parsed = delivery.parsed
            if isinstance(parsed, Accepted):
                first = parsed.samples[0].ts if parsed.samples else parsed.event.ts  # type: ignore[union-attr]
                self.commit_times[(parsed.unit_id, first.isoformat())] = now
        self.last_commit = now
        self.totals.add(result)
        if self.totals.messages >= self.expected:
            self.done.set()


def _counts(dsn: str) -> tuple[int, int, int]:
    with psycopg.connect(dsn) as conn:
        row = conn.execute(
            "SELECT (SELECT count(*) FROM telemetry), (SELECT count(*) FROM events),"
            " (SELECT count(*) FROM dead_letters)"
        ).fetchone()
    assert row is not None
    return int(row[0]), int(row[1]), int(row[2])


def baseline_rows(messages: Sequence[tuple[str, bytes, tuple[str, str]]]) -> list[list[Any]]:
    """The telemetry rows the messages carry, decoded ahead of time (not part of the timed load)."""
    limits = Limits(PREFIX, 1 << 20, timedelta(minutes=5), timedelta(days=3650))
    received = []
    for topic, payload, _ in messages:
        parsed = parse_message(topic, payload, limits)
        if isinstance(parsed, Accepted) and parsed.samples:
            received.append(ReceivedSamples(parsed.unit_id, parsed.received_at, parsed.samples))
    return telemetry_rows(received)


def timed_load(dsn: str, rows: list[list[Any]], *, idempotent: bool) -> float:
    """Rows/s into an empty copy of the telemetry hypertable (direct COPY, or the staging merge path)."""
    with connect(dsn) as conn:
        conn.execute("TRUNCATE telemetry")
        conn.commit()
        started = time.perf_counter()
        if idempotent:
            # A conflicting first row sends the batch down the staging + ON CONFLICT path, as a redelivery does.
            copy_telemetry(conn, rows=rows[:1])
            copy_telemetry(conn, rows=rows)
        else:
            copy_telemetry(conn, rows=rows)
        conn.commit()
        return len(rows) / (time.perf_counter() - started)


@dataclass
class Phase:
    """One timed phase: its clock of commits, what was published, and every process's CPU share."""

    clock: CommitClock
    published: Published
    shares: dict[str, float]
    bottleneck: str
    began: float

    def rows_per_s(self, rows: int) -> float:
        """Rows over the phase's wall time (first publish or ingest start -> last commit)."""
        return rows / (self.clock.last_commit - self.began)

    def latencies_ms(self) -> np.ndarray:
        """Publish-to-commit time of every message committed, in ms."""
        times, commits = self.published.times, self.clock.commit_times
        return np.array([(commits[k] - times[k]) * 1000 for k in times if k in commits])


class Rig:
    """The bench's servers and settings; runs the phases."""

    def __init__(self, args: argparse.Namespace, workdir: Path) -> None:
        self.args = args
        self.postgres = LocalPostgres(workdir / "pg")
        self.broker = LocalMosquitto(workdir / "mqtt", auth_dir=None)
        self.workdir = workdir
        self.dsn = ""

    def start(self) -> Settings:
        """Start the servers, migrate, register the units; the ingest settings."""
        self.postgres.start()
        self.broker.start()
        self.dsn = self.postgres.create_database("bench")
        migrate(self.dsn)
        with psycopg.connect(self.dsn) as conn:
            conn.execute("INSERT INTO units (id) SELECT 'bench-' || lpad(g::text, 5, '0')"
                         " FROM generate_series(0, %s) g", (self.args.units - 1,))  # fmt: skip
        return Settings(database_url=self.dsn, mqtt_url=self.broker.url, ingest_batch_max_messages=self.args.batch,
                        ingest_http_port=0)  # fmt: skip

    def meter(self) -> CpuMeter:
        """CPU readers for ingest (this process), PostgreSQL (postmaster and backends) and Mosquitto."""
        postmaster = int((self.postgres.pgdata / "postmaster.pid").read_text().split("\n", 1)[0])
        broker = find_pid(str(self.workdir / "mqtt"))
        assert broker is not None, "the bench's Mosquitto is not running"
        return CpuMeter({
            "ingest": (lambda: process_cpu_s(os.getpid()), 1.0),  # Python: one core under the GIL
            "postgres": (lambda: tree_cpu_s(postmaster), float(CORES)),
            "mosquitto": (lambda: process_cpu_s(broker), 1.0),  # single-threaded
        })  # fmt: skip

    def truncate(self) -> None:
        """Empty the data tables between phases."""
        with psycopg.connect(self.dsn) as conn:
            conn.execute("TRUNCATE telemetry, events")

    def live(self, settings: Settings, messages: list[Message], rate: float) -> Phase:
        """Ingest runs while the publishers publish (flat out, or paced at `rate`)."""
        clock, meter = CommitClock(len(messages)), self.meter()
        pipeline = Ingest(settings, on_committed=clock.on_committed)
        pipeline.start()
        pipeline.consumer.connected.wait(10)
        meter.start()
        published = run_publishers(self.broker.port, messages, rate, self.args.publishers)
        clock.done.wait(600)
        meter.stop(published.cpu_s)
        pipeline.stop()
        return Phase(clock, published, meter.figures(), meter.bottleneck(), published.started)

    def catch_up(self, settings: Settings, messages: list[Message]) -> Phase:
        """The messages queued while ingest is away, then drained by ingest alone."""
        published = run_publishers(self.broker.port, messages, 0, self.args.publishers)
        clock, meter = CommitClock(len(messages)), self.meter()
        pipeline = Ingest(settings, on_committed=clock.on_committed)
        began = time.time()
        meter.start()
        pipeline.start()
        clock.done.wait(600)
        meter.stop()
        pipeline.stop()
        return Phase(clock, published, meter.figures(), meter.bottleneck(), began)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=20000, help="messages to publish (default 20000)")
    parser.add_argument("--samples", type=int, default=20, help="telemetry samples per message (default 20)")
    parser.add_argument("--units", type=int, default=500, help="units in the fleet (default 500)")
    parser.add_argument("--batch", type=int, default=500, help="ingest batch size in messages (default 500)")
    parser.add_argument("--publishers", type=int, default=3, help="publisher processes (default 3)")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    tune_gc()  # as `liftbrain ingest` does: this process is the ingest process

    workdir = Path(tempfile.mkdtemp(prefix="liftbrain-bench-", dir="/tmp"))
    workdir.chmod(0o755)
    rig = Rig(args, workdir)
    try:
        settings = rig.start()
        print(f"generating {args.messages} messages x {args.samples} samples for {args.units} units ...", flush=True)
        messages = fleet_messages(args.messages, args.samples, args.units, args.seed)
        expected_rows = sum(1 for m in messages if m[0].endswith("/telemetry")) * args.samples
        expected_events = sum(1 for m in messages if m[0].endswith("/event"))
        print(f"live: {args.publishers} publisher processes flat out, ingest running here ...", flush=True)
        live = rig.live(settings, messages, 0)
        stored_rows, stored_events, dead = _counts(rig.dsn)
        rig.truncate()
        print("catch-up: publishing while ingest is away, then ingest drains alone ...", flush=True)
        drain = rig.catch_up(settings, messages)
        drain_rows = _counts(rig.dsn)[0]
        rig.truncate()
        live_rate = args.messages / (live.clock.last_commit - live.began)
        paced_rate = PACED_SHARE * live_rate
        paced_messages = messages[: max(1, min(len(messages), int(paced_rate * PACED_MAX_S)))]
        print(f"paced: {paced_rate:.0f} msg/s ({PACED_SHARE:.0%} of the live rate) ...", flush=True)
        paced = rig.live(settings, paced_messages, paced_rate)
        paced_rows = _counts(rig.dsn)[0]
        rows = baseline_rows(messages)
        raw_rate = timed_load(rig.dsn, rows, idempotent=False)
        merge_rate = timed_load(rig.dsn, rows, idempotent=True)
    finally:
        rig.broker.stop()
        rig.postgres.stop()
        shutil.rmtree(workdir, ignore_errors=True)

    paced_expected = sum(args.samples for m in paced_messages if m[0].endswith("/telemetry"))
    latencies = live.latencies_ms()
    paced_latencies = paced.latencies_ms()
    figures: dict[str, Any] = {
        "messages": args.messages,
        "samples_per_message": args.samples,
        "publishers": args.publishers,
        "raw_copy_rows_per_s": round(raw_rate),
        "merge_path_rows_per_s": round(merge_rate),
        "e2e_messages_per_s": round(live_rate),
        "e2e_rows_per_s": round(live.rows_per_s(expected_rows)),
        "ratio": round(live.rows_per_s(expected_rows) / raw_rate, 3),
        "publish_messages_per_s": round(args.messages / (live.published.finished - live.published.started)),
        "e2e_latency_p50_ms": round(float(np.percentile(latencies, 50)), 1),
        "e2e_latency_p99_ms": round(float(np.percentile(latencies, 99)), 1),
        "e2e_bottleneck": live.bottleneck,
        "e2e_cpu_share": live.shares,
        "catch_up_rows_per_s": round(drain.rows_per_s(drain_rows)),
        "catch_up_ratio": round(drain.rows_per_s(drain_rows) / raw_rate, 3),
        "catch_up_bottleneck": drain.bottleneck,
        "catch_up_cpu_share": drain.shares,
        "paced_messages_per_s": round(paced_rate),
        "paced_latency_p50_ms": round(float(np.percentile(paced_latencies, 50)), 1),
        "paced_latency_p99_ms": round(float(np.percentile(paced_latencies, 99)), 1),
        "paced_bottleneck": paced.bottleneck,
        "paced_cpu_share": paced.shares,
        "lost": (expected_rows - stored_rows) + (expected_events - stored_events) + (expected_rows - drain_rows)
        + (paced_expected - paced_rows),
        "dead_lettered": dead,
    }  # fmt: skip
    print()
    print(f"{'figure':<24}  value")
    print("-" * 72)
    for name, value in figures.items():
        text = "  ".join(f"{k} {v}" for k, v in value.items()) if isinstance(value, dict) else str(value)
        print(f"{name:<24}  {text}")
    print(json.dumps(figures))
    return 0 if figures["lost"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
