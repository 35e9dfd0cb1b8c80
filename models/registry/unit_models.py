"""Unit models (product lines): capacity, rated speed and drive type, per manufacturer."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, StrictFloat, StrictInt

from models.catalogue import Catalogue
from models.types import Name

__all__ = ["UNIT_MODELS", "DriveType", "UnitModel", "UnitModelCreate"]


class DriveType(StrEnum):
    """How the car is driven."""

    TRACTION_GEARED = "traction_geared"
    TRACTION_GEARLESS = "traction_gearless"
    HYDRAULIC = "hydraulic"
    MRL = "mrl"


class UnitModelCreate(BaseModel):
    """A new product line."""

    model_config = ConfigDict(extra="forbid")
    manufacturer_id: UUID
    name: Name
    capacity_kg: Annotated[StrictInt, Field(ge=100, le=20000)]
    rated_speed_mps: Annotated[StrictFloat | StrictInt, Field(gt=0, le=25, allow_inf_nan=False)]
    drive_type: DriveType


class UnitModel(UnitModelCreate):
    """A stored product line."""

    model_config = ConfigDict(extra="ignore")
    id: UUID
    rated_speed_mps: float
    created_at: datetime


UNIT_MODELS = Catalogue(
    table="unit_models",
    columns=("id", "manufacturer_id", "name", "capacity_kg", "rated_speed_mps", "drive_type", "created_at"),
    model=UnitModel,
    what="unit model",
    order_by=("manufacturer_id", "name"),
    shared_because="a product line's ratings are published in the manufacturer's catalogue",
)
