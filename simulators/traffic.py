"""Traffic by local time of day: morning up-peak, lunch, evening down-peak, quiet nights and weekends.

Each pattern gives calls per hour (how long a car idles between trips), how often a trip starts from the
lobby (up-peak) or ends there (down-peak), and how full the car is on a loaded trip.
"""

from __future__ import annotations

import numpy as np

from simulators.rng import FloatArray

__all__ = ["SECONDS_PER_DAY", "TrafficProfile", "local_hour", "profile_at"]

SECONDS_PER_DAY = 86_400.0

# Per local hour 0..23: calls per hour per car on a weekday. Office-and-residential mix: 8-9 h up-peak,
# 12-13 h lunch, 17-18 h down-peak, a few calls at night.
_CALLS_PER_HOUR = np.array(
    [3, 2, 2, 2, 2, 4, 10, 35, 70, 55, 25, 28, 50, 45, 25, 22, 30, 60, 65, 35, 20, 14, 8, 5], dtype=np.float64
)
# Probability that a trip ends at the lobby (down-peak high) and that a lobby trip is a loaded one.
_TO_LOBBY = np.array(
    [0.5, 0.5, 0.5, 0.5, 0.5, 0.4, 0.3, 0.2, 0.15, 0.2, 0.35, 0.45, 0.55, 0.4, 0.4, 0.45, 0.55, 0.7, 0.75, 0.6,
     0.5, 0.5, 0.5, 0.5],
    dtype=np.float64,
)  # fmt: skip
# Mean load of a loaded trip, % of rated: peaks fill cars, nights carry one person.
_PEAK_LOAD_PCT = np.array(
    [8, 8, 8, 8, 8, 10, 20, 45, 65, 50, 25, 28, 45, 40, 25, 22, 30, 55, 60, 35, 20, 15, 10, 8], dtype=np.float64
)
# Weekends see a fraction of weekday traffic (offices empty, residents move less predictably).
WEEKEND_FACTOR = 0.35
# 1970-01-01 was a Thursday: Saturday is day index 2 of the Unix week.
_UNIX_SATURDAY = 2


class TrafficProfile:
    """The traffic parameters of many units at their local times."""

    def __init__(self, calls_per_hour: FloatArray, to_lobby: FloatArray, loaded_pct: FloatArray) -> None:
        self.calls_per_hour = calls_per_hour
        self.to_lobby = to_lobby
        self.loaded_pct = loaded_pct


def local_hour(t: FloatArray, utc_offset_s: FloatArray) -> FloatArray:
    """Fractional local hour of day (0-24) at UTC epoch seconds `t`."""
    return ((t + utc_offset_s) % SECONDS_PER_DAY) / 3600.0


def profile_at(t: FloatArray, utc_offset_s: FloatArray, busyness: FloatArray) -> TrafficProfile:
    """Traffic at UTC epoch seconds `t` for units with these offsets and relative busyness."""
    local = t + utc_offset_s
    hour = (local % SECONDS_PER_DAY // 3600).astype(np.int64)
    weekday = (local // SECONDS_PER_DAY).astype(np.int64) % 7
    weekend = (weekday == _UNIX_SATURDAY) | (weekday == _UNIX_SATURDAY + 1)
    factor = np.where(weekend, WEEKEND_FACTOR, 1.0) * busyness
    return TrafficProfile(_CALLS_PER_HOUR[hour] * factor, _TO_LOBBY[hour], _PEAK_LOAD_PCT[hour])
