"""`/units/{id}/mqtt-credentials` and `/mqtt-credentials`: a unit's device credentials (the password is shown
once, at issue or rotation); the admin and the unit's manufacturer issue, rotate and revoke them."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Request, status
from pydantic import BaseModel

from api.auth import Principal, Scope, require
from api.deps import Conn
from api.params import Paging, UnitIdPath
from models.access import mqtt_credentials
from models.access.mqtt_credentials import IssuedCredential, MqttCredential
from models.queries import Page
from runtime.settings import Settings

router = APIRouter(tags=["device identity"])
Manager = Annotated[Principal, Depends(require(Scope.DEVICE_CREDENTIALS_MANAGE))]


class IssuedDeviceCredential(BaseModel):
    """A credential and its password, which cannot be read again; the device connects with `client_id`."""

    credential: MqttCredential
    password: str
    client_id: str
    topic_prefix: str


def _issued(issued: IssuedCredential, settings: Settings) -> IssuedDeviceCredential:
    return IssuedDeviceCredential(
        credential=issued.credential,
        password=issued.password,
        client_id=issued.credential.username,
        topic_prefix=settings.mqtt_topic_prefix,
    )


@router.post("/units/{unit_id}/mqtt-credentials", status_code=status.HTTP_201_CREATED)
def issue_credential(unit_id: UnitIdPath, conn: Conn, caller: Manager, request: Request) -> IssuedDeviceCredential:
    """Issue a credential for the unit's device."""
    issued = mqtt_credentials.issue_device_credential(conn, tenant=caller.tenant, unit_id=unit_id)
    return _issued(issued, request.app.state.settings)


@router.get("/units/{unit_id}/mqtt-credentials")
def list_unit_credentials(unit_id: UnitIdPath, conn: Conn, caller: Manager, page: Paging) -> Page[MqttCredential]:
    """The unit's credentials (never their passwords), newest first."""
    return mqtt_credentials.list_credentials(conn, tenant=caller.tenant, unit_id=unit_id, page=page)


@router.post("/mqtt-credentials/{credential_id}/rotate", status_code=status.HTTP_201_CREATED)
def rotate_credential(credential_id: UUID, conn: Conn, caller: Manager, request: Request) -> IssuedDeviceCredential:
    """Issue a successor; the old credential stays valid for the configured grace period."""
    settings: Settings = request.app.state.settings
    grace = timedelta(hours=settings.mqtt_rotation_grace_hours)
    issued = mqtt_credentials.rotate_credential(conn, tenant=caller.tenant, credential_id=credential_id, grace=grace)
    return _issued(issued, settings)


@router.delete("/mqtt-credentials/{credential_id}")
def revoke_credential(credential_id: UUID, conn: Conn, caller: Manager) -> MqttCredential:
    """Revoke now (idempotent): the broker disconnects the device within seconds."""
    return mqtt_credentials.revoke_credential(conn, tenant=caller.tenant, credential_id=credential_id)
