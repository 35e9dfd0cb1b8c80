"""Units (one installed elevator each) and their build: which component sits in which position, and since when."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any
from uuid import UUID

from psycopg import sql
from pydantic import BaseModel, ConfigDict, Field, StrictInt

from models.access.tenancy import TenantScope
from models.db import Connection
from models.errors import BadRequest, ExpectedVersion, NotFound, PreconditionFailed, expected_versions
from models.queries import Page, PageParams, fetch_one, fetch_page, set_clause
from models.sqlerrors import translate_errors
from models.types import Text, UnitId

__all__ = [
    "Installation",
    "Unit",
    "UnitCreate",
    "UnitStatus",
    "UnitUpdate",
    "create_unit",
    "get_unit",
    "install_component",
    "list_units",
    "require_visible_unit",
    "update_unit",
]


class UnitStatus(StrEnum):
    """Where the unit is in its life; lifecycle records move it on."""

    REGISTERED = "registered"
    BUILT = "built"
    SHIPPED = "shipped"
    INSTALLED = "installed"
    IN_SERVICE = "in_service"
    OUT_OF_SERVICE = "out_of_service"
    DECOMMISSIONED = "decommissioned"


Floors = Annotated[StrictInt, Field(ge=2, le=250)]

_SELECT = sql.SQL("""
SELECT u.id, u.serial, u.registration_code, u.model_id, u.manufacturer_id, u.site_id, u.building, u.floors,
       u.status, u.auto_registered, u.online, u.last_seen, u.version, u.created_at, u.updated_at,
       s.name AS site_name, s.address, s.city
FROM units u LEFT JOIN sites s ON s.id = u.site_id
""")


class UnitCreate(BaseModel):
    """A new unit. Its manufacturer is the model's."""

    model_config = ConfigDict(extra="forbid")
    id: UnitId = Field(description="The identifier the unit's device uses in MQTT topics")
    serial: Text
    registration_code: Text
    model_id: UUID
    site_id: UUID | None = None
    building: Text | None = None
    floors: Floors


class UnitUpdate(BaseModel):
    """Changes to a unit's registry data (its status changes through lifecycle records)."""

    model_config = ConfigDict(extra="forbid")
    registration_code: Text | None = None
    site_id: UUID | None = None
    building: Text | None = None
    floors: Floors | None = None


class Unit(BaseModel):
    """A stored unit with its site's address."""

    id: str
    serial: str | None
    registration_code: str | None
    model_id: UUID | None
    manufacturer_id: UUID | None
    site_id: UUID | None
    site_name: str | None
    address: str | None
    city: str | None
    building: str | None
    floors: int | None
    status: UnitStatus
    auto_registered: bool
    online: bool
    last_seen: datetime | None
    version: int = Field(description="Bumped by every registry or status change (not by presence): the ETag")
    created_at: datetime
    updated_at: datetime


class Installation(BaseModel):
    """One component in one position of a unit, from installation to removal (null while still there)."""

    id: int
    unit_id: str
    position: str
    component_id: UUID
    installed_at: datetime
    removed_at: datetime | None


def create_unit(
    conn: Connection,
    *,
    unit_id: str,
    serial: str,
    registration_code: str,
    model_id: UUID,
    site_id: UUID | None,
    floors: int,
    tenant: TenantScope,
    building: str | None = None,
) -> Unit:
    """Register a unit of `model_id`, only of a model the tenant may build (else NotFound)."""
    query = sql.SQL("SELECT manufacturer_id FROM unit_models WHERE id = %(id)s AND {}").format(
        tenant.manufacturers_predicate("manufacturer_id")
    )
    row = conn.execute(query, {"id": model_id}).fetchone()
    if row is None:
        raise NotFound("no such unit model")
    params = {
        "id": unit_id,
        "serial": serial,
        "registration_code": registration_code,
        "model_id": model_id,
        "manufacturer_id": row["manufacturer_id"],
        "site_id": site_id,
        "building": building,
        "floors": floors,
    }
    insert = (
        "INSERT INTO units (id, serial, registration_code, model_id, manufacturer_id, site_id, building, floors)"
        " VALUES (%(id)s, %(serial)s, %(registration_code)s, %(model_id)s, %(manufacturer_id)s, %(site_id)s,"
        " %(building)s, %(floors)s)"
    )
    with translate_errors():
        conn.execute(insert, params)
    return get_unit(conn, tenant=tenant, unit_id=unit_id)


