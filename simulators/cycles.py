"""Service cycles: idle until a call, travel, open the doors, dwell, close. One cycle per trip, per unit.

A journey (riders from a landing to another) takes one trip when the car already stands at the pickup floor,
else two: an empty trip to fetch the riders, then the loaded one. So a share of trips runs empty, as measured
traffic shows.

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
from simulators.rng import FloatArray, IntArray, normals, uniforms
from simulators.traffic import TrafficProfile, profile_at

__all__ = ["Cycles", "plan_next", "trip_energy_kwh"]

_WEAR = {process.cause: index for index, process in enumerate(PROCESSES)}
MAX_LOAD_PCT = 110.0
# A rider with luggage weighs about 75 kg: the mass EN 81-20 Table 6 allots per person.
KG_PER_RIDER = 75.0
RIDER_LOAD_NOISE = 0.15
# Extra riders per journey are Poisson; the tail past this many is cut (a full car refuses the rest).
MAX_EXTRA_RIDERS = 12
# Of the journeys that do not end at the lobby, this share starts there; the rest go between upper floors.
FROM_LOBBY = 0.8
# Dwell: at least the 2 s EN 81-70 asks for, plus boarding time per rider, a random part and each reopening.
DWELL_MIN_S = 2.0
DWELL_RANDOM_S = 3.0
BOARDING_S_PER_RIDER = 0.8
REOPEN_EXTRA_S = 1.5
# Probability of a door reopen (light curtain, a late passenger), rising with roller wear.
REOPEN_BASE = 0.05
REOPEN_WEAR = 0.8
# Riders already at the landing step in within this long after the doors open for them.
MIN_IDLE_S = 1.0
# Even a closed shop or a sleeping house sees a call now and then (cleaners, security, a late resident).
MIN_JOURNEYS_PER_HOUR = 0.2
# A car can be free for no less than this share of an hour, however many calls the profile asks for.
MIN_FREE_SHARE = 0.1
# A call comes within a day and a half even at the quietest rate (the loop's bound).
MAX_IDLE_HOURS = 36
# Running energy per trip relative to the VDI 4707 reference trip, by the load's distance from balance.
TRACTION_ENERGY_BASE = 0.6
TRACTION_ENERGY_IMBALANCE = 1.0
# A hydraulic car pays its whole lift going up and almost nothing going down (valve-controlled descent).
HYDRAULIC_UP_ENERGY = 1.6
HYDRAULIC_DOWN_ENERGY = 0.35
MWH_TO_KWH = 1e-6


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
    riders: IntArray
    energy_kwh: FloatArray
    # The journey the car fetches its riders for (-1: none): after an empty trip it carries them there.
    carry_target: IntArray
    carry_riders: IntArray
    # False for the placeholder before the first cycle and for a cycle cut short by an outage: not counted.
    pending: npt.NDArray[np.bool_]

    @classmethod
    def idle_at_lobby(cls, size: int, since: FloatArray) -> Cycles:
        """Every car parked at the lobby with its last cycle ending at `since`."""
        empty: dict[str, npt.NDArray[Any]] = {"IntArray": np.zeros(size, dtype=np.int64), "FloatArray": np.zeros(size)}
        values = {f.name: empty.get(str(f.type), np.zeros(size, dtype=bool)).copy() for f in fields(cls)}
        values.update(start=since.copy(), depart=since.copy(), end=since.copy(), carry_target=np.full(size, -1))
        return cls(**values)

    @property
    def travel_s(self) -> FloatArray:
        """Departure to doors starting to open: the trip plus levelling."""
        return self.move_s + LEVELLING_S


def _poisson(u: FloatArray, mean: FloatArray) -> IntArray:
    """Poisson counts by inversion of one uniform draw each (vectorised; cut at MAX_EXTRA_RIDERS)."""
    term = np.exp(-mean)
    cdf = term.copy()
    count = np.zeros(u.shape, dtype=np.int64)
    for k in range(1, MAX_EXTRA_RIDERS + 1):
        beyond = u > cdf
        if not beyond.any():
            break
        count += beyond
        term = term * mean / k
        cdf = cdf + term
    return count


def _profile(fleet: Fleet, units: npt.NDArray[np.intp], t: FloatArray) -> TrafficProfile:
    return profile_at(t, fleet.utc_offset_s[units], fleet.building[units], fleet.region[units],
                      fleet.journeys_per_day[units])  # fmt: skip


def _idle(fleet: Fleet, units: npt.NDArray[np.intp], start: FloatArray, budget: FloatArray) -> FloatArray:
    """Time to the next call: a Poisson process whose rate changes by the hour, by time rescaling.

    `budget` is an Exp(1) draw; the rate is integrated hour by hour until it is spent. The car is busy for
    about a cycle per journey, so the rate between calls is raised to keep the journeys per hour on target.
    """
    t, idle = start.copy(), np.zeros(start.shape)
    left, open_ = budget.copy(), np.ones(start.shape, dtype=bool)
    cycle = fleet.cycle_s[units]
    for _ in range(MAX_IDLE_HOURS):
        rate = np.maximum(_profile(fleet, units, t).journeys_per_hour, MIN_JOURNEYS_PER_HOUR) / 3600.0
        rate = rate / np.maximum(1.0 - rate * cycle, MIN_FREE_SHARE)
        to_hour = 3600.0 - (t % 3600.0)
        ends = open_ & (left <= rate * to_hour)
        idle = np.where(ends, idle + left / rate, idle)
        spent = open_ & ~ends
        left = np.where(spent, left - rate * to_hour, left)
        idle = np.where(spent, idle + to_hour, idle)
        t = start + idle
        open_ = spent
        if not open_.any():
            break
    return np.maximum(idle, MIN_IDLE_S)


def _journeys(
    fleet: Fleet, units: npt.NDArray[np.intp], u: FloatArray, start: FloatArray
) -> tuple[FloatArray, IntArray, IntArray, IntArray]:
    """Idle time, pickup floor, destination and riders of each unit's next journey."""
    floors = fleet.floors[units]
    idle = _idle(fleet, units, start, -np.log1p(-u[0]))
    profile = _profile(fleet, units, start + idle)
    kind = u[1]
    down = kind < profile.to_lobby
    up = ~down & (kind < profile.to_lobby + (1.0 - profile.to_lobby) * FROM_LOBBY)
    upper = 1 + (u[2] * (floors - 1)).astype(np.int64)
    other = (u[3] * (floors - 1)).astype(np.int64)
    other = other + (other >= upper)
    pickup = np.where(down, upper, np.where(up, 0, other))
    target = np.where(down, 0, upper)
    riders = 1 + _poisson(u[4], profile.extra_riders)
    return idle, pickup, target, riders


