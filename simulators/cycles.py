"""Service cycles: idle until a call, travel, open the doors, dwell, close. One cycle per call, per unit.

A cycle is planned whole when the previous one ends, from the unit's own random stream keyed by its cycle
number, so the trips do not depend on the sample period or on the other units. The planned times let the
physics evaluate the car at any instant analytically.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

import numpy as np
import numpy.typing as npt

from simulators.degradation import PROCESSES
from simulators.fleet import Fleet
from simulators.physics import LEVELLING_S, door_times, levelling_error, stop_distance, trip_time
from simulators.rng import FloatArray, IntArray, normal, uniform
from simulators.traffic import profile_at

__all__ = ["Cycles", "plan_next"]

_WEAR = {process.cause: index for index, process in enumerate(PROCESSES)}
# A trip with nobody aboard (repositioning, one rider at night) still carries about one person: ~10 %.
LIGHT_LOAD_PCT = 10.0
MAX_LOAD_PCT = 110.0
# Dwell: a base, a random part, plus boarding time per 25 % of load, plus each reopening.
DWELL_BASE_S = 2.0
DWELL_RANDOM_S = 4.0
REOPEN_EXTRA_S = 1.5
# Probability of a door reopen (light curtain, a late passenger), rising with roller wear.
REOPEN_BASE = 0.05
REOPEN_WEAR = 0.8
# Drive energy per ampere of rated current per second of travel, kWh (about 0.5 kW per A at 400 V).
KWH_PER_AMP_SECOND = 0.5 / 3600.0


@dataclass
class Cycles:
    """The current cycle of every unit (arrays, one entry per unit)."""

    number: IntArray
    start: FloatArray
    depart: FloatArray
    origin: IntArray
    target: IntArray
    load_pct: FloatArray
    distance_m: FloatArray
    peak_mps: FloatArray
    move_s: FloatArray
    open_s: FloatArray
    dwell_s: FloatArray
    close_s: FloatArray
    end: FloatArray
    levelling_mm: FloatArray
    previous_levelling_mm: FloatArray
    stop_distance_mm: FloatArray
    reopens: IntArray
    energy_kwh: FloatArray
    # False for the placeholder before the first cycle and for a cycle cut short by an outage: not counted.
    pending: npt.NDArray[np.bool_]

    @classmethod
    def idle_at_lobby(cls, size: int, since: FloatArray) -> Cycles:
        """Every car parked at the lobby with its last cycle ending at `since`."""
        empty: dict[str, npt.NDArray[Any]] = {"IntArray": np.zeros(size, dtype=np.int64), "FloatArray": np.zeros(size)}
        values = {f.name: empty.get(str(f.type), np.zeros(size, dtype=bool)).copy() for f in fields(cls)}
        values.update(start=since.copy(), depart=since.copy(), end=since.copy())
        return cls(**values)

    @property
    def travel_s(self) -> FloatArray:
        """Departure to doors starting to open: the trip plus levelling."""
        return self.move_s + LEVELLING_S


def plan_next(cycles: Cycles, fleet: Fleet, units: npt.NDArray[np.intp], wear: FloatArray) -> None:
    """Replace the finished cycles of `units` by their next ones; `wear` is (processes, len(units))."""
    keys, number = fleet.keys[units], cycles.number[units] + 1
    start = cycles.end[units]
    profile = profile_at(start, fleet.utc_offset_s[units], fleet.busyness[units])
    idle_s = -np.log1p(-uniform(keys, number, 1)) * 3600.0 / profile.calls_per_hour
    origin = cycles.target[units]
    floors = fleet.floors[units]
    to_lobby = (origin > 0) & (uniform(keys, number, 2) < profile.to_lobby)
    other = (uniform(keys, number, 3) * (floors - 1)).astype(np.int64)
    target = np.where(to_lobby, 0, other + (other >= origin))
    loaded = (origin == 0) | to_lobby
    load = np.where(loaded, profile.loaded_pct * (0.5 + uniform(keys, number, 4)), LIGHT_LOAD_PCT)
    load = np.clip(load * (1.0 + 0.1 * normal(keys, number, 5)), 0.0, MAX_LOAD_PCT)
    distance = (target - origin) * fleet.floor_height_m[units]
    peak, move = trip_time(distance, fleet.rated_speed[units], fleet.accel[units])
    door_wear, brake_wear = wear[_WEAR["door_roller_wear"]], wear[_WEAR["brake_lining_wear"]]
    open_s, close_s = door_times(
        fleet.door_open_s[units], fleet.door_close_s[units], door_wear, normal(keys, number, 6)
    )
    reopen_p = np.minimum(REOPEN_BASE + REOPEN_WEAR * door_wear, 0.95)
    draw = uniform(keys, number, 7)
    reopens = (draw < reopen_p).astype(np.int64) + (draw < reopen_p**2) + (draw < reopen_p**3)
    dwell = DWELL_BASE_S + DWELL_RANDOM_S * uniform(keys, number, 8) + load / 25.0 + reopens * (open_s + REOPEN_EXTRA_S)
    depart = start + idle_s
    direction = np.sign(distance)
    levelling = levelling_error(
        direction=direction,
        load_pct=load,
        rope_wear=wear[_WEAR["rope_stretch"]],
        brake_wear=brake_wear,
        noise=normal(keys, number, 9),
    )
    cycles.number[units] = number
    cycles.start[units] = start
    cycles.depart[units] = depart
    cycles.origin[units] = origin
    cycles.target[units] = target
    cycles.load_pct[units] = load
    cycles.distance_m[units] = distance
    cycles.peak_mps[units] = peak
    cycles.move_s[units] = move
    cycles.open_s[units] = open_s
    cycles.dwell_s[units] = dwell
    cycles.close_s[units] = close_s
    cycles.end[units] = depart + move + LEVELLING_S + open_s + dwell + close_s
    cycles.previous_levelling_mm[units] = cycles.levelling_mm[units]
    cycles.levelling_mm[units] = levelling
    cycles.stop_distance_mm[units] = stop_distance(brake_wear, normal(keys, number, 10))
    cycles.reopens[units] = reopens
    cycles.pending[units] = True
    imbalance = np.abs(load - fleet.balance_pct[units]) / 100.0
    cycles.energy_kwh[units] = fleet.rated_current[units] * move * KWH_PER_AMP_SECOND * (0.3 + imbalance)
