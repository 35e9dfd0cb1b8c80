"""The simulator against the published figures of simulators/CALIBRATION.md, on a small seeded fleet.

Traffic, ride, door and energy figures come from a short in-process run; rare events (breakdowns,
entrapments and their causes, repair tails) from a year of fault draws over a larger fleet. The 1,000-unit,
30-day check of every figure at once is `bench/simulator.py --calibrate`.
"""

from __future__ import annotations

import pytest

from models.telemetry.contract import EVENT_CATALOGUE
from simulators.calibration import FIGURES, check, fault_rates, measure_run, standby_class_band
from simulators.catalogue import MODELS
from simulators.degradation import PROCESSES
from simulators.fleet import build_fleet
from simulators.incidents import FAULTS
from tests.simulators.support import START

# The slow tier (seeded fleet runs checked against the published bands): `scripts/check.sh --fast` leaves it out.
pytestmark = pytest.mark.slow

RUN_UNITS, RUN_DAYS, RUN_PERIOD_S = 120, 2.0, 600.0
RATE_UNITS = 600
# Rare events are judged on the fault draws; a two-day run has too few unit-years for them.
RARE = ("breakdowns_per_unit_year", "entrapment")


@pytest.fixture(scope="module")
def run_figures() -> dict[str, float]:
    fleet = build_fleet(seed=1, units=RUN_UNITS, start=START)
    measured = measure_run(fleet, start=START, days=RUN_DAYS, sample_period_s=RUN_PERIOD_S)
    return {name: value for name, value in measured.items() if not name.startswith(RARE)}


def test_rare_event_draws_count_enough_entrapments(rate_figures: dict[str, float]) -> None:
    # The cause split is only meaningful on enough events: a year of 600 units gives over a hundred.
    assert rate_figures["entrapments"] > 100


@pytest.fixture(scope="module")
def rate_figures() -> dict[str, float]:
    return fault_rates(build_fleet(seed=1, units=RATE_UNITS, start=START))


@pytest.mark.parametrize("figure", [f.name for f in FIGURES if not f.name.startswith((*RARE, "outages", "rescue"))])
def test_run_is_inside_the_published_band(run_figures: dict[str, float], figure: str) -> None:
    [(spec, value, inside)] = [row for row in check(run_figures) if row[0].name == figure]
    assert inside, f"{figure} = {value:.3f}, outside [{spec.low}, {spec.high}] ({spec.source})"


def test_rare_events_are_inside_the_published_bands(rate_figures: dict[str, float]) -> None:
    rows = check(rate_figures)
    assert len(rows) == 8
    outside = [f"{spec.name} = {value:.3f} not in [{spec.low}, {spec.high}]" for spec, value, ok in rows if not ok]
    assert not outside


def test_every_model_sits_in_a_vdi_4707_standby_class_and_fits_its_buildings() -> None:
    classes = {standby_class_band(model.standby_w) for model in MODELS}
    # Efficient (class A/B) and old inefficient (D/E) lines both exist.
    assert (0.0, 50.0) in classes
    assert (50.0, 100.0) in classes
    assert (400.0, 800.0) in classes
    fleet = build_fleet(seed=1, units=300, start=START)
    for model, site in zip(fleet.models, fleet.sites, strict=True):
        assert model.floors[0] <= site.floors <= model.floors[1]
        assert model.drive_type != "hydraulic" or site.floors <= 6


def test_every_event_code_of_the_contract_has_a_source() -> None:
    produced = {fault.code for fault in FAULTS} | {fault.also for fault in FAULTS if fault.also}
    produced |= {process.failure_event for process in PROCESSES if process.failure_event}
    produced |= {"inspection_mode", "back_to_normal"}  # maintenance visits and every return to service
    assert produced == set(EVENT_CATALOGUE)
