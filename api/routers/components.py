"""`/component-types`, `/batches`, `/components`: what units are built from, and where it came from."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, status

from api.auth import Principal, Scope, require
from api.deps import Conn
from api.params import Paging
from models.queries import Page
from models.registry import components
from models.registry.components import Batch, BatchCreate, Component, ComponentCreate, ComponentType

router = APIRouter(tags=["components"])
Reader = Annotated[Principal, Depends(require(Scope.COMPONENTS_READ))]
Writer = Annotated[Principal, Depends(require(Scope.COMPONENTS_WRITE))]
CatalogReader = Annotated[Principal, Depends(require(Scope.CATALOG_READ))]


@router.get("/component-types")
def list_component_types(conn: Conn, _: CatalogReader) -> list[ComponentType]:
    """Every component type (a short, fixed catalogue)."""
    return components.list_component_types(conn)


@router.post("/batches", status_code=status.HTTP_201_CREATED)
def create_batch(body: BatchCreate, conn: Conn, _: Writer) -> Batch:
    """Register a supplier's production lot."""
    return components.create_batch(conn, **body.model_dump())


@router.get("/batches")
def list_batches(conn: Conn, _: Reader, page: Paging, supplier_id: UUID | None = None) -> Page[Batch]:
    """Batches, newest production first."""
    return components.list_batches(conn, page=page, supplier_id=supplier_id)


@router.get("/batches/{batch_id}")
def get_batch(batch_id: UUID, conn: Conn, _: Reader) -> Batch:
    """One batch."""
    return components.get_batch(conn, batch_id=batch_id)


@router.post("/components", status_code=status.HTTP_201_CREATED)
def create_component(body: ComponentCreate, conn: Conn, _: Writer) -> Component:
    """Register a component by serial."""
    return components.create_component(conn, **body.model_dump())


@router.get("/components")
def list_components(conn: Conn, _: Reader, page: Paging, batch_id: UUID | None = None) -> Page[Component]:
    """Components by serial, optionally of one batch."""
    return components.list_components(conn, page=page, batch_id=batch_id)


@router.get("/components/{component_id}")
def get_component(component_id: UUID, conn: Conn, _: Reader) -> Component:
    """One component."""
    return components.get_component(conn, component_id=component_id)
