"""`liftbrain simulate`: a simulated elevator fleet publishing the telemetry contract over MQTT.

Replay (default): --days of past fleet time starting at --start (default: that long before now), published
as fast as the broker acknowledges, or at --rate messages/s. Real time (--realtime): the fleet runs with the
wall clock until Ctrl-C or SIGTERM. Same seed, start and sample period: same messages.

Ground truth (every injected wear onset, fault and event with its cause, component and batch) goes to
--labels as JSON lines. With a database configured the registry is seeded first (manufacturers, models,
batches, components, sites, units, installation records), skipping what exists, and the labels are loaded
into the simulation_labels table when the run ends (run id: the labels file's name); --no-seed-db skips both.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import FrameType
from typing import Any

from runtime.errors import OperatorError
from runtime.settings import Settings

__all__ = ["add_parser"]

log = logging.getLogger("liftbrain")

# Replay favours throughput (a sample every 10 s, 30 per message); real time favours a live picture.
REPLAY_SAMPLE_PERIOD_S = 10.0
REPLAY_SAMPLES_PER_MESSAGE = 30
REALTIME_SAMPLE_PERIOD_S = 1.0
REALTIME_SAMPLES_PER_MESSAGE = 5
# On stop, wait this long for the broker's last acknowledgements: within `liftbrain up`'s 15 s stop timeout.
STOP_DRAIN_S = 10.0


def add_parser(commands: argparse._SubParsersAction[Any]) -> None:
    """Register the `simulate` subcommand."""
    parser = commands.add_parser(
        "simulate",
        help="publish a simulated elevator fleet over MQTT (with ground-truth labels)",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--units", type=int, default=20, metavar="N", help="fleet size (default 20)")
    parser.add_argument("--seed", type=int, default=1, help="random seed: same seed, same fleet (default 1)")
    parser.add_argument("--days", type=float, default=1.0, metavar="D", help="replay D days of fleet time (default 1)")
    parser.add_argument("--start", type=datetime.fromisoformat, help="replay start, ISO 8601 (default: D days ago)")
    parser.add_argument("--realtime", action="store_true", help="run with the wall clock until stopped (demo mode)")
    parser.add_argument("--rate", type=float, metavar="MSG/S", help="publish at most this many messages/s")
    parser.add_argument(
        "--sample-period", type=float, metavar="S", help="seconds between samples (default 10, real time 1)"
    )
    parser.add_argument(
        "--samples-per-message", type=int, metavar="K", help="samples per telemetry message (default 30, real time 5)"
    )
    parser.add_argument("--labels", type=Path, metavar="PATH", help="ground-truth JSONL (default in the data dir)")
    parser.add_argument(
        "--seed-db",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="seed the registry in LIFTBRAIN_DATABASE_URL first (default: when it is set)",
    )
    parser.add_argument("--hazard-scale", type=float, default=1.0, help="multiply wear and fault rates (demos)")
    parser.add_argument(
        "--confounder-scale", type=float, default=1.0, help="multiply confounder rates (0: clean telemetry)"
    )
    parser.add_argument("--id-prefix", default="sim", help="unit ids are PREFIX-00000... (default sim)")
    parser.add_argument("--progress", type=float, default=5.0, metavar="S", help="progress line every S seconds")
    parser.set_defaults(func=run_simulate)


def _check(args: argparse.Namespace) -> None:
    if args.units < 1:
        raise OperatorError("--units must be at least 1")
    if args.days <= 0 or (args.sample_period is not None and args.sample_period <= 0):
        raise OperatorError("--days and --sample-period must be positive")
    if args.hazard_scale < 0 or args.confounder_scale < 0:
        raise OperatorError("--hazard-scale and --confounder-scale must not be negative")
    if args.start is not None and args.start.tzinfo is None:
        raise OperatorError("--start needs an explicit UTC offset, e.g. 2026-03-01T00:00:00+00:00")


def _load_labels(dsn: str, path: Path) -> None:
    """Put the run's ground truth in simulation_labels too (run id: the labels file's name)."""
    from models.db import connect
    from models.telemetry.simulation_labels import load_labels_file

    with connect(dsn) as conn:
        count = load_labels_file(conn, run_id=path.stem, path=path)
        conn.commit()
    log.info("loaded %d labels into simulation_labels (run %s)", count, path.stem)


def run_simulate(args: argparse.Namespace, settings: Settings) -> int:
    """Seed (optionally) and run the simulated fleet; return the exit code."""
    from simulators.publisher import Publisher
    from simulators.runner import RunConfig, run

    _check(args)
    realtime = bool(args.realtime)
    now = datetime.now(UTC).replace(microsecond=0)
    start = now if realtime else (args.start or now - timedelta(days=args.days))
    labels = args.labels or settings.data_dir / "simulator" / f"labels-{args.id_prefix}-seed{args.seed}.jsonl"
    config = RunConfig(
        units=args.units,
        seed=args.seed,
        start=start,
        sample_period_s=args.sample_period or (REALTIME_SAMPLE_PERIOD_S if realtime else REPLAY_SAMPLE_PERIOD_S),
        samples_per_message=args.samples_per_message
        or (REALTIME_SAMPLES_PER_MESSAGE if realtime else REPLAY_SAMPLES_PER_MESSAGE),
        labels_path=labels,
        topic_prefix=settings.mqtt_topic_prefix,
        id_prefix=args.id_prefix,
        days=None if realtime else args.days,
        realtime=realtime,
        hazard_scale=args.hazard_scale,
        confounder_scale=args.confounder_scale,
        progress_every_s=args.progress,
    )
    seed_db = args.seed_db if args.seed_db is not None else settings.database_url is not None
    if seed_db:
        from simulators.seeding import seed_registry

        seed_registry(settings.require_database_url(), config)
    stop = threading.Event()

    def request_stop(signum: int, _frame: FrameType | None) -> None:
        log.info("received %s, stopping the simulator", signal.Signals(signum).name)
        stop.set()

    publisher = Publisher(
        settings.require_mqtt(), client_id=f"liftbrain-sim-{args.id_prefix}-{os.getpid()}", rate=args.rate
    )
    publisher.connect()
    previous = {signum: signal.signal(signum, request_stop) for signum in (signal.SIGINT, signal.SIGTERM)}
    log.info(
        "simulating %d units from %s (repeat this run with --start %s --seed %d); labels in %s",
        config.units, start.isoformat(), start.isoformat(), config.seed, labels,
    )  # fmt: skip
    try:
        summary = run(config, publisher, stop=stop)
    finally:
        publisher.close(timeout=STOP_DRAIN_S)
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    if seed_db:
        _load_labels(settings.require_database_url(), labels)
    log.info(
        "done: %d steps to %s, %d messages, %d samples, %d events, %d labels in %.1fs",
        summary.steps,
        summary.sim_end.isoformat() if summary.sim_end else "-",
        summary.messages,
        summary.samples,
        summary.events,
        summary.labels,
        summary.elapsed_s,
    )
    return 0
