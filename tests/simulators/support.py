"""Shared by the simulator tests: a recording sink and a short replay into it."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from simulators.fleet import Fleet, build_fleet
from simulators.repairs import RepairSource
from simulators.runner import RunConfig, RunSummary, run

START = datetime(2026, 3, 2, tzinfo=UTC)


@dataclass
class Recorder:
    """Keeps every message in order instead of sending it."""

    messages: list[tuple[str, bytes, bool]] = field(default_factory=list)

    @property
    def acknowledged(self) -> int:
        return len(self.messages)

    def publish(self, topic: str, payload: bytes, *, retain: bool = False) -> None:
        self.messages.append((topic, payload, retain))

    def of_kind(self, kind: str) -> list[tuple[str, bytes]]:
        return [(topic, payload) for topic, payload, _ in self.messages if topic.endswith("/" + kind)]


@dataclass
class Replay:
    """A finished replay: what was published, the labels file and the totals."""

    recorder: Recorder
    labels: Path
    summary: RunSummary
    fleet: Fleet


def replay(
    tmp: Path,
    *,
    units: int,
    days: float,
    seed: int = 7,
    sample_period_s: float = 60.0,
    samples_per_message: int = 20,
    hazard_scale: float = 1.0,
    confounder_scale: float = 1.0,
    fleet: Fleet | None = None,
    repairs: RepairSource | None = None,
) -> Replay:
    """Replay `days` of a fleet into a recorder."""
    config = RunConfig(
        units=units,
        seed=seed,
        start=START,
        sample_period_s=sample_period_s,
        samples_per_message=samples_per_message,
        labels_path=tmp / f"labels-{seed}-{units}.jsonl",
        days=days,
        hazard_scale=hazard_scale,
        confounder_scale=confounder_scale,
    )
    fleet = fleet or build_fleet(seed=seed, units=units, start=START, hazard_scale=hazard_scale)
    recorder = Recorder()
    summary = run(config, recorder, stop=threading.Event(), fleet=fleet, repairs=repairs)
    return Replay(recorder, config.labels_path, summary, fleet)
