"""Simulator throughput: fleet build, generation+encoding alone, and publishing to a real broker at QoS 1.
With --calibrate: the fleet against every published figure of simulators/CALIBRATION.md instead.

    .venv/bin/python bench/simulator.py [--units 10000] [--minutes 10] [--sample-period 10]
    .venv/bin/python bench/simulator.py --calibrate [--units 1000] [--days 30] [--sample-period 900]

Publishes to a throwaway local Mosquitto and reports each process's CPU share (simulator, broker) and the
bottleneck. Status messages are counted apart from telemetry. Prints a table, then one JSON object with the
figures as the last line.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

from cpu_share import CpuMeter, find_pid, process_cpu_s

from runtime.settings import parse_mqtt_url
from simulators.calibration import check, fault_rates, measure_run
from simulators.fleet import build_fleet
from simulators.publisher import Publisher
from simulators.runner import RunConfig, RunSummary, run
from stack.mosquitto import LocalMosquitto

START = datetime(2026, 3, 2, 7, tzinfo=UTC)  # a Monday morning up-peak: the busiest traffic


class Counter:
    """A sink that only counts (generation and encoding cost without the network)."""

    def __init__(self) -> None:
        self.count = 0

    @property
    def acknowledged(self) -> int:
        return self.count

    def publish(self, topic: str, payload: bytes, *, retain: bool = False) -> None:
        self.count += 1


def _config(args: argparse.Namespace, labels: Path) -> RunConfig:
    return RunConfig(
        units=args.units,
        seed=1,
        start=START,
        sample_period_s=args.sample_period,
        samples_per_message=args.samples_per_message,
        labels_path=labels,
        topic_prefix="bench/v1",
        days=args.minutes / 1440,
        progress_every_s=1e9,
    )


def _publish(
    args: argparse.Namespace, config: RunConfig, url: str, broker_pid: int
) -> tuple[RunSummary, float, CpuMeter]:
    """Generate and publish at QoS 1 (the fleet built before the clock starts); the CPU of both processes."""
    fleet = build_fleet(seed=1, units=args.units, start=START)
    publisher = Publisher(parse_mqtt_url(url), client_id="liftbrain-bench-simulator")
    publisher.connect()
    meter = CpuMeter({
        "simulator": (lambda: process_cpu_s(os.getpid()), 1.0),  # Python: one core under the GIL
        "mosquitto": (lambda: process_cpu_s(broker_pid), 1.0),  # single-threaded
    })  # fmt: skip
    meter.start()
    began = time.perf_counter()
    summary = run(config, publisher, stop=threading.Event(), fleet=fleet)
    publisher.close()  # waits for every acknowledgement
    elapsed = time.perf_counter() - began
    meter.stop()
    return summary, elapsed, meter


def calibrate(args: argparse.Namespace) -> None:
    """Run the fleet in-process and print every figure against its published band."""
    start = datetime(2026, 3, 2, tzinfo=UTC)
    began = time.perf_counter()
    fleet = build_fleet(seed=1, units=args.units, start=start)
    measured = measure_run(fleet, start=start, days=args.days, sample_period_s=args.sample_period)
    run_s = time.perf_counter() - began
    began = time.perf_counter()
    # The baseline: the same rare-event figures from a year of fault draws alone (no trips, no wear).
    drawn = fault_rates(fleet)
    draw_s = time.perf_counter() - began
    rows = check(measured)
    print(f"{'figure':<36}{'run':>10}{'draws':>10}  {'band':<16}ok  source")
    for spec, value, inside in rows:
        other = f"{drawn[spec.name]:10.3f}" if spec.name in drawn else " " * 10
        band = f"[{spec.low:g}, {spec.high:g}]"
        print(f"{spec.name:<36}{value:10.3f}{other}  {band:<16}{'yes' if inside else 'NO '} {spec.source}")
    figures = {
        "units": args.units, "days": args.days, "sample_period_s": args.sample_period, "run_s": round(run_s, 1),
        "draws_s": round(draw_s, 1), "inside": sum(ok for _, _, ok in rows), "figures": len(rows),
        "measured": {name: round(value, 4) for name, value in measured.items()},
        "baseline_fault_draws": {name: round(value, 4) for name, value in drawn.items()},
    }  # fmt: skip
    print(json.dumps(figures))


def main() -> None:
    """Run the three measurements and print them (or the calibration)."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--units", type=int)
    parser.add_argument("--minutes", type=float, default=10.0, help="simulated minutes")
    parser.add_argument("--sample-period", type=float)
    parser.add_argument("--samples-per-message", type=int, default=30)
    parser.add_argument("--calibrate", action="store_true", help="check the published figures instead")
    parser.add_argument("--days", type=float, default=30.0, help="simulated days of --calibrate")
    args = parser.parse_args()
    if args.calibrate:
        args.units, args.sample_period = args.units or 1000, args.sample_period or 900.0
        calibrate(args)
        return
    args.units, args.sample_period = args.units or 10_000, args.sample_period or 10.0
    workdir = Path(tempfile.mkdtemp(prefix="liftbrain-bench-", dir="/tmp"))
    workdir.chmod(0o755)
    config = _config(args, workdir / "labels.jsonl")
    try:
        began = time.perf_counter()
        fleet = build_fleet(seed=1, units=args.units, start=START)
        build_s = time.perf_counter() - began
        began = time.perf_counter()
        generated = run(config, Counter(), stop=threading.Event(), fleet=fleet)
        generate_s = time.perf_counter() - began
        # A throwaway local broker, so that its CPU share can be read (a remote one's cannot).
        broker = LocalMosquitto(workdir / "mosquitto", auth_dir=None)
        broker.start()
        try:
            broker_pid = find_pid(str(workdir / "mosquitto"))
            assert broker_pid is not None, "the bench's Mosquitto is not running"
            published, publish_s, meter = _publish(args, config, broker.url, broker_pid)
        finally:
            broker.stop()
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    figures: dict[str, object] = {
        "units": args.units,
        "simulated_minutes": args.minutes,
        "sample_period_s": args.sample_period,
        "samples_per_message": args.samples_per_message,
        "fleet_build_s": round(build_s, 2),
        "samples": generated.samples,
        "messages": generated.messages,
        "telemetry_messages": generated.telemetry_messages,
        "status_messages": generated.status_messages,
        "event_messages": generated.events,
        "generate_samples_per_s": round(generated.samples / generate_s),
        "generate_telemetry_messages_per_s": round(generated.telemetry_messages / generate_s),
        "publish_telemetry_messages_per_s": round(published.telemetry_messages / publish_s),
        "publish_samples_per_s": round(published.samples / publish_s),
        "publish_s": round(publish_s, 2),
        "sim_speedup_x": round(args.minutes * 60 / publish_s, 1),
        "publish_bottleneck": meter.bottleneck(),
        "publish_cpu_share": meter.figures(),
    }
    print(f"{'figure':<34}{'value':>14}")
    for name, value in figures.items():
        text = "  ".join(f"{k} {v}" for k, v in value.items()) if isinstance(value, dict) else str(value)
        print(f"{name:<34}{text:>14}")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
