"""The simulated fleet: each unit's building, model, age, installed components and hidden degradation schedule.

Everything about unit k is drawn from unit k's own generator, so a fleet of 10 and a fleet of 10,000 agree
on their first 10 units. A unit's building comes first; its age follows its region's installed base; its
model is one that fits the building's height, type and the year of installation. Per-unit parameters are
kept as arrays (one entry per unit) for the vectorised physics; serials and batches are kept per unit for
labels and registry seeding. Figures and their sources: simulators/CALIBRATION.md.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import numpy as np
import numpy.typing as npt

from simulators.catalogue import (
    COMPONENT_TYPES,
    SITES,
    Batch,
    Catalogue,
    ModelSpec,
    SiteSpec,
    build_catalogue,
    fitting_models,
)  # fmt: skip
from simulators.degradation import (
    DEFECTIVE_HAZARD_FACTOR,
    FAIL_FACTOR_RANGE,
    FAIL_FACTOR_SIGMA,
    PROCESSES,
    age_factor,
)  # fmt: skip
from simulators.incidents import PARTS_WAIT_MAX_DAYS, PARTS_WAIT_MEDIAN_DAYS, PARTS_WAIT_PROBABILITY, PARTS_WAIT_SIGMA
from simulators.physics import LEVELLING_S
from simulators.rng import BUILD_PURPOSE, FloatArray, IntArray, KeyArray, site_keys, unit_generator, unit_keys
from simulators.traffic import BUILDING_INDEX, BUILDINGS, REGIONS, SECONDS_PER_DAY

__all__ = ["Fleet", "InstalledComponent", "build_fleet"]

SECONDS_PER_YEAR = 365.25 * SECONDS_PER_DAY
# Statutory maintenance (TSG T5002) every 15 days: each unit has its own day in that cycle, in working hours.
MAINTENANCE_CYCLE_DAYS = 15
MAINTENANCE_HOURS_LOCAL = (9.0, 15.0)
# Installed-base age: China's fleet grew ~12 %/year (so ages fall off exponentially); Europe's and North
# America's are old and spread (about half over 25 years).
CN_GROWTH_PER_YEAR = 0.12
MAX_AGE_YEARS = {"cn": 30.0, "eu": 55.0, "us": 55.0}
# Share of the installed base by building type: housing dominates (most lifts serve homes).
FLEET_SHARE = {"residential": 0.62, "office": 0.18, "hospital": 0.06, "retail": 0.07, "car_park": 0.07}
# Older than this, a lift was modernised (new controller and doors) with this probability.
MODERNISE_AFTER_YEARS = 20.0
MODERNISED_SHARE = 0.4
# Lifts of one group do not share the traffic evenly (lognormal sigma).
GROUP_SPREAD = 0.25
# About one journey in two needs an empty fetch trip first (simulators.cycles); used for usage estimates only.
TRIPS_PER_JOURNEY = 1.5
# Mean dwell of a cycle (simulators.cycles: 2 s minimum, random 0-3 s, boarding) for the busy-time estimate.
MEAN_DWELL_S = 5.0
REFERENCE_TRIPS_PER_DAY = 300.0
# Ride comfort of a healthy car, m/s^2 RMS while running (x, y lateral; z vertical); geared machines are rougher.
_VIB_BASE = (0.009, 0.009, 0.013)
_GEARED_VIBRATION = 1.2
# Machine rooms run warmer than the outdoor mean (drive losses), by a unit-specific amount.
MACHINE_ROOM_EXTRA_C = (0.0, 5.0)
# Buildings with a standby generator (hospitals, towers) keep lifts running on emergency power.
GENERATOR_FLOORS = 25
# Buildings of this height have a firefighters lift (EN 81-72) and drill it.
FIREFIGHTER_FLOORS = 8


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
    site_keys: KeyArray
    models: list[ModelSpec]
    sites: list[SiteSpec]
    installed_on: list[date]
    modernised_on: list[date | None]
    components: list[dict[str, InstalledComponent]]
    floors: IntArray
    floor_height_m: FloatArray
    building: IntArray
    region: IntArray
    journeys_per_day: FloatArray
    capacity_kg: FloatArray
    rated_speed: FloatArray
    accel: FloatArray
    rated_current: FloatArray
    standby_w: FloatArray
    running_mwh_per_kg_m: FloatArray
    hydraulic: npt.NDArray[np.bool_]
    rescue_device: npt.NDArray[np.bool_]
    door_open_s: FloatArray
    door_close_s: FloatArray
    cycle_s: FloatArray
    balance_pct: FloatArray
    utc_offset_s: FloatArray
    ambient_c: FloatArray
    season_c: FloatArray
    vib_base: FloatArray  # (units, 3)
    sample_phase: FloatArray  # fraction of the sample period each unit's clock is offset by
    maintenance_phase_s: FloatArray
    detect_skill: FloatArray  # how well this unit's crew finds wear (0..1)
    age_years: FloatArray
    hazard_age: FloatArray  # age multiplier of fault hazards (years since modernisation when modernised)
    usage_factor: FloatArray
    masks: dict[str, npt.NDArray[np.bool_]]
    trips0: IntArray
    energy0: FloatArray
    onset: FloatArray  # (processes, units) epoch seconds, +inf when no wear
    ttf_s: FloatArray  # (processes, units) nominal
    fail_factor: FloatArray  # (processes, units): actual failure at onset + ttf * fail_factor
    repair_s: FloatArray  # (processes, units)

    @property
    def size(self) -> int:
        """Number of units."""
        return len(self.unit_ids)


def _age(rng: np.random.Generator, region: str) -> float:
    """Years since installation, from the region's installed-base profile."""
    oldest = MAX_AGE_YEARS[region]
    if region == "cn":
        # Truncated exponential by inversion: newer units outnumber older ones by the fleet's growth.
        tail = np.exp(-CN_GROWTH_PER_YEAR * oldest)
        return float(-np.log(1.0 - rng.random() * (1.0 - tail)) / CN_GROWTH_PER_YEAR)
    return float(rng.uniform(0.0, oldest))


