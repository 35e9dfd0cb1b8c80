"""One router per resource; `ROUTERS` is what the app includes."""

from __future__ import annotations

from fastapi import APIRouter

from api.routers.alarms import router as alarms
from api.routers.api_keys import router as api_keys
from api.routers.checkpoints import router as checkpoints
from api.routers.components import router as components
from api.routers.contracts import router as contracts
from api.routers.crews import router as crews
from api.routers.dead_letters import router as dead_letters
from api.routers.lifecycle import router as lifecycle
from api.routers.maintenance import router as maintenance
from api.routers.manufacturers import router as manufacturers
from api.routers.mqtt_credentials import router as mqtt_credentials
from api.routers.organizations import router as organizations
from api.routers.quality import router as quality
from api.routers.quality_energy import router as quality_energy
from api.routers.quality_issues import router as quality_issues
from api.routers.regulation import router as regulation
from api.routers.sites import router as sites
from api.routers.suppliers import router as suppliers
from api.routers.telemetry import router as telemetry
from api.routers.traceability import router as traceability
from api.routers.unit_models import router as unit_models
from api.routers.units import router as units
from api.routers.work_orders import router as work_orders

__all__ = ["ROUTERS"]

ROUTERS: tuple[APIRouter, ...] = (
    organizations,
    manufacturers,
    suppliers,
    unit_models,
    components,
    sites,
    units,
    lifecycle,
    checkpoints,
    telemetry,
    traceability,
    contracts,
    crews,
    work_orders,
    alarms,
    maintenance,
    api_keys,
    dead_letters,
    quality,
    quality_issues,
    quality_energy,
    regulation,
    mqtt_credentials,
)
