"""Counter-based random numbers: one independent stream per unit, drawn for many units in one numpy call.

Each unit's key comes from `SeedSequence(seed, spawn_key=(unit_index,))`, so unit k's key does not depend on
the fleet size or on the other units. A draw is a hash of (unit key, counter, stream): the counter is the
unit's cycle number or the simulation step, the stream names what the number is for. Results are therefore
the same whatever the fleet size, the order of units or which other units are drawn in the same call, which a
stateful generator shared across units cannot give, and one generator per unit cannot give vectorised.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

__all__ = [
    "BUILD_PURPOSE",
    "FACTORY_TEST_PURPOSE",
    "FloatArray",
    "IntArray",
    "KeyArray",
    "normal",
    "normals",
    "site_keys",
    "uniform",
    "uniforms",
    "unit_generator",
    "unit_keys",
]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
KeyArray = npt.NDArray[np.uint64]

# SplitMix64 constants (Steele et al.): a well-mixed 64-bit finaliser is all a hash-based stream needs.
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)
_STREAM = np.uint64(0xD1B54A32D192ED03)
_TO_UNIT = 2.0**-53
# Block normals draw their uniforms from streams far above any named one.
_NORMAL_BASE = 2_000_000

# `unit_generator` purposes, in one place so no two users share (and so correlate) a stream of static draws.
BUILD_PURPOSE = 1  # the fleet's build: models, sites, components, wear (simulators.fleet)
FACTORY_TEST_PURPOSE = 2  # factory acceptance results (simulators.seeding)
# Site keys spawn from a branch no unit index reaches.
_SITE_SPAWN = 2**30


def unit_keys(seed: int, indices: range) -> KeyArray:
    """The 64-bit key of each unit index under `seed` (independent of the other indices)."""
    keys = [np.random.SeedSequence(seed, spawn_key=(i,)).generate_state(1, np.uint64)[0] for i in indices]
    return np.array(keys, dtype=np.uint64)


def site_keys(seed: int, site_indices: list[int]) -> KeyArray:
    """Each unit's building key: units of one site share it, so building-wide events strike them together."""
    keys = {i: np.random.SeedSequence(seed, spawn_key=(_SITE_SPAWN, i)).generate_state(1, np.uint64)[0]
            for i in set(site_indices)}  # fmt: skip
    return np.array([keys[i] for i in site_indices], dtype=np.uint64)


def unit_generator(seed: int, index: int, purpose: int) -> np.random.Generator:
    """A numpy Generator of its own for one unit and one purpose (static draws at fleet build time)."""
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(index, purpose)))


def _mix(x: KeyArray) -> KeyArray:
    x = (x ^ (x >> np.uint64(30))) * _MIX1
    x = (x ^ (x >> np.uint64(27))) * _MIX2
    return x ^ (x >> np.uint64(31))


def uniform(keys: KeyArray, counter: npt.ArrayLike, stream: int) -> FloatArray:
    """Uniform draws in [0, 1), one per key, for this counter and stream."""
    count = np.asarray(counter, dtype=np.int64).astype(np.uint64)
    # Scalars stay scalars until the last mix: a shared counter is hashed once, not once per unit.
    with np.errstate(over="ignore"):
        inner = _mix(count * _GOLDEN + np.uint64(stream) * _STREAM)
    mixed = _mix(keys ^ inner)
    return (mixed >> np.uint64(11)).astype(np.float64) * _TO_UNIT


def uniforms(keys: KeyArray, counter: npt.ArrayLike, first_stream: int, count: int) -> FloatArray:
    """Uniform draws of `count` consecutive streams at once, shape (count, keys): one numpy pass, not `count`."""
    number = np.asarray(counter, dtype=np.int64).astype(np.uint64)
    streams = (np.arange(first_stream, first_stream + count, dtype=np.uint64) * _STREAM)[:, None]
    with np.errstate(over="ignore"):
        inner = _mix(number * _GOLDEN + streams)
    mixed = _mix(keys[None, :] ^ inner)
    return (mixed >> np.uint64(11)).astype(np.float64) * _TO_UNIT


def normals(keys: KeyArray, counter: npt.ArrayLike, first_stream: int, count: int) -> FloatArray:
    """Standard normal draws of `count` consecutive streams at once, shape (count, keys)."""
    u = uniforms(keys, counter, _NORMAL_BASE + 2 * first_stream, 2 * count)
    return np.sqrt(-2.0 * np.log1p(-u[:count])) * np.cos(2.0 * np.pi * u[count:])


def normal(keys: KeyArray, counter: npt.ArrayLike, stream: int) -> FloatArray:
    """Standard normal draws (Box-Muller over two derived streams)."""
    u1 = uniform(keys, counter, 2 * stream + 1_000_003)
    u2 = uniform(keys, counter, 2 * stream + 1_000_004)
    return np.sqrt(-2.0 * np.log1p(-u1)) * np.cos(2.0 * np.pi * u2)
