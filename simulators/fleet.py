"""The simulated fleet: each unit's model, building, installed components and hidden degradation schedule.

Everything about unit k is drawn from unit k's own generator, so a fleet of 10 and a fleet of 10,000 agree
on their first 10 units. Per-unit parameters are kept as arrays (one entry per unit) for the vectorised
physics; component serials and batches are kept per unit for labels and registry seeding.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

import numpy as np

from simulators.catalogue import COMPONENT_TYPES, MODELS, SITES, Batch, ModelSpec, SiteSpec, build_catalogue
from simulators.degradation import DEFECTIVE_HAZARD_FACTOR, ONSET_LOOKBACK_DAYS, PROCESSES
from simulators.rng import BUILD_PURPOSE, FloatArray, IntArray, KeyArray, unit_generator, unit_keys
from simulators.traffic import SECONDS_PER_DAY

__all__ = ["Fleet", "InstalledComponent", "build_fleet"]

SECONDS_PER_YEAR = 365.25 * SECONDS_PER_DAY
# Statutory maintenance (TSG T5002) every 15 days: each unit has its own day in that cycle, in working hours.
MAINTENANCE_CYCLE_DAYS = 15
MAINTENANCE_HOURS_LOCAL = (9.0, 15.0)
# Ride comfort of a healthy car, m/s^2 RMS while running (x, y lateral; z vertical is larger).
_VIB_BASE = (0.06, 0.06, 0.12)
# A gateway reports this many trips per day on average over its life (sets plausible counters at start).
_LIFETIME_TRIPS_PER_DAY = 300.0
# Energy per trip of a mid-size traction lift, kWh (sets a plausible meter reading at start).
_KWH_PER_TRIP = 0.05


@dataclass(frozen=True)
class InstalledComponent:
    """One component in one unit: its serial and the batch it came from."""

    component_type: str
    serial: str
    batch: Batch


@dataclass
class Fleet:
    """Per-unit static parameters as arrays, plus the records behind them."""

    seed: int
    unit_ids: list[str]
    keys: KeyArray
    models: list[ModelSpec]
    sites: list[SiteSpec]
    installed_on: list[date]
    components: list[dict[str, InstalledComponent]]
    floors: IntArray
    floor_height_m: FloatArray
    rated_speed: FloatArray
    accel: FloatArray
    rated_current: FloatArray
    standby_w: FloatArray
    door_open_s: FloatArray
    door_close_s: FloatArray
    balance_pct: FloatArray
    busyness: FloatArray
    utc_offset_s: FloatArray
    ambient_c: FloatArray
    vib_base: FloatArray  # (units, 3)
    sample_phase: FloatArray  # fraction of the sample period each unit's clock is offset by
    maintenance_phase_s: FloatArray
    trips0: IntArray
    energy0: FloatArray
    onset: FloatArray  # (processes, units) epoch seconds, +inf when no wear
    ttf_s: FloatArray  # (processes, units)
    repair_s: FloatArray  # (processes, units)

    @property
    def size(self) -> int:
        """Number of units."""
        return len(self.unit_ids)


def _draw_onset(rng: np.random.Generator, *, rate_per_year: float, start_s: float, ttf_s: float) -> float:
    """Onset time of one process, or +inf when none is under way or due (an episode already over is dropped)."""
    onset = start_s - ONSET_LOOKBACK_DAYS * SECONDS_PER_DAY + rng.exponential(1.0 / rate_per_year) * SECONDS_PER_YEAR
    return onset if onset + ttf_s > start_s else float("inf")


def build_fleet(*, seed: int, units: int, start: datetime, id_prefix: str = "sim", hazard_scale: float = 1.0) -> Fleet:
    """The first `units` units of the fleet defined by `seed`, as seen at `start`."""
    catalogue = build_catalogue(seed)
    start_s = start.timestamp()
    indices = range(units)
    cols: dict[str, list[float]] = {name: [] for name in ("floor_h", "busy", "ambient", "balance", "phase", "maint")}
    vib, onsets, ttfs, repairs = [], [], [], []
    models, sites, installed_on, components, unit_ids, trips0 = [], [], [], [], [], []
    for k in indices:
        rng = unit_generator(seed, k, BUILD_PURPOSE)
        unit_id = f"{id_prefix}-{k:05d}"
        models.append(MODELS[int(rng.integers(len(MODELS)))])
        sites.append(SITES[int(rng.integers(len(SITES)))])
        parts = {}
        for component_type in COMPONENT_TYPES:
            lots = catalogue.batches[component_type]
            batch = lots[int(rng.integers(len(lots)))]
            parts[component_type] = InstalledComponent(component_type, f"{id_prefix}-{batch.lot}-{k:05d}", batch)
        newest_lot = max(part.batch.produced_on for part in parts.values())
        installed = min(newest_lot + timedelta(days=int(rng.integers(30, 400))), start.date() - timedelta(days=1))
        unit_ids.append(unit_id)
        components.append(parts)
        installed_on.append(installed)
        trips0.append(int((start.date() - installed).days * _LIFETIME_TRIPS_PER_DAY * rng.uniform(0.5, 1.5)))
        cols["floor_h"].append(rng.uniform(2.9, 3.6))
        cols["busy"].append(rng.lognormal(0.0, 0.3))
        cols["ambient"].append(rng.uniform(18.0, 28.0))
        cols["balance"].append(rng.uniform(42.0, 50.0))
        cols["phase"].append(rng.random())
        visit_day = int(rng.integers(MAINTENANCE_CYCLE_DAYS))
        cols["maint"].append(visit_day * SECONDS_PER_DAY + rng.uniform(*MAINTENANCE_HOURS_LOCAL) * 3600.0)
        vib.append([base * rng.lognormal(0.0, 0.2) for base in _VIB_BASE])
        unit_onsets, unit_ttfs, unit_repairs = [], [], []
        for process in PROCESSES:
            defective = parts[process.component_type].batch.defective
            rate = process.onset_per_year * hazard_scale * (DEFECTIVE_HAZARD_FACTOR if defective else 1.0)
            ttf = rng.uniform(*process.ttf_days) * SECONDS_PER_DAY
            unit_onsets.append(_draw_onset(rng, rate_per_year=rate, start_s=start_s, ttf_s=ttf))
            unit_ttfs.append(ttf)
            unit_repairs.append(rng.uniform(*process.repair_hours) * 3600.0)
        onsets.append(unit_onsets)
        ttfs.append(unit_ttfs)
        repairs.append(unit_repairs)

    def model_param(name: str) -> FloatArray:
        return np.array([getattr(m, name) for m in models], dtype=np.float64)

    return Fleet(
        seed=seed,
        unit_ids=unit_ids,
        keys=unit_keys(seed, indices),
        models=models,
        sites=sites,
        installed_on=installed_on,
        components=components,
        floors=np.array([s.floors for s in sites], dtype=np.int64),
        floor_height_m=np.array(cols["floor_h"]),
        rated_speed=model_param("rated_speed_mps"),
        accel=model_param("accel_mps2"),
        rated_current=model_param("rated_current_a"),
        standby_w=model_param("standby_w"),
        door_open_s=model_param("door_open_s"),
        door_close_s=model_param("door_close_s"),
        balance_pct=np.array(cols["balance"]),
        busyness=np.array(cols["busy"]),
        utc_offset_s=np.array([s.utc_offset_h * 3600.0 for s in sites]),
        ambient_c=np.array(cols["ambient"]),
        vib_base=np.array(vib, dtype=np.float64).reshape(units, 3),
        sample_phase=np.array(cols["phase"]),
        maintenance_phase_s=np.array(cols["maint"]),
        trips0=np.array(trips0, dtype=np.int64),
        energy0=np.array(trips0, dtype=np.float64) * _KWH_PER_TRIP,
        onset=np.array(onsets, dtype=np.float64).reshape(units, len(PROCESSES)).T.copy(),
        ttf_s=np.array(ttfs, dtype=np.float64).reshape(units, len(PROCESSES)).T.copy(),
        repair_s=np.array(repairs, dtype=np.float64).reshape(units, len(PROCESSES)).T.copy(),
    )
