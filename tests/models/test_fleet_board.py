"""The fleet board read model: counts over the whole filtered fleet, offline first, tenancy as in every query."""

from __future__ import annotations

from datetime import date

from models.access import api_keys
from models.access.tenancy import Role, TenantScope
from models.db import Connection
from models.queries import PageParams
from models.registry import units
from models.registry.fleet_board import BoardFilter, fleet_board
from models.work import contracts
from tests.support.fleet import Fleet, seed_fleet

EXTRA = 7  # more Acme units on A1's site, maintained by Mx; every other one online


def _fleet(conn: Connection) -> Fleet:
    fleet = seed_fleet(conn)
    for n in range(EXTRA):
        unit_id = f"A{n + 2}"
        units.create_unit(
            conn,
            tenant=TenantScope.internal(),
            unit_id=unit_id,
            serial=f"SN-{unit_id}",
            registration_code=f"REG-{unit_id}",
            model_id=fleet.ids["model_a"],
            site_id=fleet.ids["site_a"],
            floors=6,
        )
        contracts.create_contract(
            conn,
            tenant=TenantScope.internal(),
            unit_id=unit_id,
            maintainer_id=fleet.ids["maint_org_a"],
            starts_on=date(2024, 1, 1),
        )
    conn.execute("UPDATE units SET online = (substr(id, 2)::int % 2 = 0)")
    return fleet


def _scope(conn: Connection, fleet: Fleet, role: Role) -> TenantScope:
    key = api_keys.resolve_key(conn, secret=fleet.keys[role])
    assert key is not None
    return key.tenant


def test_pages_put_offline_units_first_and_count_the_whole_filter(conn: Connection) -> None:
    _fleet(conn)
    first = fleet_board(conn, tenant=TenantScope.internal(), page=PageParams(limit=3), board_filter=BoardFilter())
    assert [u.id for u in first.units.items] == ["A1", "A3", "A5"]
    assert first.units.next_offset == 3
    assert first.summary.units == EXTRA + 2
    assert first.summary.online == 4  # A2, A4, A6, A8
    assert first.summary.offline == EXTRA + 2 - 4
    everything = fleet_board(
        conn, tenant=TenantScope.internal(), page=PageParams(limit=100), board_filter=BoardFilter()
    )
    ids = [u.id for u in everything.units.items]
    assert ids == sorted(ids, key=lambda i: (i not in {"A1", "A3", "A5", "A7", "B1"}, i))
    assert everything.units.next_offset is None


def test_rows_carry_site_model_maintainer_and_open_work(conn: Connection) -> None:
    fleet = _fleet(conn)
    board = fleet_board(conn, tenant=TenantScope.internal(), page=PageParams(limit=100), board_filter=BoardFilter())
    a1 = next(u for u in board.units.items if u.id == "A1")
    assert (a1.site_name, a1.model_name, a1.maintainer_name, a1.open_work_orders) == (
        "Acme Tower",
        "Acme 1000",
        "Mx",
        1,
    )
    assert board.summary.with_open_work == 2  # A1 and B1
    assert {f.name for f in board.maintainers} == {"Mx", "My"}
    assert {f.id for f in board.models} == {fleet.ids["model_a"], fleet.ids["model_b"]}


def test_filters_combine(conn: Connection) -> None:
    fleet = _fleet(conn)
    scope = TenantScope.internal()

    def ids(board_filter: BoardFilter) -> list[str]:
        return [u.id for u in fleet_board(conn, tenant=scope, page=PageParams(), board_filter=board_filter).units.items]

    assert ids(BoardFilter(maintainer_id=fleet.ids["maint_org_b"])) == ["B1"]
    assert ids(BoardFilter(site_id=fleet.ids["site_b"])) == ["B1"]
    assert ids(BoardFilter(model_id=fleet.ids["model_a"], online=True)) == ["A2", "A4", "A6", "A8"]
    assert ids(BoardFilter(search="borealis")) == ["B1"]  # site name, case-insensitive
    assert ids(BoardFilter(search="SN-A3")) == ["A3"]
    assert ids(BoardFilter(search="100%")) == []  # LIKE wildcards are literal
    assert ids(BoardFilter(status=units.UnitStatus.DECOMMISSIONED)) == []


def test_a_maintainer_sees_its_own_units_and_only_its_own_name(conn: Connection) -> None:
    fleet = _fleet(conn)
    # My also holds a current contract on A1 (a handover): Mx must still see only its own name on A1.
    contracts.create_contract(
        conn,
        tenant=TenantScope.internal(),
        unit_id="A1",
        maintainer_id=fleet.ids["maint_org_b"],
        starts_on=date(2024, 6, 1),
    )
    mx = fleet_board(conn, tenant=_scope(conn, fleet, Role.MAINTAINER), page=PageParams(), board_filter=BoardFilter())
    assert {u.id for u in mx.units.items} == {"A1", *(f"A{n + 2}" for n in range(EXTRA))}
    assert {u.maintainer_name for u in mx.units.items} == {"Mx"}
    assert [f.name for f in mx.maintainers] == ["Mx"]
    assert mx.summary.units == EXTRA + 1


def test_a_crew_sees_the_units_of_its_work_orders(conn: Connection) -> None:
    fleet = _fleet(conn)
    crew = fleet_board(conn, tenant=_scope(conn, fleet, Role.CREW), page=PageParams(), board_filter=BoardFilter())
    assert [u.id for u in crew.units.items] == ["A1"]
    assert crew.summary.units == 1


def test_a_manufacturer_sees_its_make_without_work_orders(conn: Connection) -> None:
    fleet = _fleet(conn)
    make = fleet_board(
        conn, tenant=_scope(conn, fleet, Role.MANUFACTURER), page=PageParams(), board_filter=BoardFilter()
    )
    assert "B1" not in {u.id for u in make.units.items}
    assert make.summary.with_open_work == 0  # work orders are the maintainers' business
    assert {u.open_work_orders for u in make.units.items} == {0}
