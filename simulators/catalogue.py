"""What a simulated fleet is made of: manufacturers, models, suppliers, component batches, sites.

The catalogue depends on the seed only (never on the fleet size), so unit k picks the same model and the same
batches whatever N is. Some batches are defective: their components degrade several times as often, so
field failures cluster by batch as they do in real fleets.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

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
    """A product line with the physical parameters the simulation needs."""

    manufacturer: str
    name: str
    capacity_kg: int
    rated_speed_mps: float
    drive_type: str
    accel_mps2: float
    rated_current_a: float
    standby_w: float
    door_open_s: float
    door_close_s: float


@dataclass(frozen=True)
class SiteSpec:
    """A site: a building with its floor count and its local time offset (traffic follows local time)."""

    name: str
    address: str
    city: str
    floors: int
    utc_offset_h: int


MANUFACTURERS = ("Zenith Lifts", "Kestrel Elevator", "Huaxia Elevator Works")
SUPPLIERS = ("Ferro Drives", "Lintel Door Systems", "Orbis Bearings", "Strand Ropes", "Brakon")

MODELS: tuple[ModelSpec, ...] = (
    ModelSpec("Zenith Lifts", "Z-MRL 630", 630, 1.0, "mrl", 0.6, 18.0, 180.0, 2.4, 2.9),
    ModelSpec("Zenith Lifts", "Z-Tower 1600", 1600, 4.0, "traction_gearless", 1.0, 62.0, 420.0, 2.8, 3.2),
    ModelSpec("Kestrel Elevator", "K-Res 800", 800, 1.6, "traction_gearless", 0.8, 26.0, 220.0, 2.5, 3.0),
    ModelSpec("Kestrel Elevator", "K-Hydro 1000", 1000, 0.63, "hydraulic", 0.5, 45.0, 160.0, 2.6, 3.1),
    ModelSpec("Huaxia Elevator Works", "HX-2500", 1050, 2.5, "traction_gearless", 0.9, 38.0, 300.0, 2.5, 3.0),
    ModelSpec("Huaxia Elevator Works", "HX-G 1350", 1350, 1.75, "traction_geared", 0.7, 48.0, 350.0, 2.7, 3.3),
)

SITES: tuple[SiteSpec, ...] = (
    SiteSpec("Riverside Towers", "1 Quay Road", "Shanghai", 32, 8),
    SiteSpec("Harbour Plaza", "88 Harbour Street", "Shenzhen", 24, 8),
    SiteSpec("Maple Court", "12 Maple Avenue", "Hangzhou", 8, 8),
    SiteSpec("North Station Offices", "3 Station Square", "Beijing", 18, 8),
    SiteSpec("Lindenhof", "Lindenstrasse 40", "Munich", 6, 1),
    SiteSpec("Canal House", "Keizersgracht 101", "Amsterdam", 5, 1),
    SiteSpec("Elm Street Clinic", "400 Elm Street", "Chicago", 12, -6),
    SiteSpec("Bayview Residences", "25 Bay Drive", "San Francisco", 16, -8),
)

# Lots per component type: enough for batch clustering to be visible in a fleet of a few hundred units.
LOTS_PER_TYPE = 6
# Roughly one lot in six is bad: defects are rare per lot but common across a fleet's lots.
DEFECTIVE_LOT_PROBABILITY = 0.17
# Lots were produced over the five years before the simulated fleet was installed.
LOT_EPOCH = date(2019, 1, 1)
LOT_SPAN_DAYS = 5 * 365


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
