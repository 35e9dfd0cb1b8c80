"""A small brake fleet with a hand-computable history, on top of the `fleet` fixture's registry.

Ten units of Acme's model installed at T0, one brake each. Batch BAD (Bad Brakes) in U01-U04, batch GOOD (Good
Brakes) in U05-U10. U01, U02, U03 fail at 100, 200, 300 h and U06 at 600 h (swapped for an unbatched spare);
U05's brake is swapped at 500 h under a preventive work order (planned: not a failure). Seen at AS_OF = T0 +
1000 h: every position holds a part for 1000 h, so the brake type has 10,000 h of exposure and 4 failures.
Each unit reports its counters once a day: 10 trips and 11 door cycles an hour since T0.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from uuid import UUID

from models.access import api_keys
from models.access.tenancy import Role, TenantScope
from models.db import Connection
from models.lifecycle import part_replacements
from models.registry import components, organizations, units
from models.registry.parties import SUPPLIERS
from models.work import contracts, work_orders
from tests.support.fleet import FLEET_T0, Fleet

T0 = FLEET_T0
AS_OF = T0 + timedelta(hours=1000)
FAILURES = {"U01": 100, "U02": 200, "U03": 300, "U06": 600}
PREVENTIVE = {"U05": 500}
REGION = "Pudong"
# How far back the quality job's first pass reads telemetry counters.
COUNTERS_SINCE = timedelta(days=400)


@dataclass
class QualityFleet:
    """Ids and keys of the brake fleet."""

    batches: dict[str, UUID] = field(default_factory=dict)
    suppliers: dict[str, UUID] = field(default_factory=dict)
    keys: dict[str, str] = field(default_factory=dict)


def seed_brakes(conn: Connection, fleet: Fleet) -> QualityFleet:
    """Seed the brake fleet and keys for both suppliers and a regulator of Acme's region; not committed."""
    seeded = QualityFleet()
    scope = TenantScope.internal()
    for name, lot in (("Bad Brakes", "BAD"), ("Good Brakes", "GOOD")):
        org = organizations.create_organization(conn, name=name, kind="supplier")
        supplier = SUPPLIERS.create(conn, {"name": name, "organization_id": org.id})
        batch = components.create_batch(
            conn, supplier_id=supplier.id, component_type="brake", lot=lot, produced_on=date(2023, 6, 1)
        )
        seeded.suppliers[lot], seeded.batches[lot] = supplier.id, batch.id
        seeded.keys[lot] = api_keys.create_api_key(conn, name=lot, role=Role.SUPPLIER, organization_id=org.id)[1]
    regulator = organizations.create_organization(
        conn, name="Pudong Market Regulation", kind="regulator", region=REGION
    )
    conn.execute("UPDATE sites SET region = %(r)s WHERE id = %(id)s", {"r": REGION, "id": fleet.ids["site_a"]})
    seeded.keys["regulator"] = api_keys.create_api_key(
        conn, name="regulator", role=Role.REGULATOR, organization_id=regulator.id
    )[1]
    for number in range(1, 11):
        unit_id = f"U{number:02d}"
        units.create_unit(
            conn, tenant=scope, unit_id=unit_id, serial=f"SN-{unit_id}", registration_code=f"R-{unit_id}",
            model_id=fleet.ids["model_a"], site_id=fleet.ids["site_a"], floors=10,
        )  # fmt: skip
        contracts.create_contract(
            conn, tenant=scope, unit_id=unit_id, maintainer_id=fleet.ids["maint_org_a"], starts_on=T0.date()
        )
        lot = "BAD" if number <= 4 else "GOOD"
        part = components.create_component(
            conn, serial=f"BR-{unit_id}", component_type="brake", batch_id=seeded.batches[lot]
        )
        units.install_component(conn, tenant=scope, unit_id=unit_id, position="brake", component_id=part.id, at=T0)
        for hours, kind in ((FAILURES.get(unit_id), "corrective"), (PREVENTIVE.get(unit_id), "preventive")):
            if hours is None:
                continue
            components.create_component(conn, serial=f"SP-{unit_id}", component_type="brake", batch_id=None)
            order = work_orders.create_work_order(
                conn, tenant=scope, order=work_orders.WorkOrderCreate(unit_id=unit_id, kind=kind, title="brake swap")
            )
            swap = part_replacements.PartReplacement(
                position="brake", installed_serial=f"SP-{unit_id}", occurred_at=T0 + timedelta(hours=hours),
                work_order_id=order.id,
            )  # fmt: skip
            part_replacements.replace_part(conn, tenant=scope, unit_id=unit_id, replacement=swap, actor="test")
    conn.execute(
        "INSERT INTO telemetry (unit_id, time, received_at, trip_count, door_cycles)"
        " SELECT u.id, t, t, (extract(epoch FROM t - %(t0)s) / 360)::bigint,"
        " (extract(epoch FROM t - %(t0)s) / 327)::bigint"
        " FROM units u, generate_series(%(t0)s + interval '1 hour', %(end)s, interval '1 day') t WHERE u.id LIKE 'U%%'",
        {"t0": T0, "end": AS_OF},
    )
    return seeded


# Energy months: 150 W standby and 0.02 kWh per trip at 300 trips a day from ENERGY_T0 (class C running, standby
# and total for the fleet fixture's 1,000 kg, 10-floor units). In the last month U01's running energy per trip
# rises by half (a dragging brake), U02's traffic doubles (more energy, the same per trip), and U03 reports for
# the first time.
ENERGY_T0 = date(2024, 1, 1)
ENERGY_NOW = datetime(2024, 7, 2, 6, tzinfo=UTC)
ENERGY_LAST_MONTH = date(2024, 6, 1)


def seed_energy(conn: Connection) -> None:
    """Daily counter readings of U01-U03 as the quality job's roll-up leaves them; not committed."""
    conn.execute(
        "INSERT INTO unit_counter_days (unit_id, day, trip_count, door_cycles, energy_kwh, standby_power_w)"
        " SELECT u, d::date, t.trips, t.trips, 0.15 * 24 * n + 0.02 * t.trips"
        "   + CASE WHEN u = 'U01' AND d >= %(last)s THEN 0.01 * (t.trips - 300 * (%(last)s::date - %(t0)s::date))"
        "     ELSE 0 END, 150"
        " FROM unnest(ARRAY['U01', 'U02', 'U03']) u, generate_series(%(t0)s::date, %(end)s::date, interval '1 day') d,"
        " LATERAL (SELECT (d::date - %(t0)s::date) AS n) k,"
        " LATERAL (SELECT CASE WHEN u = 'U02' AND d >= %(last)s THEN 300 * k.n + 300 * (d::date - %(last)s::date)"
        "   ELSE 300 * k.n END AS trips) t"
        " WHERE u <> 'U03' OR d >= %(last)s",
        {"t0": ENERGY_T0, "last": ENERGY_LAST_MONTH, "end": date(2024, 6, 30)},
    )
