"""The fleet board: one page of the units a caller sees (presence, site, model, maintainer, open work) and the
counts over the whole filtered fleet, aggregated in SQL so a 10,000-unit fleet never leaves the database."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from psycopg import sql
from pydantic import BaseModel, ConfigDict

from models.access.tenancy import CURRENT_CONTRACT, TenantScope
from models.db import Connection
from models.queries import Page, PageParams, fetch_page
from models.registry.units import UnitStatus
from models.work.contracts import own_contracts
from models.work.work_orders import ACTIVE_STATUSES

__all__ = ["BoardFilter", "BoardSummary", "BoardUnit", "Facet", "FleetBoard", "fleet_board"]

# Filter choices per list (models, maintainers): a fleet has tens; this bounds a pathological one.
FACET_LIMIT = 200


class BoardFilter(BaseModel):
    """Which units the board shows; a None field does not filter."""

    model_config = ConfigDict(frozen=True)
    search: str | None = None  # a piece of the unit id, serial, site name or city
    site_id: UUID | None = None
    model_id: UUID | None = None
    maintainer_id: UUID | None = None
    online: bool | None = None
    status: UnitStatus | None = None


class BoardUnit(BaseModel):
    """One row of the board."""

    id: str
    serial: str | None
    status: UnitStatus
    online: bool
    last_seen: datetime | None
    site_id: UUID | None
    site_name: str | None
    city: str | None
    building: str | None
    model_name: str | None
    maintainer_name: str | None
    open_work_orders: int


class BoardSummary(BaseModel):
    """Counts over every unit that matches the filter (not only the page shown)."""

    units: int
    online: int
    offline: int
    out_of_service: int
    with_open_work: int


class Facet(BaseModel):
    """One filter choice that covers some of the caller's units."""

    id: UUID
    name: str


class FleetBoard(BaseModel):
    """What the board renders."""

    summary: BoardSummary
    units: Page[BoardUnit]
    models: list[Facet]
    maintainers: list[Facet]


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _current_contracts(tenant: TenantScope) -> sql.Composed:
    """The contracts in force that the tenant may read, as a derived table."""
    return sql.SQL(
        "(SELECT unit_id, maintainer_id, starts_on FROM maintenance_contracts WHERE {current} AND {own})"
    ).format(current=CURRENT_CONTRACT, own=own_contracts(tenant, "maintainer_id"))


def _where(tenant: TenantScope, board_filter: BoardFilter) -> tuple[sql.Composed, dict[str, Any]]:
    """The filter over `units u LEFT JOIN sites s`, and its parameters."""
    where = sql.SQL(
        "{visible} AND (%(search)s::text IS NULL OR concat_ws(' ', u.id, u.serial, s.name, s.city) ILIKE %(search)s)"
        " AND (%(site)s::uuid IS NULL OR u.site_id = %(site)s) AND (%(model)s::uuid IS NULL OR u.model_id = %(model)s)"
        " AND (%(online)s::boolean IS NULL OR u.online = %(online)s)"
        " AND (%(status)s::text IS NULL OR u.status = %(status)s)"
        " AND (%(maintainer)s::uuid IS NULL OR u.id IN (SELECT c.unit_id FROM {contracts} AS c"
        " WHERE c.maintainer_id = %(maintainer)s))"
    ).format(visible=tenant.units_predicate("u.id"), contracts=_current_contracts(tenant))
    params = {
        "search": _like(board_filter.search) if board_filter.search else None,
        "site": board_filter.site_id,
        "model": board_filter.model_id,
        "online": board_filter.online,
        "status": board_filter.status,
        "maintainer": board_filter.maintainer_id,
    }
    return where, params


def _open_work(tenant: TenantScope) -> sql.Composed:
    """Unit ids with active work orders the tenant may see."""
    return sql.SQL("SELECT w.unit_id FROM work_orders w WHERE w.status = ANY(%(active)s) AND {}").format(
        tenant.maintainer_predicate("w.maintainer_id", "w.crew_id")
    )


