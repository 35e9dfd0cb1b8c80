"""Unit models (product lines): capacity, rated speed and drive type, per manufacturer."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, StrictFloat, StrictInt

from models.db import Connection
from models.queries import Page, PageParams, fetch_one, fetch_page
from models.sqlerrors import translate_errors
from models.types import Name

__all__ = [
    "DriveType",
    "UnitModel",
    "UnitModelCreate",
    "create_unit_model",
    "get_unit_model",
    "get_unit_model_by_name",
    "list_unit_models",
]

_COLUMNS = "id, manufacturer_id, name, capacity_kg, rated_speed_mps, drive_type, created_at"


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


def create_unit_model(
    conn: Connection,
    *,
    manufacturer_id: UUID,
    name: str,
    capacity_kg: int,
    rated_speed_mps: float,
    drive_type: DriveType | str,
) -> UnitModel:
    """Register a product line of a manufacturer; Conflict when it already has one of that name."""
    params = {
        "manufacturer_id": manufacturer_id,
        "name": name,
        "capacity_kg": capacity_kg,
        "rated_speed_mps": rated_speed_mps,
        "drive_type": str(drive_type),
    }
    query = (
        "INSERT INTO unit_models (manufacturer_id, name, capacity_kg, rated_speed_mps, drive_type)"
        f" VALUES (%(manufacturer_id)s, %(name)s, %(capacity_kg)s, %(rated_speed_mps)s, %(drive_type)s)"
        f" RETURNING {_COLUMNS}"
    )
    with translate_errors():
        return fetch_one(conn, query, params, model=UnitModel, what="unit model")


def get_unit_model(conn: Connection, *, model_id: UUID) -> UnitModel:
    """One product line, or NotFound."""
    query = f"SELECT {_COLUMNS} FROM unit_models WHERE id = %(id)s"
    return fetch_one(conn, query, {"id": model_id}, model=UnitModel, what="unit model")


def get_unit_model_by_name(conn: Connection, *, manufacturer_id: UUID, name: str) -> UnitModel:
    """The manufacturer's product line of this name, or NotFound."""
    query = f"SELECT {_COLUMNS} FROM unit_models WHERE manufacturer_id = %(m)s AND name = %(name)s"
    return fetch_one(conn, query, {"m": manufacturer_id, "name": name}, model=UnitModel, what="unit model")


def list_unit_models(conn: Connection, *, page: PageParams, manufacturer_id: UUID | None = None) -> Page[UnitModel]:
    """Product lines by manufacturer and name, optionally of one manufacturer."""
    query = (
        f"SELECT {_COLUMNS} FROM unit_models WHERE %(m)s::uuid IS NULL OR manufacturer_id = %(m)s"
        " ORDER BY manufacturer_id, name, id"
    )
    return fetch_page(conn, query, {"m": manufacturer_id}, model=UnitModel, page=page)