def get_unit(conn: Connection, *, tenant: TenantScope, unit_id: str) -> Unit:
    """One unit the tenant may see, or NotFound."""
    query = sql.SQL("{} WHERE u.id = %(id)s AND {}").format(_SELECT, tenant.units_predicate("u.id"))
    return fetch_one(conn, query, {"id": unit_id}, model=Unit, what="unit")


def require_visible_unit(conn: Connection, *, tenant: TenantScope, unit_id: str) -> None:
    """NotFound unless the unit exists and the tenant may see it."""
    query = sql.SQL("SELECT 1 FROM units WHERE id = %(id)s AND {}").format(tenant.units_predicate("id"))
    if conn.execute(query, {"id": unit_id}).fetchone() is None:
        raise NotFound("no such unit")


def list_units(
    conn: Connection,
    *,
    tenant: TenantScope,
    page: PageParams,
    status: UnitStatus | None = None,
    manufacturer_id: UUID | None = None,
    site_id: UUID | None = None,
) -> Page[Unit]:
    """The units the tenant may see, by id, optionally filtered."""
    query = sql.SQL(
        "{} WHERE {} AND (%(status)s::text IS NULL OR u.status = %(status)s)"
        " AND (%(m)s::uuid IS NULL OR u.manufacturer_id = %(m)s) AND (%(s)s::uuid IS NULL OR u.site_id = %(s)s)"
        " ORDER BY u.id"
    ).format(_SELECT, tenant.units_predicate("u.id"))
    params = {"status": status, "m": manufacturer_id, "s": site_id}
    return fetch_page(conn, query, params, model=Unit, page=page)


def update_unit(
    conn: Connection, *, tenant: TenantScope, unit_id: str, changes: UnitUpdate, expected_version: ExpectedVersion
) -> Unit:
    """Apply `changes` to the unit at `expected_version`; PreconditionFailed when it moved on since."""
    values: dict[str, Any] = changes.model_dump(exclude_unset=True)
    if not values:
        raise BadRequest("nothing to change")
    query = sql.SQL(
        "UPDATE units SET {assignments}, version = version + 1, updated_at = clock_timestamp()"
        " WHERE id = %(_id)s AND {visible} AND (%(_expected)s::integer[] IS NULL OR version = ANY(%(_expected)s))"
        " RETURNING id"
    ).format(assignments=set_clause(values), visible=tenant.units_predicate("id"))
    params = {**values, "_id": unit_id, "_expected": expected_versions(expected_version)}
    with translate_errors():
        row = conn.execute(query, params).fetchone()
    if row is None:
        require_visible_unit(conn, tenant=tenant, unit_id=unit_id)
        raise PreconditionFailed("the unit changed since it was read; fetch it again")
    return get_unit(conn, tenant=tenant, unit_id=unit_id)


def install_component(
    conn: Connection, *, tenant: TenantScope, unit_id: str, position: str, component_id: UUID, at: datetime
) -> Installation:
    """Put a component in a position of a unit the tenant may see at `at`, closing whatever sat there before."""
    require_visible_unit(conn, tenant=tenant, unit_id=unit_id)
    close = (
        "UPDATE unit_components SET removed_at = %(at)s"
        " WHERE unit_id = %(unit_id)s AND position = %(position)s AND removed_at IS NULL"
    )
    insert = (
        "INSERT INTO unit_components (unit_id, position, component_id, installed_at)"
        " VALUES (%(unit_id)s, %(position)s, %(component_id)s, %(at)s)"
        " RETURNING id, unit_id, position, component_id, installed_at, removed_at"
    )
    params = {"unit_id": unit_id, "position": position, "component_id": component_id, "at": at}
    with translate_errors():
        conn.execute(close, params)
        return fetch_one(conn, insert, params, model=Installation, what="installation")
