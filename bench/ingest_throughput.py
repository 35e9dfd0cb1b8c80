"""Benchmark: sustained MQTT -> TimescaleDB ingest, against a plain single-connection COPY of the same rows.

Starts its own PostgreSQL+TimescaleDB (durable commits) and Mosquitto in a temporary directory, publishes
N messages (a fleet mix: telemetry batches, some controller events, status) from a separate process at
QoS 1, runs ingest in this process, and measures end-to-end messages/s and rows/s, publish-to-commit
latency, and loss. Then loads the same telemetry rows with one COPY BINARY into an identical empty
hypertable (the raw limit) and through the staging + ON CONFLICT path (the redelivery path). A second
phase queues the same messages while ingest is away and times the catch-up alone (no publisher competing
for the two cores): ingest's own capacity.

    .venv/bin/python bench/ingest_throughput.py --messages 50000 --samples 20

Flat out (the default) measures capacity; latency is then dominated by the backlog the broker holds.
`--rate` paces the publisher below capacity to measure publish-to-commit latency in steady state.
Prints a table, then one JSON line with every figure.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import shutil
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

import msgspec
import numpy as np
import paho.mqtt.client as mqtt
import psycopg
from paho.mqtt.enums import CallbackAPIVersion

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ingest.batch import BatchResult
from ingest.consumer import Delivery
from ingest.parse import Accepted, Limits, parse_message
from ingest.service import Ingest
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


def publish(port: int, messages: list[tuple[str, bytes, tuple[str, str]]], rate: float, results: Any) -> None:
    """Publisher process: QoS 1 with a bounded window, paced at `rate` msg/s (0: flat out); reports publish times."""
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="bench-publisher", clean_session=True)
    client.max_inflight_messages_set(1000)
    client.connect("127.0.0.1", port)
    client.loop_start()
    published: dict[tuple[str, str], float] = {}
    window: list[mqtt.MQTTMessageInfo] = []
    started = time.time()
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
    results.put((started, time.time(), published))
    client.loop_stop()
    client.disconnect()


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


def run_publisher(port: int, messages: list[tuple[str, bytes, tuple[str, str]]], rate: float) -> Any:
    """Publish from a separate process; (started, finished, publish time by key)."""
    context = mp.get_context("spawn")
    results: Any = context.Queue()
    publisher = context.Process(target=publish, args=(port, messages, rate, results))
    publisher.start()
    outcome = results.get(timeout=3600)
    publisher.join()
    return outcome


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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=20000, help="messages to publish (default 20000)")
    parser.add_argument("--samples", type=int, default=20, help="telemetry samples per message (default 20)")
    parser.add_argument("--units", type=int, default=500, help="units in the fleet (default 500)")
    parser.add_argument("--batch", type=int, default=500, help="ingest batch size in messages (default 500)")
    parser.add_argument("--rate", type=float, default=0, help="publish at this many msg/s (default 0: flat out)")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="liftbrain-bench-", dir="/tmp"))
    workdir.chmod(0o755)
    postgres = LocalPostgres(workdir / "pg")
    broker = LocalMosquitto(workdir / "mqtt", auth_dir=None)
    try:
        postgres.start()
        broker.start()
        dsn = postgres.create_database("bench")
        migrate(dsn)
        print(f"generating {args.messages} messages x {args.samples} samples for {args.units} units ...", flush=True)
        messages = fleet_messages(args.messages, args.samples, args.units, args.seed)
        with psycopg.connect(dsn) as conn:
            conn.execute("INSERT INTO units (id) SELECT 'bench-' || lpad(g::text, 5, '0')"
                         " FROM generate_series(0, %s) g", (args.units - 1,))  # fmt: skip
        expected_rows = sum(1 for m in messages if m[0].endswith("/telemetry")) * args.samples
        expected_events = sum(1 for m in messages if m[0].endswith("/event"))

        settings = Settings(database_url=dsn, mqtt_url=broker.url, ingest_batch_max_messages=args.batch,
                            ingest_http_port=0)  # fmt: skip
        # Live: ingest runs while a separate process publishes.
        live = CommitClock(args.messages)
        pipeline = Ingest(settings, on_committed=live.on_committed)
        pipeline.start()
        pipeline.consumer.connected.wait(10)
        print("live: publishing from a separate process; ingest running here ...", flush=True)
        pub_started, pub_finished, published = run_publisher(broker.port, messages, args.rate)
        live.done.wait(600)
        pipeline.stop()
        stored_rows, stored_events, dead = _counts(dsn)
        elapsed = live.last_commit - pub_started
        latencies = np.array([live.commit_times[k] - published[k] for k in published if k in live.commit_times])

        # Catch-up: the same messages queued in ingest's session while it was away, then drained alone.
        with psycopg.connect(dsn) as conn:
            conn.execute("TRUNCATE telemetry, events")
        print("catch-up: publishing while ingest is away ...", flush=True)
        run_publisher(broker.port, messages, 0)
        drain = CommitClock(args.messages)
        pipeline = Ingest(settings, on_committed=drain.on_committed)
        drain_started = time.time()
        pipeline.start()
        drain.done.wait(600)
        pipeline.stop()
        drain_rows = _counts(dsn)[0]
        drain_rate = drain_rows / (drain.last_commit - drain_started)

        rows = baseline_rows(messages)
        raw_rate = timed_load(dsn, rows, idempotent=False)
        merge_rate = timed_load(dsn, rows, idempotent=True)
    finally:
        broker.stop()
        postgres.stop()
        shutil.rmtree(workdir, ignore_errors=True)

    figures = {
        "messages": args.messages,
        "publish_rate_limit": args.rate,
        "samples_per_message": args.samples,
        "e2e_messages_per_s": round(args.messages / elapsed),
        "e2e_rows_per_s": round(expected_rows / elapsed),
        "publish_messages_per_s": round(args.messages / (pub_finished - pub_started)),
        "latency_p50_ms": round(float(np.percentile(latencies, 50)) * 1000, 1),
        "latency_p99_ms": round(float(np.percentile(latencies, 99)) * 1000, 1),
        "catch_up_rows_per_s": round(drain_rate),
        "catch_up_ratio": round(drain_rate / raw_rate, 3),
        "raw_copy_rows_per_s": round(raw_rate),
        "merge_path_rows_per_s": round(merge_rate),
        "ratio": round(expected_rows / elapsed / raw_rate, 3),
        "lost": int(expected_rows - stored_rows)
        + int(expected_events - stored_events)
        + int(expected_rows - drain_rows),
        "dead_lettered": int(dead),
    }
    print()
    print(f"{'figure':<28}{'value':>14}")
    print("-" * 42)
    for name, value in figures.items():
        print(f"{name:<28}{value:>14}")
    print(json.dumps(figures))
    return 0 if figures["lost"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
