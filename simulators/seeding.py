"""Seed the registry with the simulated fleet's lifecycle data, through the models functions.

What a real deployment would hold before telemetry arrives: manufacturers and their models, suppliers and
component batches, components with serials, sites, units with their build (which serial in which position),
factory build and test records, installation, and a maintenance contract. Idempotent: what exists (by name,
lot, serial or unit id) is reused or skipped, so a second `liftbrain up --simulate N` seeds only new units.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from typing import Any, TypeVar
from uuid import UUID

from pydantic import BaseModel

from models.access.tenancy import TenantScope
from models.db import Connection, connect
from models.errors import NotFound
from models.lifecycle import ledger
from models.registry import components, organizations, parties, sites, unit_models, units
from models.work import contracts
from simulators.catalogue import MANUFACTURERS, MODELS, SITES, SUPPLIERS, Batch, ModelSpec, SiteSpec
from simulators.fleet import Fleet, build_fleet
from simulators.rng import FACTORY_TEST_PURPOSE, unit_generator
from simulators.runner import RunConfig

__all__ = ["MAINTAINER", "SeedSummary", "seed_fleet", "seed_registry"]

log = logging.getLogger(__name__)

T = TypeVar("T", bound=BaseModel)

MAINTAINER = "Metro Lift Service"
ACTOR = "simulator"
# The seeding acts as the platform itself: it may register and record anything.
PLATFORM = TenantScope.internal()
# Commit every so many units: a large fleet's seeding survives an interruption and keeps transactions short.
UNITS_PER_TRANSACTION = 200
# A unit leaves the factory about two months before it is installed.
FACTORY_LEAD_DAYS = 60
# Factory acceptance limits: brake must hold 125 % of rated load (EN 81-20), insulation above 0.5 MOhm.
BRAKE_HOLD_LIMIT_PCT = 125.0
INSULATION_LIMIT_MOHM = 0.5
# A replacement part goes in about this long after its lot was made.
REPLACEMENT_LEAD_DAYS = 30
# A defective brake lot passes the factory test with a thinner margin: a weak early sign for fleet quality.
DEFECTIVE_BRAKE_MARGIN_PCT = 12.0


@dataclass
class SeedSummary:
    """What seeding created and skipped."""

    created_units: int = 0
    skipped_units: int = 0
    ids: dict[str, UUID] = field(default_factory=dict)


def _get_or_create(get: Callable[[], T], create: Callable[[], T]) -> T:
    """What `get` finds, else what `create` makes."""
    try:
        return get()
    except NotFound:
        return create()


def _organization(conn: Connection, name: str, kind: str) -> UUID:
    return _get_or_create(
        lambda: organizations.get_organization_by_name(conn, name=name),
        lambda: organizations.create_organization(conn, name=name, kind=kind),
    ).id


def _manufacturer(conn: Connection, name: str) -> UUID:
    org = _organization(conn, name, "manufacturer")
    return _get_or_create(
        lambda: parties.MANUFACTURERS.find(conn, {"name": name}),
        lambda: parties.MANUFACTURERS.create(conn, {"name": name, "organization_id": org}),
    ).id


def _model(conn: Connection, spec: ModelSpec, maker: UUID) -> UUID:
    return _get_or_create(
        lambda: unit_models.UNIT_MODELS.find(conn, {"manufacturer_id": maker, "name": spec.name}),
        lambda: unit_models.UNIT_MODELS.create(conn, {
            "manufacturer_id": maker, "name": spec.name, "capacity_kg": spec.capacity_kg,
            "rated_speed_mps": spec.rated_speed_mps, "drive_type": spec.drive_type,
        }),
    ).id  # fmt: skip


def _supplier(conn: Connection, name: str) -> UUID:
    org = _organization(conn, name, "supplier")
    return _get_or_create(
        lambda: parties.SUPPLIERS.find(conn, {"name": name}),
        lambda: parties.SUPPLIERS.create(conn, {"name": name, "organization_id": org}),
    ).id


def _site(conn: Connection, site: SiteSpec) -> UUID:
    return _get_or_create(
        lambda: sites.SITES.find(conn, {"name": site.name, "city": site.city}),
        lambda: sites.SITES.create(conn, {"name": site.name, "address": site.address, "city": site.city}),
    ).id


def _batch(conn: Connection, batch: Batch, supplier: UUID) -> UUID:
    return _get_or_create(
        lambda: components.get_batch_by_lot(conn, supplier_id=supplier, lot=batch.lot),
        lambda: components.create_batch(
            conn, supplier_id=supplier, component_type=batch.component_type, lot=batch.lot,
            produced_on=batch.produced_on,
        ),
    ).id  # fmt: skip


def _catalogue(conn: Connection, batches: list[Batch]) -> dict[str, UUID]:
    """Ids of the maintainer, manufacturers, models, suppliers, sites and batches, keyed by name or lot."""
    ids = {MAINTAINER: _organization(conn, MAINTAINER, "maintainer")}
    ids.update({name: _manufacturer(conn, name) for name in MANUFACTURERS})
    ids.update({spec.name: _model(conn, spec, ids[spec.manufacturer]) for spec in MODELS})
    ids.update({name: _supplier(conn, name) for name in SUPPLIERS})
    ids.update({site.name: _site(conn, site) for site in SITES})
    ids.update({batch.lot: _batch(conn, batch, ids[batch.supplier]) for batch in batches})
    return ids


def _factory_test(fleet: Fleet, unit: int) -> dict[str, Any]:
    """Factory acceptance results of one unit (a defective brake lot shows a thinner margin)."""
    rng = unit_generator(fleet.seed, unit, FACTORY_TEST_PURPOSE)
    brake_lot = fleet.components[unit]["brake"].batch
    brake_hold = rng.normal(150.0, 6.0) - (DEFECTIVE_BRAKE_MARGIN_PCT if brake_lot.defective else 0.0)
    insulation = rng.lognormal(3.0, 0.4)
    return {
        "brake_hold_pct": round(float(brake_hold), 1),
        "insulation_mohm": round(float(insulation), 1),
        "door_close_s": round(float(fleet.door_close_s[unit] * rng.normal(1.0, 0.03)), 2),
        "ride_vibration_z": round(float(fleet.vib_base[unit, 2]), 3),
        "passed": bool(brake_hold >= BRAKE_HOLD_LIMIT_PCT and insulation >= INSULATION_LIMIT_MOHM),
    }


def _unit(conn: Connection, fleet: Fleet, unit: int, ids: dict[str, UUID]) -> None:
    """Register one unit with its build, factory records, installation and maintenance contract."""
    unit_id, model, site = fleet.unit_ids[unit], fleet.models[unit], fleet.sites[unit]
    installed = datetime.combine(fleet.installed_on[unit], time(10), UTC)
    built = installed - timedelta(days=FACTORY_LEAD_DAYS)
    units.create_unit(
        conn, unit_id=unit_id, serial=f"SN-{unit_id}", registration_code=f"REG-{unit_id}",
        model_id=ids[model.name], site_id=ids[site.name], floors=int(fleet.floors[unit]), building=site.name,
        tenant=PLATFORM,
    )  # fmt: skip
    build = {}
    for component_type, part in fleet.components[unit].items():
        component = components.create_component(
            conn, serial=part.serial, component_type=component_type, batch_id=ids[part.batch.lot]
        )
        # An old unit carries parts of recent lots: they went in as replacements once their lot was made.
        made = datetime.combine(part.batch.produced_on, time(10), UTC) + timedelta(days=REPLACEMENT_LEAD_DAYS)
        fitted = max(built, made)
        units.install_component(
            conn, tenant=PLATFORM, unit_id=unit_id, position=component_type, component_id=component.id, at=fitted
        )
        build[component_type] = {"serial": part.serial, "lot": part.batch.lot}
    for kind, at, data in (
        ("factory_build", built, {"model": model.name, "components": build}),
        ("factory_test", built + timedelta(days=2), _factory_test(fleet, unit)),
        ("installation", installed, {"site": site.name, "floors": int(fleet.floors[unit])}),
    ):
        ledger.append_record(conn, tenant=PLATFORM, unit_id=unit_id, kind=kind, occurred_at=at, data=data, actor=ACTOR)
    contracts.create_contract(
        conn, tenant=PLATFORM, unit_id=unit_id, maintainer_id=ids[MAINTAINER], starts_on=installed.date()
    )


def _exists(conn: Connection, unit_id: str) -> bool:
    try:
        units.get_unit(conn, tenant=PLATFORM, unit_id=unit_id)
    except NotFound:
        return False
    return True


def seed_fleet(conn: Connection, fleet: Fleet) -> SeedSummary:
    """Register the fleet on an autocommit-off connection, committing every UNITS_PER_TRANSACTION units."""
    catalogue = _fleet_batches(fleet)
    summary = SeedSummary()
    with conn.transaction():
        summary.ids = _catalogue(conn, catalogue)
    for first in range(0, fleet.size, UNITS_PER_TRANSACTION):
        with conn.transaction():
            for unit in range(first, min(first + UNITS_PER_TRANSACTION, fleet.size)):
                if _exists(conn, fleet.unit_ids[unit]):
                    summary.skipped_units += 1
                    continue
                _unit(conn, fleet, unit, summary.ids)
                summary.created_units += 1
    return summary


def _fleet_batches(fleet: Fleet) -> list[Batch]:
    """Every batch the fleet's components come from, once each."""
    lots = {part.batch.lot: part.batch for parts in fleet.components for part in parts.values()}
    return list(lots.values())


def seed_registry(dsn: str, config: RunConfig) -> SeedSummary:
    """Seed the registry at `dsn` with the fleet `config` describes."""
    fleet = build_fleet(
        seed=config.seed, units=config.units, start=config.start, id_prefix=config.id_prefix,
        hazard_scale=config.hazard_scale,
    )  # fmt: skip
    with connect(dsn, application_name="liftbrain-simulator") as conn:
        summary = seed_fleet(conn, fleet)
    log.info("registry seeded: %d units created, %d already there", summary.created_units, summary.skipped_units)
    return summary
