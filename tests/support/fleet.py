"""The lifecycle registry the tests share: a small fleet with one organisation of every role, and a key for each."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from uuid import UUID

from models.access import api_keys
from models.access.tenancy import Role, TenantScope
from models.db import Connection
from models.lifecycle import ledger
from models.registry import components, organizations, units
from models.registry.parties import MANUFACTURERS, SUPPLIERS
from models.registry.sites import SITES
from models.registry.unit_models import UNIT_MODELS
from models.work import contracts, crews, work_orders

FLEET_T0 = datetime(2024, 1, 1, tzinfo=UTC)
# The seeding acts as the platform: it may register and record anything.
PLATFORM = TenantScope.internal()


def fleet_roles() -> tuple[Role, ...]:
    """The roles `fleet` seeds a key for on each side (suppliers and regulators get theirs in their own tests)."""
    return (Role.ADMIN, Role.MANUFACTURER, Role.MAINTAINER, Role.CREW, Role.DEVICE)


@dataclass
class Fleet:
    """What `fleet` seeded: unit A1 is Acme's, maintained by Mx with crew X1 on work order wo_a1; B1 is Borealis',
    maintained by My; `keys` maps each role to a key whose organisation is on the A1 side."""

    unit_a1: str = "A1"
    unit_b1: str = "B1"
    keys: dict[Role, str] = field(default_factory=dict)
    other_keys: dict[Role, str] = field(default_factory=dict)
    ids: dict[str, UUID] = field(default_factory=dict)


def seed_fleet(conn: Connection) -> Fleet:
    """Two makes, two maintainers, a crew each, one unit per make, one work order, keys for every role."""
    fleet = Fleet()
    ids = fleet.ids
    platform = organizations.create_organization(conn, name="Platform", kind="platform")
    for side, (make, maintainer) in {"a": ("Acme", "Mx"), "b": ("Borealis", "My")}.items():
        make_org = organizations.create_organization(conn, name=f"{make} Org", kind="manufacturer")
        maint_org = organizations.create_organization(conn, name=maintainer, kind="maintainer")
        maker = MANUFACTURERS.create(conn, {"name": make, "organization_id": make_org.id})
        model = UNIT_MODELS.create(
            conn,
            {
                "manufacturer_id": maker.id,
                "name": f"{make} 1000",
                "capacity_kg": 1000,
                "rated_speed_mps": 1.75,
                "drive_type": "traction_gearless",
            },
        )
        site = SITES.create(conn, {"name": f"{make} Tower", "address": f"{side} street 1", "city": "Shanghai"})
        unit_id = side.upper() + "1"
        units.create_unit(
            conn,
            unit_id=unit_id,
            serial=f"SN-{unit_id}",
            registration_code=f"REG-{unit_id}",
            model_id=model.id,
            site_id=site.id,
            floors=12,
            building="North",
            tenant=PLATFORM,
        )
        contracts.create_contract(
            conn, tenant=PLATFORM, unit_id=unit_id, maintainer_id=maint_org.id, starts_on=date(2024, 1, 1)
        )
        crew = crews.create_crew(conn, tenant=PLATFORM, maintainer_id=maint_org.id, name=f"{side} crew")
        order = work_orders.create_work_order(
            conn,
            tenant=PLATFORM,
            order=work_orders.WorkOrderCreate(unit_id=unit_id, kind="corrective", title="door fault"),
        )
        work_orders.update_work_order(
            conn,
            tenant=PLATFORM,
            work_order_id=order.id,
            changes=work_orders.WorkOrderUpdate(crew_id=crew.id),
            expected_version=order.version,
        )
        ledger.append_record(
            conn,
            tenant=PLATFORM,
            unit_id=unit_id,
            kind="factory_build",
            occurred_at=FLEET_T0,
            data={"line": 3},
            actor=make,
        )
        ids.update(
            {
                f"make_org_{side}": make_org.id,
                f"maint_org_{side}": maint_org.id,
                f"manufacturer_{side}": maker.id,
                f"model_{side}": model.id,
                f"site_{side}": site.id,
                f"crew_{side}": crew.id,
                f"wo_{side}": order.id,
            }
        )
        keyring = fleet.keys if side == "a" else fleet.other_keys
        for role, org, crew_id in (
            (Role.MANUFACTURER, make_org.id, None),
            (Role.MAINTAINER, maint_org.id, None),
            (Role.CREW, maint_org.id, crew.id),
            (Role.DEVICE, make_org.id, None),
        ):
            keyring[role] = api_keys.create_api_key(
                conn, name=f"{role} {side}", role=role, organization_id=org, crew_id=crew_id
            )[1]
    supplier = SUPPLIERS.create(conn, {"name": "Brakes Ltd"})
    batch = components.create_batch(
        conn, supplier_id=supplier.id, component_type="brake", lot="L-1", produced_on=date(2023, 12, 1)
    )
    ids.update({"platform": platform.id, "supplier": supplier.id, "batch": batch.id})
    fleet.keys[Role.ADMIN] = api_keys.create_api_key(conn, name="admin", role=Role.ADMIN, organization_id=platform.id)[
        1
    ]
    return fleet
