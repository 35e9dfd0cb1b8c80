"""Confounders: what real installations do to telemetry that is not the lift wearing out.

Sensor drift ending in a recalibration step, stuck values, noisy sensors, firmware updates that shift a
signal's offset, gateway dropouts, gateway clock skew, gateways that buffer and flush late, and heat waves
in machine rooms. Each is an episode with a unit, a window, and (where it touches one signal) the signal and
a magnitude; every episode that overlaps a run is labelled (kind "confounder"), so a detector's false alarm
on one can be counted.

Episodes are drawn per unit, per confounder and per 30-day block of absolute time from the unit's counter-based
stream (simulators.rng), so they do not depend on the fleet size, the sample period or the run's start; heat
waves draw from the site's key, so a building's lifts share them. Figures: simulators/CALIBRATION.md.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from simulators.rng import FloatArray, IntArray, KeyArray, uniform
from simulators.sampling import Snapshot

__all__ = ["CONFOUNDERS", "ConfounderSpec", "Confounders", "Episode"]

BLOCK_S = 30 * 86_400.0
SECONDS_PER_YEAR = 365.25 * 86_400.0
# Signals a sensor confounder can touch, with the size of a typical disturbance in the signal's unit.
SIGNAL_SCALE: dict[str, float] = {
    "load_pct": 8.0,
    "motor_temp_c": 5.0,
    "drive_temp_c": 5.0,
    "levelling_error_mm": 4.0,
    "vibration_z": 0.015,
    "motor_current_a": 2.0,
}
# A noisy sensor adds this many typical disturbances of white noise.
NOISY_GAIN = 0.5
_STREAM_BASE = 400


@dataclass(frozen=True)
class ConfounderSpec:
    """One kind of confounder: how often, how long, which signals, how large (in SIGNAL_SCALE units)."""

    name: str
    per_year: float
    hours: tuple[float, float]
    signals: tuple[str, ...] = ()
    magnitude: tuple[float, float] = (0.0, 0.0)
    site_level: bool = False


_SENSORS = tuple(SIGNAL_SCALE)
CONFOUNDERS: tuple[ConfounderSpec, ...] = (
    ConfounderSpec("sensor_drift", 1.0, (72.0, 700.0), _SENSORS, (0.8, 2.0)),
    ConfounderSpec("stuck_value", 1.0, (2.0, 72.0), _SENSORS),
    ConfounderSpec("noisy_sensor", 0.5, (24.0, 500.0), _SENSORS, (1.0, 1.0)),
    ConfounderSpec("firmware_offset", 0.5, (200.0, 700.0), ("load_pct", "levelling_error_mm", "motor_temp_c",
                                                            "vibration_z"), (0.5, 1.2)),
    ConfounderSpec("dropout", 6.0, (0.2, 12.0)),
    ConfounderSpec("clock_skew", 1.0, (24.0, 480.0), (), (20.0, 240.0)),
    ConfounderSpec("late_flush", 3.0, (0.5, 3.0)),
    ConfounderSpec("heatwave", 0.6, (48.0, 168.0), ("motor_temp_c", "drive_temp_c"), (4.0, 10.0), site_level=True),
)  # fmt: skip
_INDEX = {spec.name: index for index, spec in enumerate(CONFOUNDERS)}


@dataclass(frozen=True)
class Episode:
    """Every unit's episode of one confounder in one block (occurs False: none)."""

    occurs: npt.NDArray[np.bool_]
    start: FloatArray
    end: FloatArray
    signal: IntArray
    magnitude: FloatArray

    def active(self, t: FloatArray) -> npt.NDArray[np.bool_]:
        """Whether each unit's episode is under way at its time `t`."""
        return self.occurs & (self.start <= t) & (t < self.end)


def _episode(spec: ConfounderSpec, index: int, keys: KeyArray, block: int, scale: float) -> Episode:
    """The episodes of `spec` in `block` for units with these keys (rates times `scale`)."""
    stream = _STREAM_BASE + 8 * index
    chance = 1.0 - np.exp(-spec.per_year * scale * BLOCK_S / SECONDS_PER_YEAR)
    occurs = uniform(keys, block, stream) < chance
    start = block * BLOCK_S + uniform(keys, block, stream + 1) * BLOCK_S
    low, high = spec.hours
    # Log-uniform lengths: many short episodes, a few long ones (capped to a block so only one spills over).
    hours = np.exp(np.log(low) + (np.log(high) - np.log(low)) * uniform(keys, block, stream + 2))
    end = start + np.minimum(hours * 3600.0, BLOCK_S)
    count = max(len(spec.signals), 1)
    signal = np.minimum((uniform(keys, block, stream + 3) * count).astype(np.int64), count - 1)
    m_low, m_high = spec.magnitude
    sign = np.where(uniform(keys, block, stream + 4) < 0.5, -1.0, 1.0)
    size = m_low + (m_high - m_low) * uniform(keys, block, stream + 5)
    # Heat and noise only add; a drift, an offset or a clock goes either way.
    magnitude: FloatArray = size if spec.name in ("heatwave", "noisy_sensor") else sign * size
    if spec.signals and spec.name != "heatwave":  # heat waves are in degC already
        magnitude = magnitude * np.array([SIGNAL_SCALE[name] for name in spec.signals])[signal]
    return Episode(occurs, start, end, signal, magnitude)


def _get(snapshot: Snapshot, signal: str) -> FloatArray:
    """A signal's values (vibration_z is the vertical column of the snapshot's vibration)."""
    if signal == "vibration_z":
        return snapshot.vibration[:, 2]
    return np.asarray(getattr(snapshot, signal), dtype=np.float64)