def _summary(conn: Connection, where: sql.Composed, params: dict[str, Any], open_work: sql.Composed) -> BoardSummary:
    query = sql.SQL(
        "SELECT count(*) AS units, count(*) FILTER (WHERE u.online) AS online,"
        " count(*) FILTER (WHERE NOT u.online) AS offline,"
        " count(*) FILTER (WHERE u.status = 'out_of_service') AS out_of_service,"
        " count(*) FILTER (WHERE u.id IN ({open_work})) AS with_open_work"
        " FROM units u LEFT JOIN sites s ON s.id = u.site_id WHERE {where}"
    ).format(open_work=open_work, where=where)
    return BoardSummary.model_validate(conn.execute(query, params).fetchone())


class _Ref(BaseModel):
    id: str


def _rows(conn: Connection, tenant: TenantScope, ids: list[str], active: list[str]) -> list[BoardUnit]:
    """The board rows of one page of unit ids, in that order (one query for the page, not one per unit)."""
    if not ids:
        return []
    query = sql.SQL(
        "SELECT u.id, u.serial, u.status, u.online, u.last_seen, u.site_id, s.name AS site_name, s.city, u.building,"
        " m.name AS model_name, (SELECT o.name FROM {contracts} AS c JOIN organizations o ON o.id = c.maintainer_id"
        " WHERE c.unit_id = u.id ORDER BY c.starts_on DESC LIMIT 1) AS maintainer_name,"
        " (SELECT count(*) FROM ({open_work}) AS w WHERE w.unit_id = u.id) AS open_work_orders"
        " FROM unnest(%(ids)s::text[]) WITH ORDINALITY AS p (id, n) JOIN units u ON u.id = p.id"
        " LEFT JOIN sites s ON s.id = u.site_id LEFT JOIN unit_models m ON m.id = u.model_id ORDER BY p.n"
    ).format(contracts=_current_contracts(tenant), open_work=_open_work(tenant))
    rows = conn.execute(query, {"active": active, "ids": ids}).fetchall()
    return [BoardUnit.model_validate(row) for row in rows]


def _facets(conn: Connection, tenant: TenantScope) -> tuple[list[Facet], list[Facet]]:
    """The models and maintainers of the tenant's units (an existence probe each: no count over the fleet)."""
    models = sql.SQL(
        "SELECT m.id, m.name FROM unit_models m WHERE EXISTS (SELECT 1 FROM units u WHERE u.model_id = m.id AND"
        " {visible}) ORDER BY m.name, m.id LIMIT {limit}"
    ).format(visible=tenant.units_predicate("u.id"), limit=sql.Literal(FACET_LIMIT))
    maintainers = sql.SQL(
        "SELECT o.id, o.name FROM organizations o WHERE EXISTS (SELECT 1 FROM {contracts} AS c"
        " WHERE c.maintainer_id = o.id AND {visible}) ORDER BY o.name, o.id LIMIT {limit}"
    ).format(
        visible=tenant.units_predicate("c.unit_id"),
        contracts=_current_contracts(tenant),
        limit=sql.Literal(FACET_LIMIT),
    )
    return (
        [Facet.model_validate(r) for r in conn.execute(models).fetchall()],
        [Facet.model_validate(r) for r in conn.execute(maintainers).fetchall()],
    )


def fleet_board(
    conn: Connection, *, tenant: TenantScope, page: PageParams, board_filter: BoardFilter, facets: bool = True
) -> FleetBoard:
    """One page of the tenant's units matching the filter (offline first, then by id), the counts, and (unless
    `facets` is false, as for a live refresh that redraws only the table) the filter choices."""
    where, params = _where(tenant, board_filter)
    params["active"] = [str(status) for status in ACTIVE_STATUSES]
    # Sort and page the narrow (online, id) pairs; only the page's rows are then joined and annotated.
    ids = fetch_page(
        conn,
        sql.SQL(
            # Unit ids are ASCII: byte order is their order, and much cheaper to sort than a locale's.
            "SELECT u.id FROM units u LEFT JOIN sites s ON s.id = u.site_id WHERE {}"
            ' ORDER BY u.online, u.id COLLATE "C"'
        ).format(where),
        params,
        model=_Ref,
        page=page,
    )
    rows = _rows(conn, tenant, [ref.id for ref in ids.items], params["active"])
    units = Page[BoardUnit](items=rows, limit=ids.limit, offset=ids.offset, next_offset=ids.next_offset)
    models, maintainers = _facets(conn, tenant) if facets else ([], [])
    summary = _summary(conn, where, params, _open_work(tenant))
    return FleetBoard(summary=summary, units=units, models=models, maintainers=maintainers)
