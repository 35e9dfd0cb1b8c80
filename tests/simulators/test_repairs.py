"""The simulator follows completed work orders: a swapped part is new again in the signals, once per swap, and
without swaps the run is what pure generation gives."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from statistics import fmean

import numpy as np
import pytest

from models.telemetry.contract import decode_telemetry
from simulators.degradation import PROCESSES
from simulators.engine import Simulation
from simulators.fleet import Fleet, build_fleet
from simulators.repairs import Renewal, apply_renewals
from simulators.traffic import SECONDS_PER_DAY
from tests.simulators.support import START, replay

DOOR = next(p for p, process in enumerate(PROCESSES) if process.component_type == "door_rollers")
TTF_DAYS = 6.0
SWAP = START + timedelta(days=1)


def _worn_fleet() -> Fleet:
    """One unit whose door rollers wear from the start (failing after TTF_DAYS), nothing else happening."""
    fleet = build_fleet(seed=5, units=1, start=START)
    fleet.onset[:] = np.inf
    fleet.fail_factor[:] = 1.0
    fleet.detect_skill[:] = 0.0  # the simulator's own visits must not fix it
    fleet.onset[DOOR, 0] = START.timestamp()
    fleet.ttf_s[DOOR, 0] = TTF_DAYS * SECONDS_PER_DAY
    return fleet


class OneSwap:
    """A repair source: the door rollers of the unit swapped at SWAP (returned at every poll after it)."""

    def __init__(self) -> None:
        self.polls = 0

    def __call__(self, until: datetime) -> list[Renewal]:
        self.polls += 1
        return [Renewal("wo-1/door_rollers", "sim-00000", "door_rollers", SWAP)] if until >= SWAP else []


def _door_close(tmp: Path, repairs: OneSwap | None) -> list[float]:
    """Mean door closing time per day over five days."""
    run = replay(tmp, units=1, days=5, fleet=_worn_fleet(), hazard_scale=0.0, confounder_scale=0.0,
                 sample_period_s=900.0, repairs=repairs)  # fmt: skip
    by_day: dict[int, list[float]] = {}
    for _, payload in run.recorder.of_kind("telemetry"):
        for sample in decode_telemetry(payload):
            day = int((sample.ts.timestamp() - START.timestamp()) // SECONDS_PER_DAY)
            assert sample.door_close_s is not None
            by_day.setdefault(day, []).append(sample.door_close_s)
    return [fmean(by_day[d]) for d in range(5)]


def test_a_swapped_part_is_new_again_in_the_signals(tmp_path: Path) -> None:
    worn = _door_close(tmp_path / "worn", None)
    source = OneSwap()
    swapped = _door_close(tmp_path / "swapped", source)
    assert worn[4] > 1.25 * worn[0]
    assert swapped[4] < 1.1 * swapped[0]
    assert swapped[0] == pytest.approx(worn[0])  # the same run until the swap
    assert source.polls >= 5 * 24  # polled every simulated hour


def test_each_swap_is_applied_once_and_unknown_units_are_ignored() -> None:
    sim = Simulation(_worn_fleet(), start=START, sample_period_s=300.0)
    applied: set[str] = set()
    swap = Renewal("wo-1/door_rollers", "sim-00000", "door_rollers", SWAP)
    stranger = Renewal("wo-2/brake", "elsewhere", "brake", SWAP)
    assert apply_renewals(sim, {"sim-00000": 0}, [swap, stranger], applied) == 1
    assert apply_renewals(sim, {"sim-00000": 0}, [swap], applied) == 0
    later = np.array([SWAP.timestamp() + 3 * SECONDS_PER_DAY])
    assert sim.wear(later, np.array([0]))[DOOR, 0] == 0.0
    assert sim.repaired_at[DOOR, 0] == SWAP.timestamp()