def _draw_onset(
    rng: np.random.Generator, *, rate_per_year: float, start_s: float, ttf_s: float, fail_s: float
) -> float:
    """Onset of one process, or +inf when none is under way or due (an episode already over is dropped)."""
    wait = rng.exponential()  # drawn even at rate 0, so a unit's later draws do not depend on its rates
    if rate_per_year <= 0:
        return float("inf")
    onset = start_s - ttf_s + wait / rate_per_year * SECONDS_PER_YEAR
    return onset if onset + fail_s > start_s else float("inf")


def _site_weights() -> FloatArray:
    """Probability of each site: the building type's fleet share, split by the site's lift count."""
    lifts = np.array([site.lifts for site in SITES], dtype=np.float64)
    kinds = [site.building for site in SITES]
    per_kind = {kind: sum(lifts[i] for i, k in enumerate(kinds) if k == kind) for kind in FLEET_SHARE}
    return np.array([FLEET_SHARE[k] * lifts[i] / per_kind[k] for i, k in enumerate(kinds)])


_SITE_CUMULATIVE = np.cumsum(_site_weights())


@dataclass
class _Rows:
    """What build_fleet draws per unit, as lists (turned into the Fleet's arrays at the end)."""

    unit_ids: list[str] = field(default_factory=list)
    site_index: list[int] = field(default_factory=list)
    models: list[ModelSpec] = field(default_factory=list)
    sites: list[SiteSpec] = field(default_factory=list)
    installed_on: list[date] = field(default_factory=list)
    modernised_on: list[date | None] = field(default_factory=list)
    components: list[dict[str, InstalledComponent]] = field(default_factory=list)
    cols: dict[str, list[float]] = field(default_factory=dict)
    vib: list[list[float]] = field(default_factory=list)
    process: dict[str, list[list[float]]] = field(default_factory=dict)


