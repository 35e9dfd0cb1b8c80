"""What a simulated fleet is made of: manufacturers, models, suppliers, component batches, buildings.

The catalogue depends on the seed only (never on the fleet size), so unit k picks the same model and the same
batches whatever N is. Some batches are defective: their components degrade several times as often, so
field failures cluster by batch as they do in real fleets. Figures and their sources: simulators/CALIBRATION.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache

import numpy as np

__all__ = [
    "COMPONENT_TYPES",
    "MANUFACTURERS",
    "MODELS",
    "SITES",
    "SUPPLIERS",
    "Batch",
    "Catalogue",
    "ModelSpec",
    "SiteSpec",
    "build_catalogue",
    "fitting_models",
]

# The codes of models/migrations/0002_registry.sql, each with the short tag used in lots and serials.
COMPONENT_TYPES: dict[str, str] = {
    "traction_machine": "TM",
    "brake": "BR",
    "door_operator": "DO",
    "door_rollers": "DR",
    "controller": "CT",
    "drive": "DV",
    "ropes": "RP",
    "governor": "GV",
    "bearing": "BG",
    "safety_gear": "SG",
}


@dataclass(frozen=True)
class ModelSpec:
    """A product line: physics, energy figures (VDI 4707-1) and where it fits (floors, years, buildings)."""

    manufacturer: str
    name: str
    capacity_kg: int
    rated_speed_mps: float
    drive_type: str
    accel_mps2: float
    rated_current_a: float
    standby_w: float
    # Specific running energy, mWh per kg of rated load per m of travel (VDI 4707-1 running-energy classes).
    running_mwh_per_kg_m: float
    door_open_s: float
    door_close_s: float
    floors: tuple[int, int]
    sold: tuple[int, int]
    buildings: tuple[str, ...]
    # An automatic rescue device brings the car to a floor on a power cut: nobody stays trapped.
    rescue_device: bool


@dataclass(frozen=True)
class SiteSpec:
    """A building: type, floors, local time offset, climate, and the population its lifts serve."""

    name: str
    address: str
    city: str
    floors: int
    utc_offset_h: int
    building: str
    # Residents, workers, beds, daily visitors or parking spaces, by building type (simulators.traffic).
    population: int
    lifts: int
    region: str
    # Seasonal machine-room swing (degC, half peak-to-peak) and the yearly mean.
    season_c: float
    mean_c: float
    seismic: bool = False


MANUFACTURERS = ("Zenith Lifts", "Kestrel Elevator", "Huaxia Elevator Works")
SUPPLIERS = ("Ferro Drives", "Lintel Door Systems", "Orbis Bearings", "Strand Ropes", "Brakon")

_HOMES, _WORK, _ANY = (
    ("residential",),
    ("office", "retail", "car_park"),
    ("residential", "office", "retail", "car_park"),
)
MODELS: tuple[ModelSpec, ...] = (
    ModelSpec("Zenith Lifts", "Z-Eco 450", 450, 1.0, "mrl", 0.6, 12.0, 35.0, 0.50, 1.9, 2.6, (2, 8), (2016, 2099),
              _HOMES, True),
    ModelSpec("Zenith Lifts", "Z-MRL 630", 630, 1.0, "mrl", 0.6, 18.0, 60.0, 0.70, 2.0, 2.7, (2, 12), (2008, 2099),
              _ANY, True),
    ModelSpec("Zenith Lifts", "Z-Tower 1600", 1600, 4.0, "traction_gearless", 1.0, 62.0, 180.0, 0.65, 1.8, 2.5,
              (25, 60), (2005, 2099), ("office", "residential"), True),
    ModelSpec("Kestrel Elevator", "K-Res 800", 800, 1.6, "traction_gearless", 0.8, 26.0, 90.0, 0.90, 2.0, 2.8,
              (6, 24), (2004, 2099), _ANY, False),
    ModelSpec("Kestrel Elevator", "K-Hydro 1000", 1000, 0.63, "hydraulic", 0.5, 45.0, 250.0, 4.50, 2.6, 3.2,
              (2, 6), (1980, 2012), ("residential", "retail", "car_park", "hospital"), False),
    ModelSpec("Kestrel Elevator", "K-Relay 1000", 1000, 1.0, "traction_geared", 0.5, 40.0, 600.0, 3.40, 3.0, 3.6,
              (4, 14), (1970, 1998), _ANY, False),
    ModelSpec("Huaxia Elevator Works", "HX-2500", 1050, 2.5, "traction_gearless", 0.9, 38.0, 150.0, 0.80, 1.9, 2.6,
              (12, 40), (2008, 2099), _ANY, True),
    ModelSpec("Huaxia Elevator Works", "HX-G 1350", 1350, 1.75, "traction_geared", 0.7, 48.0, 350.0, 2.20, 2.6, 3.2,
              (6, 26), (1988, 2012), _ANY, False),
    ModelSpec("Huaxia Elevator Works", "HX-Bed 1600", 1600, 1.6, "traction_gearless", 0.7, 55.0, 120.0, 1.10, 3.0,
              3.8, (3, 24), (2000, 2099), ("hospital",), True),
)  # fmt: skip

SITES: tuple[SiteSpec, ...] = (
    SiteSpec("Riverside Towers", "1 Quay Road", "Shanghai", 32, 8, "residential", 560, 3, "cn", 8.0, 22.0),
    SiteSpec("Golden Bay Apartments", "9 Bay Road", "Shenzhen", 33, 8, "residential", 800, 4, "cn", 6.0, 26.0),
    SiteSpec("Suzhou Garden Residences", "18 Garden Lane", "Suzhou", 18, 8, "residential", 220, 2, "cn", 9.0, 20.0),
    SiteSpec("Maple Court", "12 Maple Avenue", "Hangzhou", 8, 8, "residential", 45, 1, "cn", 9.0, 21.0),
    SiteSpec("Lindenhof", "Lindenstrasse 40", "Munich", 5, 1, "residential", 12, 1, "eu", 7.0, 16.0),
    SiteSpec("Canal House", "Keizersgracht 101", "Amsterdam", 5, 1, "residential", 20, 1, "eu", 6.0, 16.0),
    SiteSpec("Ostend House", "Zeedijk 7", "Ostend", 4, 1, "residential", 8, 1, "eu", 6.0, 15.0),
    SiteSpec("Greenwich Court", "10 Park Row", "London", 10, 0, "residential", 90, 1, "eu", 6.0, 17.0),
    SiteSpec("Bayview Residences", "25 Bay Drive", "San Francisco", 16, -8, "residential", 240, 2, "us", 3.0, 19.0,
             seismic=True),
    SiteSpec("Harbour Plaza", "88 Harbour Street", "Shenzhen", 24, 8, "office", 1500, 6, "cn", 6.0, 26.0),
    SiteSpec("North Station Offices", "3 Station Square", "Beijing", 18, 8, "office", 700, 4, "cn", 11.0, 18.0),
    SiteSpec("Maison Verte", "4 Rue Verte", "Lyon", 4, 1, "office", 70, 1, "eu", 8.0, 17.0),
    SiteSpec("Hafen Buero", "Kai 12", "Hamburg", 7, 1, "office", 260, 2, "eu", 6.0, 15.0),
    SiteSpec("Cedar Tower", "300 Cedar Street", "Toronto", 30, -5, "office", 2000, 6, "us", 10.0, 16.0),
    SiteSpec("Elm Street Clinic", "400 Elm Street", "Chicago", 6, -6, "hospital", 40, 2, "us", 10.0, 18.0),
    SiteSpec("Pudong General Hospital", "200 Health Road", "Shanghai", 14, 8, "hospital", 500, 6, "cn", 8.0, 22.0),
    SiteSpec("Westgate Mall", "1 Westgate", "Manchester", 4, 0, "retail", 9000, 3, "eu", 6.0, 17.0),
    SiteSpec("Station Car Park", "2 Rail Yard", "Nanjing", 6, 8, "car_park", 500, 2, "cn", 10.0, 18.0),
)  # fmt: skip

# Lots per component type: enough for batch clustering to be visible in a fleet of a few hundred units.
LOTS_PER_TYPE = 6
# Roughly one lot in six is bad: defects are rare per lot but common across a fleet's lots.
DEFECTIVE_LOT_PROBABILITY = 0.17
# Lots span the years the fleet's components were made (old units carry replaced parts of recent lots).
LOT_EPOCH = date(2012, 1, 1)
LOT_SPAN_DAYS = 12 * 365


@dataclass(frozen=True)
class Batch:
    """A production lot of one component type from one supplier."""

    component_type: str
    supplier: str
    lot: str
    produced_on: date
    defective: bool


@dataclass(frozen=True)
class Catalogue:
    """Every batch of every component type, by type."""

    batches: dict[str, tuple[Batch, ...]]


@cache
def fitting_models(site: SiteSpec, year: int) -> tuple[ModelSpec, ...]:
    """Models a planner would put in this building in that year (floors, drive, building type, era)."""
    fit = tuple(
        m
        for m in MODELS
        if m.floors[0] <= site.floors <= m.floors[1] and m.sold[0] <= year <= m.sold[1] and site.building in m.buildings
    )
    # A building older than every fitting line gets the oldest line that fits its height.
    tall_enough = sorted((m for m in MODELS if m.floors[0] <= site.floors <= m.floors[1]), key=lambda m: m.sold[0])
    return fit or tuple(tall_enough[:1])


def build_catalogue(seed: int) -> Catalogue:
    """The batches under `seed` (a few defective ones per fleet)."""
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(2**31,)))
    batches: dict[str, tuple[Batch, ...]] = {}
    for type_index, (component_type, tag) in enumerate(COMPONENT_TYPES.items()):
        # At least one bad lot per type, so every degradation has a batch cluster to find.
        scores = rng.random(LOTS_PER_TYPE)
        lots = []
        for lot_index in range(LOTS_PER_TYPE):
            produced = LOT_EPOCH + timedelta(days=int(rng.integers(0, LOT_SPAN_DAYS)))
            supplier = SUPPLIERS[(type_index + lot_index) % len(SUPPLIERS)]
            lot = f"{tag}-{produced:%Y%m}-{lot_index + 1:02d}"
            defective = bool(scores[lot_index] < DEFECTIVE_LOT_PROBABILITY or scores[lot_index] == scores.min())
            lots.append(Batch(component_type, supplier, lot, produced, defective))
        batches[component_type] = tuple(lots)
    return Catalogue(batches)