def _set(snapshot: Snapshot, signal: str, value: FloatArray) -> None:
    """Replace a signal's values with a new array (never written in place: it may be the simulation's state)."""
    if signal == "vibration_z":
        vibration = snapshot.vibration.copy()
        vibration[:, 2] = np.maximum(value, 0.0)
        snapshot.vibration = vibration
    else:
        # A disturbed reading still stays inside what the contract accepts (a load cell reads no less than 0).
        setattr(snapshot, signal, np.maximum(value, 0.0) if signal in _NON_NEGATIVE else value)


def _merge(mask: npt.NDArray[np.bool_], where_true: Episode, where_false: Episode) -> Episode:
    """Per unit, the episode of `where_true` where `mask` holds, else that of `where_false`."""
    return Episode(*(np.where(mask, getattr(where_true, f), getattr(where_false, f)) for f in _FIELDS))


_NON_NEGATIVE = frozenset({"load_pct", "motor_current_a"})
_FIELDS = ("occurs", "start", "end", "signal", "magnitude")


class Confounders:
    """The confounders of a fleet: applied to each snapshot, and listed for the labels."""

    def __init__(self, keys: KeyArray, site_keys: KeyArray, *, scale: float = 1.0) -> None:
        self.keys = keys
        self.scale = scale
        self.site_keys = site_keys
        self._cache: dict[tuple[int, int], Episode] = {}
        self._stuck: dict[str, FloatArray] = {}
        self._stuck_held: dict[str, npt.NDArray[np.bool_]] = {}

    def episode(self, name: str, block: int) -> Episode:
        """Every unit's episode of confounder `name` in `block` (cached: a run visits a block for many steps)."""
        index = _INDEX[name]
        key = (index, block)
        if key not in self._cache:
            spec = CONFOUNDERS[index]
            keys = self.site_keys if spec.site_level else self.keys
            self._cache[key] = _episode(spec, index, keys, block, self.scale)
            if len(self._cache) > 4 * len(CONFOUNDERS):
                del self._cache[next(iter(self._cache))]
        return self._cache[key]

    def _pick(self, name: str, t: FloatArray) -> tuple[npt.NDArray[np.bool_], Episode]:
        """Active mask at `t` and, per unit, the episode under way (the previous block's when it spills over)."""
        block = int(np.floor(t.min() / BLOCK_S))
        current, previous = self.episode(name, block), self.episode(name, block - 1)
        if int(np.floor(t.max() / BLOCK_S)) != block:  # a step straddling a block boundary: rare, but exact
            ahead = np.floor(t / BLOCK_S) > block
            current, previous = _merge(ahead, self.episode(name, block + 1), current), _merge(ahead, current, previous)
        spill = previous.active(t)
        return spill | current.active(t), _merge(spill, previous, current)

    def apply(self, snapshot: Snapshot, noise: FloatArray) -> None:
        """Disturb one snapshot in place (new arrays: the simulation's own state is never touched)."""
        t = snapshot.ts
        self._signal_offsets(snapshot, t, noise)
        self._stuck_values(snapshot, t)
        active, episode = self._pick("clock_skew", t)
        snapshot.ts = np.where(active, t + episode.magnitude, t)
        snapshot.reporting = snapshot.reporting & ~self._pick("dropout", t)[0]
        snapshot.held = self._pick("late_flush", t)[0]

    def _signal_offsets(self, snapshot: Snapshot, t: FloatArray, noise: FloatArray) -> None:
        for name in ("sensor_drift", "noisy_sensor", "firmware_offset", "heatwave"):
            spec = CONFOUNDERS[_INDEX[name]]
            active, episode = self._pick(name, t)
            if not active.any():
                continue
            if name == "sensor_drift":
                # Drifts from zero to its magnitude, then the recalibration at the end steps it back.
                share = np.clip((t - episode.start) / (episode.end - episode.start), 0.0, 1.0)
                delta = episode.magnitude * share
            elif name == "noisy_sensor":
                delta = episode.magnitude * NOISY_GAIN * noise
            else:
                delta = episode.magnitude
            for s, signal in enumerate(spec.signals):
                touched = active & ((episode.signal == s) | (name == "heatwave"))
                if touched.any():
                    value = _get(snapshot, signal)
                    _set(snapshot, signal, np.where(touched, value + delta, value))

    def _stuck_values(self, snapshot: Snapshot, t: FloatArray) -> None:
        active, episode = self._pick("stuck_value", t)
        for s, signal in enumerate(CONFOUNDERS[_INDEX["stuck_value"]].signals):
            stuck = active & (episode.signal == s)
            held = self._stuck_held.get(signal)
            value = _get(snapshot, signal)
            if held is None:
                held, self._stuck[signal] = np.zeros(value.shape, dtype=bool), value.copy()
            # The first stuck sample freezes the value the sensor reported last.
            self._stuck[signal] = np.where(stuck & ~held, value, self._stuck[signal])
            self._stuck_held[signal] = stuck
            if stuck.any():
                _set(snapshot, signal, np.where(stuck, self._stuck[signal], value))

    def episodes(self, start_s: float, end_s: float) -> list[tuple[str, int, float, float, str | None, float]]:
        """(confounder, unit, start, end, signal, magnitude) of every episode overlapping [start_s, end_s)."""
        found = []
        for block in range(int(np.floor(start_s / BLOCK_S)) - 1, int(np.floor(end_s / BLOCK_S)) + 1):
            for spec in CONFOUNDERS:
                e = self.episode(spec.name, block)
                for u in np.flatnonzero(e.occurs & (e.start < end_s) & (e.end > start_s)):
                    signal = spec.signals[e.signal[u]] if spec.signals and spec.name != "heatwave" else None
                    found.append((spec.name, int(u), float(e.start[u]), float(e.end[u]), signal, float(e.magnitude[u])))
        return sorted(found, key=lambda item: (item[2], item[1], item[0]))
