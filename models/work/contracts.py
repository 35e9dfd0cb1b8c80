"""Maintenance contracts: a maintainer sees and services the units it holds a current contract for."""

from __future__ import annotations

from datetime import date, datetime
from uuid import UUID

from psycopg import sql
from pydantic import BaseModel, ConfigDict

from models.access.tenancy import CURRENT_CONTRACT, TenantScope, Visibility
from models.db import Connection
from models.errors import BadRequest
from models.queries import Page, PageParams, fetch_one, fetch_page
from models.registry.organizations import OrgKind, organization_kind
from models.registry.units import require_visible_unit
from models.sqlerrors import translate_errors
from models.types import UnitId

__all__ = ["Contract", "ContractCreate", "create_contract", "current_maintainer_id", "list_contracts", "own_contracts"]

_COLUMNS = sql.SQL("id, unit_id, maintainer_id, starts_on, ends_on, created_at")


class ContractCreate(BaseModel):
    """A new contract."""

    model_config = ConfigDict(extra="forbid")
    unit_id: UnitId
    maintainer_id: UUID
    starts_on: date
    ends_on: date | None = None


class Contract(ContractCreate):
    """A stored contract."""

    model_config = ConfigDict(extra="ignore")
    id: UUID
    created_at: datetime


def create_contract(
    conn: Connection,
    *,
    tenant: TenantScope,
    unit_id: str,
    maintainer_id: UUID,
    starts_on: date,
    ends_on: date | None = None,
) -> Contract:
    """Give a maintainer (an organisation of kind maintainer) a contract for a unit the tenant may see."""
    require_visible_unit(conn, tenant=tenant, unit_id=unit_id)
    kind = organization_kind(conn, organization_id=maintainer_id)
    if kind is not None and kind != OrgKind.MAINTAINER:
        raise BadRequest("a contract's maintainer must be an organisation of kind maintainer")
    query = sql.SQL(
        "INSERT INTO maintenance_contracts (unit_id, maintainer_id, starts_on, ends_on)"
        " VALUES (%(unit_id)s, %(maintainer_id)s, %(starts_on)s, %(ends_on)s) RETURNING {}"
    ).format(_COLUMNS)
    params = {"unit_id": unit_id, "maintainer_id": maintainer_id, "starts_on": starts_on, "ends_on": ends_on}
    with translate_errors():
        return fetch_one(conn, query, params, model=Contract, what="contract")


def own_contracts(scope: TenantScope, maintainer_column: str) -> sql.Composable:
    """A SQL condition on a contract's maintainer: a maintainer (or its crew) reads only its own contracts."""
    if scope.visibility in (Visibility.CONTRACT, Visibility.CREW):
        column = sql.Identifier(*maintainer_column.split("."))
        return sql.SQL("{} = {}").format(column, sql.Literal(scope.organization_id))
    return sql.SQL("TRUE")


def list_contracts(
    conn: Connection, *, tenant: TenantScope, page: PageParams, unit_id: str | None = None
) -> Page[Contract]:
    """Contracts the tenant may see (a maintainer: its own), newest first."""
    query = sql.SQL(
        "SELECT {columns} FROM maintenance_contracts WHERE {visible} AND {own}"
        " AND (%(u)s::text IS NULL OR unit_id = %(u)s) ORDER BY starts_on DESC, id"
    ).format(columns=_COLUMNS, visible=tenant.units_predicate("unit_id"), own=own_contracts(tenant, "maintainer_id"))
    return fetch_page(conn, query, {"u": unit_id}, model=Contract, page=page)


def current_maintainer_id(conn: Connection, *, tenant: TenantScope, unit_id: str) -> UUID | None:
    """The maintainer holding the unit's contract in force today (the newest, if several), or None."""
    require_visible_unit(conn, tenant=tenant, unit_id=unit_id)
    row = conn.execute(
        sql.SQL(
            "SELECT maintainer_id FROM maintenance_contracts WHERE unit_id = %(u)s AND {}"
            " ORDER BY starts_on DESC LIMIT 1"
        ).format(CURRENT_CONTRACT),
        {"u": unit_id},
    ).fetchone()
    if row is None:
        return None
    maintainer = row["maintainer_id"]
    assert isinstance(maintainer, UUID)
    return maintainer