def _draw_unit(
    rows: _Rows, rng: np.random.Generator, catalogue: Catalogue, *, k: int, id_prefix: str, today: date
) -> None:
    """Site, age, model and build of unit k (appended to `rows`)."""
    rows.site_index.append(min(int(np.searchsorted(_SITE_CUMULATIVE, rng.random(), side="right")), len(SITES) - 1))
    site = SITES[rows.site_index[-1]]
    age = _age(rng, site.region)
    installed = today - timedelta(days=max(1, int(age * 365.25)))
    fitting = fitting_models(site, installed.year)
    rows.models.append(fitting[int(rng.integers(len(fitting)))])
    modernised, hazard_years = None, age
    if age > MODERNISE_AFTER_YEARS and rng.random() < MODERNISED_SHARE:
        since = float(rng.uniform(1.0, age - MODERNISE_AFTER_YEARS + 1.0))
        modernised, hazard_years = today - timedelta(days=int(since * 365.25)), since
    parts = {}
    for component_type in COMPONENT_TYPES:
        lots = catalogue.batches[component_type]
        batch = lots[int(rng.integers(len(lots)))]
        parts[component_type] = InstalledComponent(component_type, f"{id_prefix}-{batch.lot}-{k:05d}", batch)
    rows.unit_ids.append(f"{id_prefix}-{k:05d}")
    rows.sites.append(site)
    rows.components.append(parts)
    rows.installed_on.append(installed)
    rows.modernised_on.append(modernised)
    building = BUILDINGS[BUILDING_INDEX[site.building]]
    per_lift = site.population * building.journeys_per_capita / site.lifts
    for name, value in (
        ("journeys", per_lift * rng.lognormal(0.0, GROUP_SPREAD)),
        ("floor_h", rng.uniform(2.9, 3.6)),
        ("ambient", site.mean_c + rng.uniform(*MACHINE_ROOM_EXTRA_C)),
        ("balance", rng.uniform(40.0, 50.0)),
        ("phase", rng.random()),
        ("maint", int(rng.integers(MAINTENANCE_CYCLE_DAYS)) * SECONDS_PER_DAY
         + rng.uniform(*MAINTENANCE_HOURS_LOCAL) * 3600.0),
        ("skill", rng.uniform(0.5, 1.0)),
        ("age", age),
        ("hazard_age", hazard_years),
    ):  # fmt: skip
        rows.cols.setdefault(name, []).append(float(value))
    rough = _GEARED_VIBRATION if rows.models[-1].drive_type == "traction_geared" else 1.0
    rows.vib.append([base * rough * rng.lognormal(0.0, 0.15) for base in _VIB_BASE])


def _draw_wear(rows: _Rows, rng: np.random.Generator, *, start_s: float, hazard_scale: float) -> None:
    """The hidden degradation schedule of the unit just drawn."""
    parts, hazard = rows.components[-1], float(age_factor(np.array(rows.cols["hazard_age"][-1])))
    drawn: dict[str, list[float]] = {"onset": [], "ttf": [], "fail": [], "repair": []}
    for process in PROCESSES:
        defective = parts[process.component_type].batch.defective
        rate = process.onset_per_year * hazard_scale * hazard * (DEFECTIVE_HAZARD_FACTOR if defective else 1.0)
        ttf = rng.uniform(*process.ttf_days) * SECONDS_PER_DAY
        fail = min(max(rng.lognormal(0.0, FAIL_FACTOR_SIGMA), FAIL_FACTOR_RANGE[0]), FAIL_FACTOR_RANGE[1])
        onset = _draw_onset(rng, rate_per_year=rate, start_s=start_s, ttf_s=ttf, fail_s=ttf * fail)
        for name, value in (("onset", onset), ("ttf", ttf), ("fail", fail)):
            drawn[name].append(value)
        repair_h = rng.uniform(*process.repair_hours)
        if rng.random() < PARTS_WAIT_PROBABILITY:
            repair_h += min(PARTS_WAIT_MEDIAN_DAYS * rng.lognormal(0.0, PARTS_WAIT_SIGMA), PARTS_WAIT_MAX_DAYS) * 24.0
        drawn["repair"].append(repair_h * 3600.0)
    for name, values in drawn.items():
        rows.process.setdefault(name, []).append(values)


def build_fleet(*, seed: int, units: int, start: datetime, id_prefix: str = "sim", hazard_scale: float = 1.0) -> Fleet:
    """The first `units` units of the fleet defined by `seed`, as seen at `start`."""
    catalogue = build_catalogue(seed)
    rows = _Rows()
    for k in range(units):
        rng = unit_generator(seed, k, BUILD_PURPOSE)
        _draw_unit(rows, rng, catalogue, k=k, id_prefix=id_prefix, today=start.date())
        _draw_wear(rows, rng, start_s=start.timestamp(), hazard_scale=hazard_scale)
    return _assemble(seed, rows)


