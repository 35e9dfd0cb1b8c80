"""Component types, production batches (a supplier's lot) and individual components (by serial)."""

from __future__ import annotations

from datetime import date, datetime
from uuid import UUID

from psycopg import sql
from pydantic import BaseModel, ConfigDict

from models.db import Connection
from models.errors import BadRequest
from models.queries import Page, PageParams, fetch_one, fetch_page
from models.sqlerrors import translate_errors
from models.types import Code, Text

__all__ = [
    "Batch",
    "BatchCreate",
    "Component",
    "ComponentCreate",
    "ComponentType",
    "create_batch",
    "create_component",
    "get_batch",
    "get_batch_by_lot",
    "get_component",
    "get_component_by_serial",
    "list_batches",
    "list_component_types",
    "list_components",
]

_BATCH_COLUMNS = sql.SQL("id, supplier_id, component_type, lot, produced_on, created_at")
_COMPONENT_COLUMNS = sql.SQL("id, serial, component_type, batch_id, created_at")


class ComponentType(BaseModel):
    """A kind of component (traction machine, brake, door operator...)."""

    code: str
    name: str


class BatchCreate(BaseModel):
    """A new production lot."""

    model_config = ConfigDict(extra="forbid")
    supplier_id: UUID
    component_type: Code
    lot: Text
    produced_on: date | None = None


class Batch(BatchCreate):
    """A stored production lot."""

    model_config = ConfigDict(extra="ignore")
    id: UUID
    created_at: datetime


class ComponentCreate(BaseModel):
    """A new component."""

    model_config = ConfigDict(extra="forbid")
    serial: Text
    component_type: Code
    batch_id: UUID | None = None


class Component(ComponentCreate):
    """A stored component."""

    model_config = ConfigDict(extra="ignore")
    id: UUID
    created_at: datetime


def list_component_types(conn: Connection) -> list[ComponentType]:
    """Every component type (a short, fixed catalogue)."""
    rows = conn.execute("SELECT code, name FROM component_types ORDER BY code").fetchall()
    return [ComponentType.model_validate(row) for row in rows]


def create_batch(
    conn: Connection, *, supplier_id: UUID, component_type: str, lot: str, produced_on: date | None
) -> Batch:
    """Register a supplier's lot; Conflict when the supplier already has that lot."""
    query = sql.SQL(
        "INSERT INTO component_batches (supplier_id, component_type, lot, produced_on)"
        " VALUES (%(supplier_id)s, %(component_type)s, %(lot)s, %(produced_on)s) RETURNING {}"
    ).format(_BATCH_COLUMNS)
    params = {"supplier_id": supplier_id, "component_type": component_type, "lot": lot, "produced_on": produced_on}
    with translate_errors():
        return fetch_one(conn, query, params, model=Batch, what="batch")


def get_batch(conn: Connection, *, batch_id: UUID) -> Batch:
    """One batch, or NotFound."""
    query = sql.SQL("SELECT {} FROM component_batches WHERE id = %(id)s").format(_BATCH_COLUMNS)
    return fetch_one(conn, query, {"id": batch_id}, model=Batch, what="batch")


def get_batch_by_lot(conn: Connection, *, supplier_id: UUID, lot: str) -> Batch:
    """The supplier's batch with this lot, or NotFound."""
    query = sql.SQL("SELECT {} FROM component_batches WHERE supplier_id = %(s)s AND lot = %(lot)s").format(
        _BATCH_COLUMNS
    )
    return fetch_one(conn, query, {"s": supplier_id, "lot": lot}, model=Batch, what="batch")


def list_batches(conn: Connection, *, page: PageParams, supplier_id: UUID | None = None) -> Page[Batch]:
    """Batches, newest production first, optionally of one supplier."""
    query = sql.SQL(
        "SELECT {} FROM component_batches WHERE %(s)s::uuid IS NULL OR supplier_id = %(s)s"
        " ORDER BY produced_on DESC NULLS LAST, lot, id"
    ).format(_BATCH_COLUMNS)
    return fetch_page(conn, query, {"s": supplier_id}, model=Batch, page=page)


def create_component(conn: Connection, *, serial: str, component_type: str, batch_id: UUID | None) -> Component:
    """Register a component; its type must match its batch's. Conflict when the serial exists."""
    if batch_id is not None:
        batch = get_batch(conn, batch_id=batch_id)
        if batch.component_type != component_type:
            raise BadRequest(f"batch {batch.lot} holds {batch.component_type}, not {component_type}")
    query = sql.SQL(
        "INSERT INTO components (serial, component_type, batch_id)"
        " VALUES (%(serial)s, %(component_type)s, %(batch_id)s) RETURNING {}"
    ).format(_COMPONENT_COLUMNS)
    params = {"serial": serial, "component_type": component_type, "batch_id": batch_id}
    with translate_errors():
        return fetch_one(conn, query, params, model=Component, what="component")


def get_component(conn: Connection, *, component_id: UUID) -> Component:
    """One component, or NotFound."""
    query = sql.SQL("SELECT {} FROM components WHERE id = %(id)s").format(_COMPONENT_COLUMNS)
    return fetch_one(conn, query, {"id": component_id}, model=Component, what="component")


def get_component_by_serial(conn: Connection, *, serial: str) -> Component:
    """The component with this serial, or NotFound."""
    query = sql.SQL("SELECT {} FROM components WHERE serial = %(serial)s").format(_COMPONENT_COLUMNS)
    return fetch_one(conn, query, {"serial": serial}, model=Component, what="component")


def list_components(conn: Connection, *, page: PageParams, batch_id: UUID | None = None) -> Page[Component]:
    """Components by serial, optionally of one batch."""
    query = sql.SQL(
        "SELECT {} FROM components WHERE %(b)s::uuid IS NULL OR batch_id = %(b)s ORDER BY serial, id"
    ).format(_COMPONENT_COLUMNS)
    return fetch_page(conn, query, {"b": batch_id}, model=Component, page=page)