def plan_next(cycles: Cycles, fleet: Fleet, units: npt.NDArray[np.intp], wear: FloatArray) -> None:
    """Replace the finished cycles of `units` by their next ones; `wear` is (processes, len(units))."""
    keys, number = fleet.keys[units], cycles.number[units] + 1
    start = cycles.end[units]
    origin = cycles.target[units]
    # One pass of counter-based draws per planning call: uniforms u[0..7], normals z[0..4].
    u, z = uniforms(keys, number, 1, 8), normals(keys, number, 1, 5)
    idle, pickup, destination, new_riders = _journeys(fleet, units, u, start)
    carrying = cycles.carry_target[units] >= 0
    # Riders waiting in the car go now; a new journey is a direct trip when the car already stands at the pickup.
    direct = ~carrying & (pickup == origin)
    target = np.where(carrying, cycles.carry_target[units], np.where(direct, destination, pickup))
    riders = np.where(carrying, cycles.carry_riders[units], np.where(direct, new_riders, 0))
    boarding = np.where(carrying | direct, 0, new_riders)
    idle = np.where(carrying, 0.0, idle)
    cycles.carry_target[units] = np.where(carrying | direct, -1, destination)
    cycles.carry_riders[units] = np.where(carrying | direct, 0, new_riders)
    load = riders * KG_PER_RIDER / fleet.capacity_kg[units] * 100.0
    load = np.clip(load * (1.0 + RIDER_LOAD_NOISE * z[0]), 0.0, MAX_LOAD_PCT)
    distance = (target - origin) * fleet.floor_height_m[units]
    peak, move = trip_time(distance, fleet.rated_speed[units], fleet.accel[units])
    door_wear, brake_wear = wear[_WEAR["door_roller_wear"]], wear[_WEAR["brake_lining_wear"]]
    open_s, close_s = door_times(fleet.door_open_s[units], fleet.door_close_s[units], door_wear, z[1])
    reopen_p = np.minimum(REOPEN_BASE + REOPEN_WEAR * door_wear, 0.95)
    draw = u[5]
    reopens = (draw < reopen_p).astype(np.int64) + (draw < reopen_p**2) + (draw < reopen_p**3)
    dwell = (
        DWELL_MIN_S
        + DWELL_RANDOM_S * u[6]
        + BOARDING_S_PER_RIDER * (riders + boarding)
        + reopens * (open_s + REOPEN_EXTRA_S)
    )
    depart = start + idle
    direction = np.sign(distance)
    levelling = levelling_error(
        direction=direction,
        load_pct=load,
        rope_wear=wear[_WEAR["rope_stretch"]],
        brake_wear=brake_wear,
        noise=z[2],
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
    cycles.stop_distance_mm[units] = stop_distance(brake_wear, z[3])
    cycles.reopens[units] = reopens
    cycles.riders[units] = riders
    cycles.pending[units] = True
    cycles.energy_kwh[units] = trip_energy_kwh(fleet, units, distance, load)


def trip_energy_kwh(fleet: Fleet, units: npt.NDArray[np.intp], distance: FloatArray, load: FloatArray) -> FloatArray:
    """Running energy of trips (kWh): the model's specific energy (VDI 4707) times rated load and travel."""
    reference = fleet.running_mwh_per_kg_m[units] * fleet.capacity_kg[units] * np.abs(distance) * MWH_TO_KWH
    imbalance = np.abs(load - fleet.balance_pct[units]) / 100.0
    traction = TRACTION_ENERGY_BASE + TRACTION_ENERGY_IMBALANCE * imbalance
    hydraulic = np.where(distance > 0, HYDRAULIC_UP_ENERGY * (0.5 + load / 100.0), HYDRAULIC_DOWN_ENERGY)
    return reference * np.where(fleet.hydraulic[units], hydraulic, traction)
