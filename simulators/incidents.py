"""Discrete faults and events: what happens to a unit at random, how often, and what wear makes it likelier.

Rates are per unit-year, in the range maintainers report for a mixed urban fleet (a few door faults a year,
an entrapment every year or two, a power cut or two). Wear raises some hazards: the share of a fault's
hazard that comes from wear is also the chance that wear is its ground-truth cause.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from simulators.degradation import PROCESSES
from simulators.rng import FloatArray, KeyArray, uniform

__all__ = ["FAULTS", "MAINTENANCE_HOURS", "FaultDraw", "FaultSpec", "draw_faults", "maintenance_due"]

_PROCESS_INDEX = {process.cause: index for index, process in enumerate(PROCESSES)}
SECONDS_PER_YEAR = 365.25 * 86_400.0


@dataclass(frozen=True)
class FaultSpec:
    """A fault or event that strikes at random."""

    code: str
    cause: str
    component_type: str | None
    per_year: float
    # (degradation cause, gain): hazard = per_year * (1 + sum(gain * severity ** 2)).
    drivers: tuple[tuple[str, float], ...]
    # Hours out of service (None: the controller resets itself); offline: the gateway loses power too.
    outage_hours: tuple[float, float] | None
    offline: bool = False


FAULTS: tuple[FaultSpec, ...] = (
    FaultSpec("door_close_fault", "door_obstruction", "door_operator", 3.0, (("door_roller_wear", 60.0),), None),
    FaultSpec("door_open_fault", "door_contact_fault", "door_operator", 1.0, (("door_roller_wear", 15.0),), None),
    FaultSpec("entrapment", "door_lock_fault", "door_operator", 0.5, (("door_roller_wear", 8.0),), (0.3, 1.0)),
    FaultSpec(
        "stopped_outside_door_zone",
        "encoder_slip",
        "controller",
        0.3,
        (("brake_lining_wear", 10.0), ("rope_stretch", 6.0)),
        (0.5, 2.0),
    ),
    FaultSpec("safety_circuit_broken", "safety_contact_fault", "safety_gear", 0.5, (), (0.5, 3.0)),
    FaultSpec("main_power_off", "power_cut", None, 0.6, (), (0.1, 3.0), offline=True),
    FaultSpec("alarm_button", "passenger_alarm", None, 4.0, (), None),
)
# Statutory maintenance visits put the unit in inspection mode for this long (hours).
MAINTENANCE_HOURS = (0.75, 2.0)
MAINTENANCE_PERIOD_S = 15 * 86_400.0
# Per-step random streams: fault k uses streams _STREAM_BASE + 3k .. + 3k + 2.
_STREAM_BASE = 100


@dataclass(frozen=True)
class FaultDraw:
    """Units struck by one fault in one step, whether wear caused it, and the outage length draw."""

    spec: FaultSpec
    units: npt.NDArray[np.intp]
    wear_cause: list[str | None]
    outage_s: FloatArray


def draw_faults(
    keys: KeyArray, step: int, eligible: npt.NDArray[np.bool_], severity: FloatArray, dt: float, scale: float
) -> list[FaultDraw]:
    """The faults striking eligible units during one step of `dt` seconds."""
    draws = []
    for index, spec in enumerate(FAULTS):
        wear_terms = [gain * severity[_PROCESS_INDEX[cause]] ** 2 for cause, gain in spec.drivers]
        wear = np.sum(wear_terms, axis=0) if wear_terms else np.zeros(len(keys))
        rate = spec.per_year * scale * (1.0 + wear)
        hit_probability = 1.0 - np.exp(-rate * dt / SECONDS_PER_YEAR)
        stream = _STREAM_BASE + 3 * index
        units = np.flatnonzero(eligible & (uniform(keys, step, stream) < hit_probability))
        if units.size == 0:
            continue
        # The wear share of the hazard is the probability that wear caused this occurrence.
        cause_draw = uniform(keys[units], step, stream + 1)
        wear_caused = cause_draw < wear[units] / (1.0 + wear[units])
        strongest = [max(spec.drivers, key=lambda d: d[1] * severity[_PROCESS_INDEX[d[0]], u] ** 2)[0] if spec.drivers
                     else None for u in units]  # fmt: skip
        wear_cause = [cause if caused else None for cause, caused in zip(strongest, wear_caused, strict=True)]
        low, high = spec.outage_hours or (0.0, 0.0)
        outage = (low + (high - low) * uniform(keys[units], step, stream + 2)) * 3600.0
        draws.append(FaultDraw(spec, units, wear_cause, outage))
    return draws


def maintenance_due(
    t_prev: FloatArray, t: FloatArray, utc_offset_s: FloatArray, phase_s: FloatArray
) -> npt.NDArray[np.bool_]:
    """Units whose half-monthly visit starts in (t_prev, t] (local time, each unit at its own phase)."""
    before = (t_prev + utc_offset_s - phase_s) % MAINTENANCE_PERIOD_S
    after = (t + utc_offset_s - phase_s) % MAINTENANCE_PERIOD_S
    return after < before
