"""Discrete faults and events: what happens to a unit at random, how often, what makes it likelier, how long.

Rates are per unit-year for a unit of mid age at medium use (ISO 25745-2 category 3); age, usage and wear
scale them. Wear raises some hazards: the share of a fault's hazard that comes from wear is also the chance
that wear is its ground-truth cause (and only then did the fault have a precursor). Building-wide events
(power cuts, fire alarms, earthquakes) strike every lift of a site together: they draw from the site's key.
Entrapments carry the rescue: crew arrival, then release. Figures and their sources: simulators/CALIBRATION.md.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from simulators.degradation import PROCESSES
from simulators.rng import FloatArray, KeyArray, normal, uniform

__all__ = [
    "FAULTS",
    "MAINTENANCE_HOURS",
    "FaultDraw",
    "FaultSpec",
    "Hazards",
    "draw_faults",
    "maintenance_due",
    "outage_hours",
]

_PROCESS_INDEX = {process.cause: index for index, process in enumerate(PROCESSES)}
SECONDS_PER_YEAR = 365.25 * 86_400.0
# Usage-driven faults scale with the square root of trips against this reference (ISO 25745-2 category 3).
REFERENCE_TRIPS_PER_DAY = 300.0
# Rescue of trapped passengers: crew arrival (TSG T5002: within 30 min in cities), then the release itself.
RESCUE_ARRIVAL_MEDIAN_MIN = 18.0
RESCUE_ARRIVAL_SIGMA = 0.4
RESCUE_RELEASE_MIN = (3.0, 12.0)
# A repair waits for parts this often (component faults only), for days: the multi-day tail of downtime.
PARTS_WAIT_PROBABILITY = 0.12
PARTS_WAIT_MEDIAN_DAYS = 3.0
PARTS_WAIT_SIGMA = 0.7
PARTS_WAIT_MAX_DAYS = 21.0


@dataclass(frozen=True)
class FaultSpec:
    """A fault or event that strikes at random."""

    code: str
    cause: str
    component_type: str | None
    per_year: float
    # (degradation cause, gain): hazard = per_year * (1 + sum(gain * severity ** 2)).
    drivers: tuple[tuple[str, float], ...] = ()
    # Median hours out of service and the lognormal spread (None: the controller resets itself).
    outage_median_h: float | None = None
    outage_sigma: float = 0.6
    offline: bool = False  # the gateway loses power too
    site_level: bool = False  # every lift of the building at once
    usage_scaled: bool = False
    where: str = "all"  # which units it can strike (Hazards masks)
    stream: int = 0  # site-level events sharing a stream strike together (a power cut: off, or on generator)
    also: str | None = None  # an event code reported just before (a power failure before the entrapment)


FAULTS: tuple[FaultSpec, ...] = (
    FaultSpec("door_close_fault", "door_obstruction", "door_operator", 2.0, (("door_roller_wear", 6.0),),
              usage_scaled=True),
    FaultSpec("door_open_fault", "door_contact_fault", "door_operator", 0.6, (("door_roller_wear", 3.0),),
              usage_scaled=True),
    FaultSpec("entrapment", "door_lock_fault", "door_operator", 0.075, (("door_roller_wear", 4.0),), 1.5,
              usage_scaled=True),
    FaultSpec("entrapment", "misuse", None, 0.05, (), 0.0, usage_scaled=True),
    FaultSpec("entrapment", "power_supply_fault", None, 0.045, (), 1.0, offline=True, also="main_power_off"),
    FaultSpec("entrapment", "controller_fault", "controller", 0.03, (), 2.0),
    FaultSpec("stopped_outside_door_zone", "encoder_slip", "controller", 0.15,
              (("brake_lining_wear", 10.0), ("rope_stretch", 6.0)), 1.0),
    FaultSpec("safety_circuit_broken", "safety_contact_fault", "safety_gear", 0.3, (), 1.5),
    FaultSpec("floor_position_lost", "encoder_fault", "controller", 0.15, (), 0.4),
    FaultSpec("no_restart", "drive_component_failure", "drive", 0.1, (), 4.0),
    FaultSpec("overspeed", "governor_trip", "governor", 0.01, (), 5.0),
    FaultSpec("overtravel_top", "overtravel", "brake", 0.02, (("brake_lining_wear", 20.0),), 3.0),
    FaultSpec("overtravel_bottom", "overtravel", "brake", 0.02, (("brake_lining_wear", 20.0),), 3.0),
    FaultSpec("door_open_while_moving", "door_contact_bridged", "door_operator", 0.03, (), 2.0),
    FaultSpec("main_power_off", "power_cut", None, 0.5, (), 0.6, 1.0, offline=True, site_level=True,
              where="no_generator", stream=1),
    FaultSpec("emergency_power", "power_cut", None, 0.5, (), None, site_level=True, where="generator", stream=1),
    FaultSpec("fire_recall", "fire_alarm", None, 0.3, (), 0.4, 0.5, site_level=True),
    FaultSpec("firefighter_operation", "firefighter_drill", None, 0.5, (), 0.8, 0.3, site_level=True,
              where="firefighter"),
    FaultSpec("earthquake", "earthquake", None, 0.1, (), 1.0, 0.8, site_level=True, where="seismic"),
    FaultSpec("alarm_button", "passenger_alarm", None, 2.0, (), usage_scaled=True),
)  # fmt: skip
# Statutory maintenance visits put the unit in inspection mode for this long (hours).
MAINTENANCE_HOURS = (0.75, 2.0)
MAINTENANCE_PERIOD_S = 15 * 86_400.0
# Per-step random streams: fault k uses streams _STREAM_BASE + 8k .. + 8k + 5.
_STREAM_BASE = 100


@dataclass(frozen=True)
class Hazards:
    """Per-unit inputs of the fault draws that do not change within a run."""

    keys: KeyArray
    site_keys: KeyArray
    age_factor: FloatArray
    usage_factor: FloatArray
    masks: dict[str, npt.NDArray[np.bool_]]


@dataclass(frozen=True)
class FaultDraw:
    """Units struck by one fault in one step: whether wear caused it, the outage and the rescue timings (s)."""

    spec: FaultSpec
    units: npt.NDArray[np.intp]
    wear_cause: list[str | None]
    outage_s: FloatArray
    arrival_s: FloatArray
    release_s: FloatArray


def outage_hours(keys: KeyArray, step: int, stream: int, median_h: float, sigma: float, parts: bool) -> FloatArray:
    """Hours out of service: lognormal around the median, plus a wait for parts now and then."""
    hours = median_h * np.exp(sigma * normal(keys, step, stream))
    if parts:
        waits = uniform(keys, step, stream + 1) < PARTS_WAIT_PROBABILITY
        days = PARTS_WAIT_MEDIAN_DAYS * np.exp(PARTS_WAIT_SIGMA * normal(keys, step, stream + 2))
        hours = hours + waits * np.minimum(days, PARTS_WAIT_MAX_DAYS) * 24.0
    return hours


def draw_faults(
    hazards: Hazards, step: int, eligible: npt.NDArray[np.bool_], severity: FloatArray, dt: float, scale: float
) -> list[FaultDraw]:
    """The faults striking eligible units during one step of `dt` seconds."""
    draws = []
    base = {"all": hazards.age_factor, "site": np.ones_like(hazards.age_factor)}
    for index, spec in enumerate(FAULTS):
        wear_terms = [gain * severity[_PROCESS_INDEX[cause]] ** 2 for cause, gain in spec.drivers]
        wear = np.sum(wear_terms, axis=0) if wear_terms else np.zeros(len(hazards.keys))
        factor = base["site" if spec.site_level else "all"] * (hazards.usage_factor if spec.usage_scaled else 1.0)
        rate = spec.per_year * scale * factor * (1.0 + wear)
        hit_probability = 1.0 - np.exp(-rate * dt / SECONDS_PER_YEAR)
        stream = _STREAM_BASE + 8 * (spec.stream or 100 + index)
        keys = hazards.site_keys if spec.site_level else hazards.keys
        mask = eligible & hazards.masks[spec.where] if spec.where != "all" else eligible
        units = np.flatnonzero(mask & (uniform(keys, step, stream) < hit_probability))
        if units.size == 0:
            continue
        unit_keys = hazards.keys[units]
        # The wear share of the hazard is the probability that wear caused this occurrence.
        wear_caused = uniform(unit_keys, step, stream + 1) < wear[units] / (1.0 + wear[units])
        strongest = [max(spec.drivers, key=lambda d: d[1] * severity[_PROCESS_INDEX[d[0]], u] ** 2)[0] if spec.drivers
                     else None for u in units]  # fmt: skip
        wear_cause = [cause if caused else None for cause, caused in zip(strongest, wear_caused, strict=True)]
        arrival = release = np.zeros(units.size)
        if spec.code == "entrapment":
            arrival = RESCUE_ARRIVAL_MEDIAN_MIN * 60.0 * np.exp(RESCUE_ARRIVAL_SIGMA * normal(unit_keys, step, stream))
            low, high = RESCUE_RELEASE_MIN
            release = arrival + (low + (high - low) * uniform(unit_keys, step, stream + 2)) * 60.0
        outage = np.zeros(units.size)
        if spec.outage_median_h is not None:
            parts = spec.component_type is not None
            outage = outage_hours(unit_keys, step, stream + 3, spec.outage_median_h, spec.outage_sigma, parts) * 3600.0
        # Trapped riders are released first; the repair (if any) follows.
        draws.append(FaultDraw(spec, units, wear_cause, release + outage, arrival, release))
    return draws


def maintenance_due(
    t_prev: FloatArray, t: FloatArray, utc_offset_s: FloatArray, phase_s: FloatArray
) -> npt.NDArray[np.bool_]:
    """Units whose half-monthly visit starts in (t_prev, t] (local time, each unit at its own phase)."""
    before = (t_prev + utc_offset_s - phase_s) % MAINTENANCE_PERIOD_S
    after = (t + utc_offset_s - phase_s) % MAINTENANCE_PERIOD_S
    return after < before
