"""`/sites`: where units are installed."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, status

from api.auth import Principal, Scope, require
from api.deps import Conn
from api.params import Paging
from models.queries import Page
from models.registry.sites import SITES, Site, SiteCreate

router = APIRouter(prefix="/sites", tags=["sites"])
Reader = Annotated[Principal, Depends(require(Scope.SITES_READ))]
Writer = Annotated[Principal, Depends(require(Scope.SITES_WRITE))]


@router.post("", status_code=status.HTTP_201_CREATED)
def create_site(body: SiteCreate, conn: Conn, _: Writer) -> Site:
    """Register a site."""
    return SITES.create(conn, body.model_dump())


@router.get("")
def list_sites(conn: Conn, _: Reader, page: Paging) -> Page[Site]:
    """Sites by city and name."""
    return SITES.list(conn, page=page)


@router.get("/{site_id}")
def get_site(site_id: UUID, conn: Conn, _: Reader) -> Site:
    """One site."""
    return SITES.get(conn, row_id=site_id)
