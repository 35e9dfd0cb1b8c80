"""Sites: where units are installed (the building's address)."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from pydantic import BaseModel, ConfigDict

from models.catalogue import Catalogue
from models.types import Name, Text

__all__ = ["SITES", "Site", "SiteCreate"]


class SiteCreate(BaseModel):
    """A new site."""

    model_config = ConfigDict(extra="forbid")
    name: Name
    address: Text | None = None
    city: Text | None = None
    region: Text | None = None  # the regulator whose organisation has this region oversees the site's units


class Site(SiteCreate):
    """A stored site."""

    model_config = ConfigDict(extra="ignore")
    id: UUID
    created_at: datetime


SITES = Catalogue(
    table="sites",
    columns=("id", "name", "address", "city", "region", "created_at"),
    model=Site,
    what="site",
    order_by=("city NULLS LAST", "name"),
    shared_because="a building's name and address are public; who maintains or owns its units is tenant data",
)
