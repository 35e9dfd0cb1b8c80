"""Traffic by building type and local time: daily profiles, weekends, public holidays, people per journey.

A journey is one or more people riding from a landing to another; the car may first travel empty to fetch
them (simulators.cycles). Each building type has a weekday profile (the share of a day's journeys in each local
hour), weekend and holiday factors, the share of journeys that start or end at the lobby, and how many people
ride together. Figures and their sources: simulators/CALIBRATION.md.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from simulators.rng import FloatArray, IntArray

__all__ = [
    "BUILDINGS",
    "BUILDING_INDEX",
    "SECONDS_PER_DAY",
    "BuildingProfile",
    "TrafficProfile",
    "is_holiday",
    "local_hour",
    "profile_at",
]

SECONDS_PER_DAY = 86_400.0


@dataclass(frozen=True)
class BuildingProfile:
    """How one type of building uses its lifts."""

    name: str
    # Lift journeys per day per unit of population (resident, worker, bed, visitor, parking space).
    journeys_per_capita: float
    weekday_share: tuple[float, ...]  # 24 local hours, normalised on use
    to_lobby: tuple[float, ...]  # 24 local hours: share of journeys going down to the lobby
    saturday: float
    sunday: float
    holiday: float
    # Mean extra riders per journey off-peak and at the busiest hour (a journey carries 1 + Poisson(extra)).
    extra_riders: tuple[float, float]


def _profile(values: list[float]) -> tuple[float, ...]:
    total = sum(values)
    return tuple(v / total for v in values)


BUILDINGS: tuple[BuildingProfile, ...] = (
    BuildingProfile(
        "residential", 1.6,
        _profile([1, 0.5, 0.3, 0.3, 0.3, 1, 3, 7, 8, 5, 4, 4, 5, 4, 4, 4, 5, 7, 8, 8, 6, 5, 3, 2]),
        (0.5, 0.5, 0.5, 0.5, 0.6, 0.7, 0.8, 0.85, 0.8, 0.6, 0.5, 0.5, 0.5, 0.45, 0.45, 0.4, 0.35, 0.25, 0.2,
         0.25, 0.3, 0.35, 0.4, 0.5),
        1.0, 0.95, 0.95, (0.2, 0.6),
    ),
    BuildingProfile(
        "office", 3.5,
        _profile([0.1, 0.05, 0.05, 0.05, 0.05, 0.2, 1, 5, 14, 9, 5, 6, 11, 10, 5, 5, 6, 11, 9, 3, 1.5, 1, 0.5, 0.2]),
        (0.5, 0.5, 0.5, 0.5, 0.5, 0.4, 0.2, 0.1, 0.08, 0.2, 0.4, 0.5, 0.55, 0.35, 0.45, 0.5, 0.6, 0.8, 0.85, 0.7,
         0.6, 0.6, 0.6, 0.5),
        0.12, 0.06, 0.06, (0.3, 2.5),
    ),
    BuildingProfile(
        "hospital", 12.0,
        _profile([1.5, 1, 1, 1, 1, 1.5, 3, 6, 8, 8, 8, 8, 7, 7, 8, 8, 7, 6, 6, 5, 4, 3, 2, 2]),
        (0.5, 0.5, 0.5, 0.5, 0.5, 0.45, 0.4, 0.35, 0.4, 0.45, 0.5, 0.5, 0.5, 0.5, 0.5, 0.55, 0.55, 0.55, 0.55,
         0.6, 0.6, 0.55, 0.5, 0.5),
        0.8, 0.75, 0.75, (0.5, 1.5),
    ),
    BuildingProfile(
        "retail", 0.25,
        _profile([0, 0, 0, 0, 0, 0, 0.2, 0.5, 1, 3, 6, 8, 10, 10, 10, 10, 10, 10, 9, 7, 5, 2, 0.5, 0]),
        (0.5,) * 9 + (0.3, 0.35, 0.4, 0.5, 0.5, 0.5, 0.55, 0.55, 0.6, 0.6, 0.65, 0.7, 0.75, 0.5, 0.5),
        1.35, 0.9, 0.5, (0.8, 1.8),
    ),
    BuildingProfile(
        "car_park", 1.2,
        _profile([0.2, 0.1, 0.1, 0.1, 0.1, 0.3, 1, 4, 7, 6, 5, 6, 7, 7, 6, 6, 7, 9, 8, 5, 3, 2, 1, 0.5]),
        (0.5,) * 6 + (0.2, 0.15, 0.15, 0.25, 0.4, 0.5, 0.55, 0.5, 0.5, 0.55, 0.7, 0.8, 0.8, 0.75, 0.7, 0.6, 0.5,
                      0.5),
        0.9, 0.6, 0.5, (0.4, 1.2),
    ),
)  # fmt: skip
BUILDING_INDEX = {profile.name: index for index, profile in enumerate(BUILDINGS)}

_SHARE = np.array([b.weekday_share for b in BUILDINGS])  # (types, 24)
_TO_LOBBY = np.array([b.to_lobby for b in BUILDINGS])
_DAY_FACTORS = np.array([(1.0, b.saturday, b.sunday, b.holiday) for b in BUILDINGS])
_EXTRA = np.array([b.extra_riders for b in BUILDINGS])
# Journeys are spread over a week so that the weekly mean per day is the building's design figure.
_WEEK_NORM = 7.0 / (5.0 + _DAY_FACTORS[:, 1] + _DAY_FACTORS[:, 2])
_PEAK_SHARE = _SHARE.max(axis=1)

# Fixed-date public holidays by region (month, day); moving feasts are left out (documented in CALIBRATION.md).
HOLIDAYS: dict[str, frozenset[tuple[int, int]]] = {
    "cn": frozenset({(1, 1), (5, 1), (5, 2), (5, 3), (10, 1), (10, 2), (10, 3), (10, 4), (10, 5), (10, 6), (10, 7)}),
    "eu": frozenset({(1, 1), (5, 1), (12, 25), (12, 26)}),
    "us": frozenset({(1, 1), (7, 4), (11, 11), (12, 25)}),
}
REGIONS = tuple(HOLIDAYS)
# 1970-01-01 was a Thursday: Saturday is day index 2 of the Unix week.
_UNIX_SATURDAY = 2


class TrafficProfile:
    """The traffic parameters of many units at their local times."""

    def __init__(self, journeys_per_hour: FloatArray, to_lobby: FloatArray, extra_riders: FloatArray) -> None:
        self.journeys_per_hour = journeys_per_hour
        self.to_lobby = to_lobby
        self.extra_riders = extra_riders


def local_hour(t: FloatArray, utc_offset_s: FloatArray) -> FloatArray:
    """Fractional local hour of day (0-24) at UTC epoch seconds `t`."""
    return ((t + utc_offset_s) % SECONDS_PER_DAY) / 3600.0


def _holiday_table() -> npt.NDArray[np.bool_]:
    """(regions, days since 1970-01-01 up to HOLIDAY_TABLE_DAYS): a public holiday there?"""
    days = np.arange(HOLIDAY_TABLE_DAYS).astype("datetime64[D]")
    months = days.astype("datetime64[M]")
    month = months.astype(np.int64) % 12 + 1
    day = (days - months).astype(np.int64) + 1
    table = np.zeros((len(REGIONS), HOLIDAY_TABLE_DAYS), dtype=bool)
    for r, region in enumerate(REGIONS):
        for m, d in HOLIDAYS[region]:
            table[r] |= (month == m) & (day == d)
    return table


# Days covered by the holiday lookup: 1970 to 2169 (a bounded table beats date arithmetic on every call).
HOLIDAY_TABLE_DAYS = 200 * 365
_HOLIDAYS = _holiday_table()


def is_holiday(local_s: FloatArray, region: IntArray) -> npt.NDArray[np.bool_]:
    """Whether local epoch seconds fall on a fixed-date public holiday of each unit's region."""
    day = np.clip((local_s // SECONDS_PER_DAY).astype(np.int64), 0, HOLIDAY_TABLE_DAYS - 1)
    return _HOLIDAYS[region, day]


def profile_at(
    t: FloatArray, utc_offset_s: FloatArray, building: IntArray, region: IntArray, journeys_per_day: FloatArray
) -> TrafficProfile:
    """Traffic at UTC epoch seconds `t` for units of these buildings with these weekly-mean journeys per day."""
    local = t + utc_offset_s
    hour = (local % SECONDS_PER_DAY // 3600).astype(np.int64)
    weekday = (local // SECONDS_PER_DAY).astype(np.int64) % 7
    day_kind = np.where(weekday == _UNIX_SATURDAY, 1, np.where(weekday == _UNIX_SATURDAY + 1, 2, 0))
    day_kind = np.where(is_holiday(local, region), 3, day_kind)
    factor = _DAY_FACTORS[building, day_kind] * _WEEK_NORM[building]
    share = _SHARE[building, hour]
    busy = share / _PEAK_SHARE[building]
    low, high = _EXTRA[building, 0], _EXTRA[building, 1]
    return TrafficProfile(journeys_per_day * factor * share, _TO_LOBBY[building, hour], low + (high - low) * busy)
