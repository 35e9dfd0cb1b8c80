"""Run a simulated fleet: step the simulation, publish what it produces, write the ground truth, report progress.

Replay mode steps through past time as fast as the broker (or `rate`) allows; real-time mode steps with the
wall clock until stopped. Both are deterministic for a seed, a start and a sample period.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Protocol

import numpy as np

from models.telemetry.contract import MessageKind, topic_for
from simulators.engine import Simulation, StepResult
from simulators.fleet import Fleet, build_fleet
from simulators.labels import LabelWriter
from simulators.messages import event_payload, status_payload, telemetry_payloads, to_datetime
from simulators.repairs import RepairSource, apply_renewals
from simulators.sampling import Snapshot

__all__ = ["RunConfig", "RunSummary", "Sink", "run"]

log = logging.getLogger(__name__)

# With a repair source, completed part swaps are looked up this often in simulated time: a swapped part is new
# in the signals within the hour, at one short query per simulated hour.
REPAIR_POLL_S = 3600.0


class Sink(Protocol):
    """Where messages go: simulators.publisher.Publisher, or a recorder in tests and benchmarks."""

    @property
    def acknowledged(self) -> int:
        """Messages delivered so far."""

    def publish(self, topic: str, payload: bytes, *, retain: bool = False) -> None:
        """Send one message."""


@dataclass(frozen=True)
class RunConfig:
    """What to simulate and how fast."""

    units: int
    seed: int
    start: datetime
    sample_period_s: float
    samples_per_message: int
    labels_path: Path
    topic_prefix: str = "lb/v1"
    id_prefix: str = "sim"
    days: float | None = None  # None: until stopped
    realtime: bool = False
    hazard_scale: float = 1.0
    confounder_scale: float = 1.0  # multiply confounder rates (0: clean telemetry)
    progress_every_s: float = 5.0


@dataclass
class RunSummary:
    """Totals of one run."""

    steps: int = 0
    messages: int = 0  # every message: telemetry, events and statuses
    telemetry_messages: int = 0
    status_messages: int = 0
    samples: int = 0
    events: int = 0
    labels: int = 0
    elapsed_s: float = 0.0
    sim_end: datetime | None = None


class _Run:
    """The state of one run between steps."""

    def __init__(self, config: RunConfig, fleet: Fleet, publisher: Sink, labels: LabelWriter) -> None:
        self.config = config
        self.fleet = fleet
        self.publisher = publisher
        self.labels = labels
        self.sim = Simulation(
            fleet, start=config.start, sample_period_s=config.sample_period_s, hazard_scale=config.hazard_scale,
            confounder_scale=config.confounder_scale,
        )  # fmt: skip
        self.summary = RunSummary()
        self.block: list[Snapshot] = []
        # Telemetry a gateway buffers during a late-flush episode, per unit, sent when the episode ends.
        self.held: dict[int, list[tuple[bytes, int]]] = {}
        self.began = time.monotonic()
        self.last_report = self.began

    def topic(self, unit: int, kind: MessageKind) -> str:
        return topic_for(self.fleet.unit_ids[unit], kind, prefix=self.config.topic_prefix)

    def status_all(self, *, online: bool, ts: float) -> None:
        payload = status_payload(online=online, ts=ts)
        for unit in range(self.fleet.size):
            self.publisher.publish(self.topic(unit, MessageKind.STATUS), payload, retain=True)
        self.summary.messages += self.fleet.size
        self.summary.status_messages += self.fleet.size

    def handle(self, result: StepResult) -> None:
        for incident in result.incidents:
            self.publisher.publish(self.topic(incident.unit, MessageKind.EVENT), event_payload(incident))
            self.labels.incident(self.fleet, incident)
        for change in result.statuses:
            payload = status_payload(online=change.online, ts=change.ts)
            self.publisher.publish(self.topic(change.unit, MessageKind.STATUS), payload, retain=True)
        self.summary.events += len(result.incidents)
        self.summary.messages += len(result.incidents) + len(result.statuses)
        self.summary.status_messages += len(result.statuses)
        self.block.append(result.snapshot)
        if len(self.block) >= self.config.samples_per_message:
            self.flush()

    def flush(self) -> None:
        if not self.block:
            return
        held = [snapshot.held for snapshot in self.block if snapshot.held is not None]
        holding = np.any(held, axis=0) if held else np.zeros(self.fleet.size, dtype=bool)
        for unit, payload, count in telemetry_payloads(self.block):
            if holding[unit]:
                self.held.setdefault(unit, []).append((payload, count))
                continue
            for late, late_count in self.held.pop(unit, []):
                self.send(unit, late, late_count)
            self.send(unit, payload, count)
        self.block = []
        self.labels.flush()

    def send(self, unit: int, payload: bytes, count: int) -> None:
        self.publisher.publish(self.topic(unit, MessageKind.TELEMETRY), payload)
        self.summary.messages += 1
        self.summary.telemetry_messages += 1
        self.summary.samples += count

    def release_held(self) -> None:
        """Send what gateways still hold (the run is ending)."""
        for unit in sorted(self.held):
            for payload, count in self.held.pop(unit):
                self.send(unit, payload, count)

    def report(self, *, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self.last_report < self.config.progress_every_s:
            return
        self.last_report = now
        elapsed = max(now - self.began, 1e-9)
        sim_now = to_datetime(self.sim.start_s + self.sim.step_index * self.sim.dt)
        log.info(
            "sim time %s: %d messages (%.0f/s), %d samples (%.0f/s), %d events, %d acknowledged",
            sim_now.isoformat(timespec="seconds"),
            self.summary.messages,
            self.summary.messages / elapsed,
            self.summary.samples,
            self.summary.samples / elapsed,
            self.summary.events,
            self.publisher.acknowledged,
        )


def run(
    config: RunConfig,
    publisher: Sink,
    *,
    stop: threading.Event,
    fleet: Fleet | None = None,
    repairs: RepairSource | None = None,
) -> RunSummary:
    """Simulate and publish until `config.days` have passed or `stop` is set; return the totals.

    With `repairs`, the parts crews swapped (completed work orders) are new again in the signals from the swap."""
    fleet = fleet or build_fleet(
        seed=config.seed, units=config.units, start=config.start, id_prefix=config.id_prefix,
        hazard_scale=config.hazard_scale,
    )  # fmt: skip
    total_steps = None if config.days is None else round(config.days * 86_400 / config.sample_period_s)
    labels = LabelWriter(config.labels_path)
    state = _Run(config, fleet, publisher, labels)
    sim = state.sim
    unit_index = {unit_id: i for i, unit_id in enumerate(fleet.unit_ids)}
    applied: set[str] = set()
    next_poll_s = sim.start_s
    try:
        state.status_all(online=True, ts=sim.start_s)
        while not stop.is_set() and (total_steps is None or sim.step_index < total_steps):
            if config.realtime:
                # A step's samples are all taken by the end of its period: wait for the wall clock to get there.
                stop.wait(max(0.0, sim.start_s + (sim.step_index + 1) * sim.dt - time.time()))
                if stop.is_set():
                    break
            sim_now_s = sim.start_s + sim.step_index * sim.dt
            if repairs is not None and sim_now_s >= next_poll_s:
                apply_renewals(sim, unit_index, repairs(to_datetime(sim_now_s)), applied)
                next_poll_s = sim_now_s + REPAIR_POLL_S
            state.handle(sim.step())
            state.report()
        state.flush()
        state.release_held()
        end_s = sim.start_s + sim.step_index * sim.dt
        state.status_all(online=False, ts=end_s)
        labels.degradations(sim, until=end_s)
        labels.confounders(sim, until=end_s)
        state.summary.sim_end = to_datetime(end_s)
    finally:
        labels.close()
    state.summary.steps = sim.step_index
    state.summary.labels = labels.count
    state.summary.elapsed_s = time.monotonic() - state.began
    state.report(force=True)
    return state.summary
