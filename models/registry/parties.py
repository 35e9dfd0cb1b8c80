"""Manufacturers and suppliers: the named parties of the supply chain, each optionally acting through an
organisation whose API keys speak for it (a manufacturer's quality team, a supplier's portal)."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from pydantic import BaseModel, ConfigDict

from models.catalogue import Catalogue
from models.types import Name

__all__ = ["MANUFACTURERS", "SUPPLIERS", "Manufacturer", "PartyCreate", "StoredParty", "Supplier"]

_COLUMNS = ("id", "name", "organization_id", "created_at")


class PartyCreate(BaseModel):
    """A new manufacturer or supplier."""

    model_config = ConfigDict(extra="forbid")
    name: Name
    organization_id: UUID | None = None


class StoredParty(PartyCreate):
    """A stored party: the fields every manufacturer and supplier row has."""

    model_config = ConfigDict(extra="ignore")
    id: UUID
    created_at: datetime


class Manufacturer(StoredParty):
    """A stored manufacturer: who makes units."""


class Supplier(StoredParty):
    """A stored supplier: who produces component batches."""


MANUFACTURERS = Catalogue(
    table="manufacturers",
    columns=_COLUMNS,
    model=Manufacturer,
    what="manufacturer",
    order_by=("name",),
    shared_because="a make's name is public: every unit, part and quality report names it",
)
SUPPLIERS = Catalogue(
    table="suppliers",
    columns=_COLUMNS,
    model=Supplier,
    what="supplier",
    order_by=("name",),
    shared_because="a supplier's name is printed on its parts; its field data is served per tenant elsewhere",
)
