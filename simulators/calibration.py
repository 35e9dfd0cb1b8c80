"""The published figures the simulator is held to, and how a run is measured against them.

Each Figure names its band and its source (simulators/CALIBRATION.md explains each). `measure_run` steps a
Simulation in-process (no encoding, no broker), `fault_rates` draws a year of random faults for a fleet
without running trips (enough unit-years for rare events in a second), and `check` compares. The tests run a
small seeded fleet; `bench/simulator.py --calibrate` runs 1,000 units for 30 days.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np
import numpy.typing as npt

from simulators.catalogue import MODELS
from simulators.cycles import Cycles
from simulators.engine import Incident, Simulation
from simulators.fleet import Fleet
from simulators.incidents import Hazards, draw_faults
from simulators.rng import FloatArray
from simulators.traffic import BUILDING_INDEX

__all__ = ["FIGURES", "Figure", "check", "fault_rates", "measure_run", "model_figures", "standby_class_band"]

# ISO 25745-2:2015 usage categories 1-6: representative trips per day. A unit belongs to the nearest (geometric).
ISO_CATEGORY_TRIPS = (50.0, 125.0, 300.0, 750.0, 1500.0, 2500.0)
# VDI 4707-1:2009 standby classes A-G: upper bounds in W.
VDI_STANDBY_W = (50.0, 100.0, 200.0, 400.0, 800.0, 1600.0, float("inf"))
# Vibration telemetry is RMS; GB/T 10058 limits are on peak-to-peak: ~6 x RMS for a Gaussian signal.
PEAK_TO_PEAK_PER_RMS = 6.0
# Faults that take a unit out of service and need a crew: a breakdown (callback), as maintainers count them.
BREAKDOWN_CODES = frozenset({
    "entrapment", "stopped_outside_door_zone", "safety_circuit_broken", "floor_position_lost", "no_restart",
    "overspeed", "overtravel_top", "overtravel_bottom", "door_open_while_moving", "unintended_car_movement",
    "motor_runtime_limiter", "out_of_service",
})  # fmt: skip
ENTRAPMENT_CAUSES = ("door_lock_fault", "misuse", "power_supply_fault", "controller_fault")


@dataclass(frozen=True)
class Figure:
    """A published figure: its band and where it comes from."""

    name: str
    low: float
    high: float
    source: str


FIGURES: tuple[Figure, ...] = (
    Figure("usage_categories_spanned", 5, 6, "ISO 25745-2:2015 usage categories 1-6 (very low to very high)"),
    Figure("residential_median_trips_per_day", 87, 474, "ISO 25745-2:2015: dwellings in categories 1-3"),
    Figure("office_median_trips_per_day", 474, 1936, "ISO 25745-2:2015: offices in categories 4-5"),
    Figure("empty_trip_share", 0.3, 0.6, "estimate: collective control fetches riders empty (CALIBRATION.md)"),
    Figure("mean_car_load_pct", 3.0, 15.0, "measured traffic: one rider per trip is typical (CALIBRATION.md)"),
    Figure("min_dwell_s", 2.0, 60.0, "EN 81-70: doors stay fully open at least 2 s"),
    Figure("median_door_open_s", 1.5, 3.5, "CIBSE Guide D:2015 door operating times"),
    Figure("healthy_vertical_a95_pp", 0.0, 0.20, "GB/T 10058-2009: vertical A95 <= 0.20 m/s^2"),
    Figure("healthy_lateral_a95_pp", 0.0, 0.15, "GB/T 10058-2009: horizontal A95 <= 0.15 m/s^2"),
    Figure("healthy_levelling_within_10mm", 0.99, 1.0, "EN 81-20 5.12.1.1.4 / GB 7588: stopping accuracy 10 mm"),
    Figure("running_energy_vs_class", 0.7, 1.3, "VDI 4707-1:2009 specific running energy of each model"),
    Figure("standby_share_low_use", 0.5, 1.0, "E4 project (2010): standby dominates low-use lifts"),
    Figure("standby_share_high_use", 0.0, 0.4, "E4 project (2010): running dominates high-use lifts"),
    Figure("breakdowns_per_unit_year", 0.5, 2.5, "industry: 0.5-2 callbacks/unit-year maintained, more when old"),
    Figure("entrapments_per_unit_year", 0.05, 0.4, "industry: ~20 % of breakdowns trap passengers"),
    Figure("entrapment_share_of_breakdowns", 0.1, 0.35, "industry: ~20 % of breakdowns trap passengers"),
    Figure("entrapment_doors_share", 0.3, 0.55, "estimate: door systems cause most entrapments"),
    Figure("entrapment_misuse_share", 0.15, 0.35, "estimate: misuse and vandalism"),
    Figure("entrapment_power_share", 0.1, 0.3, "estimate: supply failures"),
    Figure("entrapment_control_share", 0.05, 0.25, "estimate: controller faults"),
    Figure("rescue_arrival_within_30min", 0.85, 1.0, "TSG T5002-2017: crew on site within 30 min (cities)"),
    Figure("outages_over_a_day_share", 0.04, 0.25, "estimate: a repair waits for parts now and then"),
    Figure("eu_us_share_over_25_years", 0.35, 0.65, "ELA/E4: about half of Europe's lifts are over 25 years old"),
    Figure("cn_median_age_years", 3.0, 12.0, "SAMR: China's fleet grew ~4x from 2012 to 2022"),
    Figure("median_nominal_ttf_days", 60.0, 720.0, "estimate: component wear shows for months before failure"),
)
BY_NAME = {figure.name: figure for figure in FIGURES}


def standby_class_band(standby_w: float) -> tuple[float, float]:
    """The VDI 4707-1 standby class band (low, high) in W that a standby power falls in."""
    low = 0.0
    for high in VDI_STANDBY_W:
        if standby_w <= high:
            return low, high
        low = high
    raise ValueError(standby_w)


def iso_category(trips_per_day: FloatArray) -> npt.NDArray[np.int64]:
    """ISO 25745-2 usage category (1-6) of each trips-per-day figure."""
    edges = np.sqrt(np.array(ISO_CATEGORY_TRIPS[:-1]) * np.array(ISO_CATEGORY_TRIPS[1:]))
    return np.searchsorted(edges, trips_per_day) + 1


@dataclass
class _TripLog:
    """Per-trip figures gathered while a run steps (through Simulation.trip_observer)."""

    fleet: Fleet
    healthy: npt.NDArray[np.bool_]
    loads: list[FloatArray] = field(default_factory=list)
    dwell: list[FloatArray] = field(default_factory=list)
    door_open: list[FloatArray] = field(default_factory=list)
    levelling: list[FloatArray] = field(default_factory=list)
    energy_kwh: FloatArray = field(init=False)
    kg_m: FloatArray = field(init=False)

    def __post_init__(self) -> None:
        self.energy_kwh = np.zeros(self.fleet.size)
        self.kg_m = np.zeros(self.fleet.size)

    def __call__(self, units: npt.NDArray[np.intp], cycles: Cycles) -> None:
        self.loads.append(cycles.load_pct[units].copy())
        self.dwell.append(cycles.dwell_s[units].copy())
        self.door_open.append(cycles.open_s[units].copy())
        self.levelling.append(cycles.levelling_mm[units[self.healthy[units]]].copy())
        np.add.at(self.energy_kwh, units, cycles.energy_kwh[units])
        np.add.at(self.kg_m, units, self.fleet.capacity_kg[units] * np.abs(cycles.distance_m[units]))


def measure_run(fleet: Fleet, *, start: datetime, days: float, sample_period_s: float) -> dict[str, float]:
    """Step `fleet` for `days` in-process (wear-free units judged on ride figures) and measure every figure."""
    sim = Simulation(fleet, start=start, sample_period_s=sample_period_s)
    healthy: npt.NDArray[np.bool_] = np.all(fleet.onset > start.timestamp() + days * 86_400.0, axis=0)
    log = _TripLog(fleet, healthy)
    sim.trip_observer = log
    incidents: list[Incident] = []
    vertical, lateral = [], []
    for _ in range(round(days * 86_400 / sample_period_s)):
        result = sim.step()
        incidents.extend(result.incidents)
        moving = healthy & (result.snapshot.speed_mps != 0) & ~sim.halted
        vertical.append(result.snapshot.vibration[moving, 2])
        lateral.append(result.snapshot.vibration[moving, :2].max(axis=1))
    trips = (sim.trips - fleet.trips0) / days
    energy = sim.energy_kwh - fleet.energy0
    figures = _traffic(fleet, trips, log) | _energy(fleet, trips, energy, log, days)
    figures |= _incidents(Counter((i.code, i.cause) for i in incidents), fleet.size * days / 365.25)
    entrapments = [i for i in incidents if i.code == "entrapment" and i.arrived_at is not None]
    if entrapments:
        figures["rescue_arrival_within_30min"] = float(np.mean([i.arrived_at - i.ts <= 1800 for i in entrapments]))  # type: ignore[operator]
    figures["healthy_vertical_a95_pp"] = float(np.percentile(np.concatenate(vertical), 95)) * PEAK_TO_PEAK_PER_RMS
    figures["healthy_lateral_a95_pp"] = float(np.percentile(np.concatenate(lateral), 95)) * PEAK_TO_PEAK_PER_RMS
    return figures | fleet_figures(fleet)


def _traffic(fleet: Fleet, trips: FloatArray, log: _TripLog) -> dict[str, float]:
    loads = np.concatenate(log.loads)
    categories = Counter(iso_category(trips).tolist())
    levelling = np.concatenate(log.levelling)
    return {
        "usage_categories_spanned": float(sum(1 for n in categories.values() if n >= 0.01 * fleet.size)),
        "residential_median_trips_per_day": float(np.median(trips[fleet.building == BUILDING_INDEX["residential"]])),
        "office_median_trips_per_day": float(np.median(trips[fleet.building == BUILDING_INDEX["office"]])),
        "empty_trip_share": float(np.mean(loads == 0.0)),
        "mean_car_load_pct": float(np.mean(loads)),
        "min_dwell_s": float(np.min(np.concatenate(log.dwell))),
        "median_door_open_s": float(np.median(np.concatenate(log.door_open))),
        "healthy_levelling_within_10mm": float(np.mean(np.abs(levelling) <= 10.0)),
    }


def _energy(fleet: Fleet, trips: FloatArray, energy: FloatArray, log: _TripLog, days: float) -> dict[str, float]:
    standby_kwh = fleet.standby_w * days * 24.0 / 1000.0
    share = standby_kwh / np.maximum(energy, 1e-9)
    category = iso_category(trips)
    ratios = [figures["running_ratio"] for figures in model_figures(fleet, log.energy_kwh, log.kg_m).values()]
    return {
        "running_energy_vs_class": float(np.median(ratios)),
        "standby_share_low_use": float(np.median(share[category <= 2])),
        "standby_share_high_use": float(np.median(share[category >= 5])),
    }


def model_figures(fleet: Fleet, energy_kwh: FloatArray, kg_m: FloatArray) -> dict[str, dict[str, float]]:
    """Per model: measured specific running energy over its nominal VDI 4707 figure."""
    result = {}
    for spec in MODELS:
        mine = np.array([m.name == spec.name for m in fleet.models])
        if mine.any() and kg_m[mine].sum() > 0:
            measured = energy_kwh[mine].sum() * 1e6 / kg_m[mine].sum()
            result[spec.name] = {
                "running_mwh_per_kg_m": measured,
                "running_ratio": measured / spec.running_mwh_per_kg_m,
            }
    return result


def _incidents(counts: Counter[tuple[str, str]], unit_years: float) -> dict[str, float]:
    breakdowns = sum(n for (code, _), n in counts.items() if code in BREAKDOWN_CODES)
    trapped = {cause: counts.get(("entrapment", cause), 0) for cause in ENTRAPMENT_CAUSES}
    total = sum(trapped.values())
    # Wear-caused entrapments are door entrapments (door roller wear is their only driver).
    trapped["door_lock_fault"] += counts.get(("entrapment", "door_roller_wear"), 0)
    total += counts.get(("entrapment", "door_roller_wear"), 0)
    figures = {
        "entrapments": float(total),
        "breakdowns_per_unit_year": breakdowns / unit_years,
        "entrapments_per_unit_year": total / unit_years,
        "entrapment_share_of_breakdowns": total / max(breakdowns, 1),
    }
    for cause, name in zip(ENTRAPMENT_CAUSES, ("doors", "misuse", "power", "control"), strict=True):
        figures[f"entrapment_{name}_share"] = trapped[cause] / max(total, 1)
    return figures


def fleet_figures(fleet: Fleet) -> dict[str, float]:
    """Figures of the fleet as built: ages, wear durations."""
    regions = np.array([site.region for site in fleet.sites])
    west = np.isin(regions, ("eu", "us"))
    return {
        "eu_us_share_over_25_years": float(np.mean(fleet.age_years[west] > 25.0)),
        "cn_median_age_years": float(np.median(fleet.age_years[regions == "cn"])),
        "median_nominal_ttf_days": float(np.median(fleet.ttf_s) / 86_400.0),
    }


def fault_rates(fleet: Fleet, *, years: float = 1.0, step_days: float = 1.0) -> dict[str, float]:
    """Random-fault figures of a fleet (no trips, no wear): many unit-years of rare events in a second."""
    dt = step_days * 86_400.0
    eligible = np.ones(fleet.size, dtype=bool)
    severity = np.zeros((len(fleet.onset), fleet.size))
    hazards = Hazards(fleet.keys, fleet.site_keys, fleet.hazard_age, fleet.usage_factor, fleet.masks)
    counts: Counter[tuple[str, str]] = Counter()
    outages: list[FloatArray] = []
    for step in range(round(years * 365.25 / step_days)):
        for draw in draw_faults(hazards, step, eligible, severity, dt, 1.0):
            counts[(draw.spec.code, draw.spec.cause)] += draw.units.size
            if draw.spec.code in BREAKDOWN_CODES:
                outages.append(draw.outage_s)
    figures = _incidents(counts, fleet.size * years)
    figures["outages_over_a_day_share"] = float(np.mean(np.concatenate(outages) > 86_400.0))
    return figures


def check(measured: dict[str, float]) -> list[tuple[Figure, float, bool]]:
    """Each measured figure with its band and whether it is inside."""
    return [(BY_NAME[name], value, BY_NAME[name].low <= value <= BY_NAME[name].high)
            for name, value in measured.items() if name in BY_NAME]  # fmt: skip