def _per_process(rows: list[list[float]], units: int) -> FloatArray:
    return np.array(rows, dtype=np.float64).reshape(units, len(PROCESSES)).T.copy()


def _assemble(seed: int, rows: _Rows) -> Fleet:
    """The Fleet arrays from the per-unit lists build_fleet drew."""
    models, sites, cols, units = rows.models, rows.sites, rows.cols, len(rows.unit_ids)

    def model_param(name: str) -> FloatArray:
        return np.array([getattr(m, name) for m in models], dtype=np.float64)

    floors = np.array([s.floors for s in sites], dtype=np.int64)
    floor_h = np.array(cols["floor_h"])
    speed, accel = model_param("rated_speed_mps"), model_param("accel_mps2")
    journeys = np.array(cols["journeys"])
    mean_trip_m = floors / 3.0 * floor_h
    trip_s = mean_trip_m / speed + speed / accel + LEVELLING_S
    door_s = model_param("door_open_s") + model_param("door_close_s")
    age = np.array(cols["age"])
    trips_per_day = journeys * TRIPS_PER_JOURNEY
    age_days = age * 365.25
    kwh_per_trip = model_param("running_mwh_per_kg_m") * model_param("capacity_kg") * mean_trip_m * 1e-6
    standby = model_param("standby_w")
    masks = {
        "generator": np.array([s.building == "hospital" or s.floors >= GENERATOR_FLOORS for s in sites]),
        "firefighter": floors >= FIREFIGHTER_FLOORS,
        "seismic": np.array([s.seismic for s in sites]),
    }
    masks["no_generator"] = ~masks["generator"]
    return Fleet(
        seed=seed,
        unit_ids=rows.unit_ids,
        keys=unit_keys(seed, range(units)),
        site_keys=site_keys(seed, rows.site_index),
        models=models,
        sites=sites,
        installed_on=rows.installed_on,
        modernised_on=rows.modernised_on,
        components=rows.components,
        floors=floors,
        floor_height_m=floor_h,
        building=np.array([BUILDING_INDEX[s.building] for s in sites], dtype=np.int64),
        region=np.array([REGIONS.index(s.region) for s in sites], dtype=np.int64),
        journeys_per_day=journeys,
        capacity_kg=model_param("capacity_kg"),
        rated_speed=speed,
        accel=accel,
        rated_current=model_param("rated_current_a"),
        standby_w=standby,
        running_mwh_per_kg_m=model_param("running_mwh_per_kg_m"),
        hydraulic=np.array([m.drive_type == "hydraulic" for m in models], dtype=bool),
        rescue_device=np.array([m.rescue_device for m in models], dtype=bool),
        door_open_s=model_param("door_open_s"),
        door_close_s=model_param("door_close_s"),
        cycle_s=TRIPS_PER_JOURNEY * (trip_s + door_s + MEAN_DWELL_S),
        balance_pct=np.array(cols["balance"]),
        utc_offset_s=np.array([s.utc_offset_h * 3600.0 for s in sites]),
        ambient_c=np.array(cols["ambient"]),
        season_c=np.array([s.season_c for s in sites]),
        vib_base=np.array(rows.vib, dtype=np.float64).reshape(units, 3),
        sample_phase=np.array(cols["phase"]),
        maintenance_phase_s=np.array(cols["maint"]),
        detect_skill=np.array(cols["skill"]),
        age_years=age,
        hazard_age=age_factor(np.array(cols["hazard_age"])),
        usage_factor=np.sqrt(trips_per_day / REFERENCE_TRIPS_PER_DAY),
        masks=masks,
        trips0=(age_days * trips_per_day).astype(np.int64),
        energy0=age_days * (standby * 24.0 / 1000.0 + trips_per_day * kwh_per_trip),
        onset=_per_process(rows.process["onset"], units),
        ttf_s=_per_process(rows.process["ttf"], units),
        fail_factor=_per_process(rows.process["fail"], units),
        repair_s=_per_process(rows.process["repair"], units),
    )
