"""Traceability over unit builds: a unit's current build, the genealogy of a position, and recall impact
(which units carry components from a batch or a supplier)."""

from __future__ import annotations

from datetime import date, datetime
from uuid import UUID

from psycopg import sql
from pydantic import BaseModel

from models.access.tenancy import TenantScope
from models.db import Connection
from models.errors import BadRequest
from models.queries import Page, PageParams, fetch_page
from models.registry.units import require_visible_unit

__all__ = ["BuildSlot", "current_build", "position_history", "recall_impact"]

_SELECT = sql.SQL("""
SELECT uc.id, uc.unit_id, uc.position, uc.installed_at, uc.removed_at,
       c.id AS component_id, c.serial, c.component_type,
       b.id AS batch_id, b.lot, b.produced_on, s.id AS supplier_id, s.name AS supplier_name
FROM unit_components uc
JOIN components c ON c.id = uc.component_id
LEFT JOIN component_batches b ON b.id = c.batch_id
LEFT JOIN suppliers s ON s.id = b.supplier_id
""")


class BuildSlot(BaseModel):
    """One component's time in one position of a unit, with where the component came from."""

    id: int
    unit_id: str
    position: str
    installed_at: datetime
    removed_at: datetime | None
    component_id: UUID
    serial: str
    component_type: str
    batch_id: UUID | None
    lot: str | None
    produced_on: date | None
    supplier_id: UUID | None
    supplier_name: str | None


def current_build(conn: Connection, *, tenant: TenantScope, unit_id: str, page: PageParams) -> Page[BuildSlot]:
    """What sits in the unit now, by position."""
    require_visible_unit(conn, tenant=tenant, unit_id=unit_id)
    query = sql.SQL("{} WHERE uc.unit_id = %(u)s AND uc.removed_at IS NULL ORDER BY uc.position").format(_SELECT)
    return fetch_page(conn, query, {"u": unit_id}, model=BuildSlot, page=page)


def position_history(
    conn: Connection, *, tenant: TenantScope, unit_id: str, position: str, page: PageParams
) -> Page[BuildSlot]:
    """The genealogy of a position: every component that ever sat there, oldest first."""
    require_visible_unit(conn, tenant=tenant, unit_id=unit_id)
    query = sql.SQL("{} WHERE uc.unit_id = %(u)s AND uc.position = %(p)s ORDER BY uc.installed_at, uc.id").format(
        _SELECT
    )
    return fetch_page(conn, query, {"u": unit_id, "p": position}, model=BuildSlot, page=page)


def recall_impact(
    conn: Connection,
    *,
    tenant: TenantScope,
    page: PageParams,
    batch_id: UUID | None = None,
    supplier_id: UUID | None = None,
    include_removed: bool = False,
) -> Page[BuildSlot]:
    """The units (of those the tenant sees) carrying components of a batch or supplier, now or ever."""
    if batch_id is None and supplier_id is None:
        raise BadRequest("name a batch_id or a supplier_id")
    query = sql.SQL(
        "{select} WHERE {visible} AND (%(b)s::uuid IS NULL OR b.id = %(b)s) AND (%(s)s::uuid IS NULL OR s.id = %(s)s)"
        " AND (%(all)s OR uc.removed_at IS NULL) ORDER BY uc.unit_id, uc.position, uc.installed_at, uc.id"
    ).format(select=_SELECT, visible=tenant.units_predicate("uc.unit_id"))
    params = {"b": batch_id, "s": supplier_id, "all": include_removed}
    return fetch_page(conn, query, params, model=BuildSlot, page=page)
