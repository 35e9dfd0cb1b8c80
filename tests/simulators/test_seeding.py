"""The simulated fleet's lifecycle data lands in the registry through the models functions, idempotently."""

from __future__ import annotations

from models.access.tenancy import TenantScope
from models.db import connect
from models.lifecycle import ledger
from models.queries import PageParams
from models.registry import units
from simulators.fleet import build_fleet
from simulators.seeding import seed_fleet
from tests.simulators.support import START

SCOPE = TenantScope.internal()


def test_seeding_registers_units_with_build_and_records(database_url: str) -> None:
    fleet = build_fleet(seed=5, units=3, start=START)
    with connect(database_url) as conn:
        summary = seed_fleet(conn, fleet)
        assert (summary.created_units, summary.skipped_units) == (3, 0)
        unit = units.get_unit(conn, tenant=SCOPE, unit_id="sim-00001")
        assert unit.floors == fleet.floors[1]
        build = conn.execute("SELECT count(*) AS n FROM unit_components WHERE unit_id = 'sim-00001'").fetchone()
        assert build == {"n": len(fleet.components[1])}
        records = ledger.list_records(conn, tenant=SCOPE, unit_id="sim-00001", page=PageParams()).items
        assert [r.kind for r in records] == ["factory_build", "factory_test", "installation"]
        assert ledger.verify_chain(conn, tenant=SCOPE, unit_id="sim-00001", trusted_key=None).intact


def test_seeding_again_skips_existing_units_and_adds_new_ones(database_url: str) -> None:
    with connect(database_url) as conn:
        seed_fleet(conn, build_fleet(seed=5, units=2, start=START))
        again = seed_fleet(conn, build_fleet(seed=5, units=4, start=START))
        assert (again.created_units, again.skipped_units) == (2, 2)
        assert conn.execute("SELECT count(*) AS n FROM manufacturers").fetchone() == {"n": 3}
