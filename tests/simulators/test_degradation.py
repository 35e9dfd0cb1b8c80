"""Each wear process shows in the emitted signals, and a healthy unit's signals do not drift."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from statistics import fmean

import numpy as np
import pytest

from models.telemetry.contract import TelemetrySample, decode_telemetry, parse_topic
from simulators.degradation import PROCESSES
from simulators.fleet import build_fleet
from simulators.traffic import SECONDS_PER_DAY
from tests.simulators.support import START, replay

# The slow tier (long simulator replays): `scripts/check.sh --fast` leaves it out.
pytestmark = pytest.mark.slow

TTF_DAYS = 10.0
HEALTHY = len(PROCESSES)  # unit index after one worn unit per process


@pytest.fixture(scope="module")
def samples(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[TelemetrySample]]:
    """Nine days of a fleet where unit i has wear process i from the start (failing on day 10)."""
    fleet = build_fleet(seed=11, units=HEALTHY + 1, start=START)
    fleet.onset[:] = np.inf
    fleet.fail_factor[:] = 1.0
    fleet.detect_skill[:] = 0.0  # visits must not fix what this test watches grow
    for p in range(len(PROCESSES)):
        fleet.onset[p, p] = START.timestamp()
        fleet.ttf_s[p, p] = TTF_DAYS * SECONDS_PER_DAY
    result = replay(Path(tmp_path_factory.mktemp("wear")), units=fleet.size, days=9, fleet=fleet, hazard_scale=0.0,
                    confounder_scale=0.0,
                    sample_period_s=300.0)  # fmt: skip
    by_unit: dict[str, list[TelemetrySample]] = defaultdict(list)
    for topic, payload in result.recorder.of_kind("telemetry"):
        by_unit[parse_topic(topic).unit_id].extend(decode_telemetry(payload))
    return by_unit


def _unit(index: int) -> str:
    return f"sim-{index:05d}"


def _mean(samples: list[TelemetrySample], day: int, value: str, *, moving: bool = False) -> float:
    """Mean of a field (or an extras key) over one simulated day."""
    lo, hi = START.timestamp() + day * SECONDS_PER_DAY, START.timestamp() + (day + 1) * SECONDS_PER_DAY
    picked = [s for s in samples if lo <= s.ts.timestamp() < hi and (not moving or s.speed_mps)]
    values = [getattr(s, value) if hasattr(s, value) else (s.extras or {})[value] for s in picked]
    assert len(values) > 10
    return fmean(float(v) for v in values)


def _index(cause: str) -> int:
    return next(i for i, process in enumerate(PROCESSES) if process.cause == cause)


def test_bearing_wear_raises_vibration_high_band_first(samples: dict[str, list[TelemetrySample]]) -> None:
    worn = samples[_unit(_index("bearing_wear"))]
    assert _mean(worn, 8, "vibration_z", moving=True) > 1.5 * _mean(worn, 0, "vibration_z", moving=True)
    assert _mean(worn, 4, "vibration_hf_rms", moving=True) > 2.0 * _mean(worn, 0, "vibration_hf_rms", moving=True)


def test_door_roller_wear_slows_doors_and_adds_reopens(samples: dict[str, list[TelemetrySample]]) -> None:
    worn = samples[_unit(_index("door_roller_wear"))]
    assert _mean(worn, 8, "door_close_s") > 1.4 * _mean(worn, 0, "door_close_s")
    assert _mean(worn, 8, "door_reopens") > _mean(worn, 0, "door_reopens") + 0.3


def test_rope_stretch_drifts_levelling_below_the_sill(samples: dict[str, list[TelemetrySample]]) -> None:
    worn = samples[_unit(_index("rope_stretch"))]
    assert abs(_mean(worn, 0, "levelling_error_mm")) < 3.0
    assert _mean(worn, 8, "levelling_error_mm") < -8.0


def test_brake_wear_lengthens_stop_distance(samples: dict[str, list[TelemetrySample]]) -> None:
    worn = samples[_unit(_index("brake_lining_wear"))]
    assert _mean(worn, 8, "stop_distance_mm") > 2.0 * _mean(worn, 0, "stop_distance_mm")


def test_drive_overheating_raises_drive_temperature(samples: dict[str, list[TelemetrySample]]) -> None:
    worn = samples[_unit(_index("drive_overheating"))]
    assert _mean(worn, 8, "drive_temp_c") > _mean(worn, 0, "drive_temp_c") + 10.0


def test_healthy_unit_does_not_drift(samples: dict[str, list[TelemetrySample]]) -> None:
    healthy = samples[_unit(HEALTHY)]
    for value in ("door_close_s", "stop_distance_mm", "vibration_hf_rms"):
        assert _mean(healthy, 8, value) == pytest.approx(_mean(healthy, 0, value), rel=0.15)
    assert abs(_mean(healthy, 8, "drive_temp_c") - _mean(healthy, 0, "drive_temp_c")) < 4.0
