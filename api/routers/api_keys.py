"""`/api-keys`: mint, list and revoke keys (the secret is shown once, at creation)."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Request, status
from pydantic import BaseModel, ConfigDict

from api.auth import Principal, Scope, require
from api.deps import Conn
from api.params import Paging
from models.access import api_keys
from models.access.api_keys import ApiKey
from models.access.tenancy import Role
from models.queries import Page
from models.types import Name

router = APIRouter(prefix="/api-keys", tags=["api keys"])
Admin = Annotated[Principal, Depends(require(Scope.API_KEYS_ADMIN))]


class KeyCreate(BaseModel):
    """A new key for a role in an organisation (a crew key also names its crew)."""

    model_config = ConfigDict(extra="forbid")
    name: Name
    role: Role
    organization_id: UUID
    crew_id: UUID | None = None


class CreatedKey(BaseModel):
    """The stored key and its secret; the secret cannot be read again."""

    key: ApiKey
    secret: str


@router.post("", status_code=status.HTTP_201_CREATED)
def create_api_key(body: KeyCreate, conn: Conn, _: Admin) -> CreatedKey:
    """Mint a key."""
    key, secret = api_keys.create_api_key(conn, **body.model_dump())
    return CreatedKey(key=key, secret=secret)


@router.get("")
def list_api_keys(conn: Conn, _: Admin, page: Paging, organization_id: UUID | None = None) -> Page[ApiKey]:
    """Keys (never their secrets), newest first."""
    return api_keys.list_api_keys(conn, page=page, organization_id=organization_id)


@router.delete("/{key_id}")
def revoke_api_key(key_id: UUID, conn: Conn, _: Admin, request: Request) -> ApiKey:
    """Revoke a key (idempotent); it stops working at once."""
    key = api_keys.revoke_api_key(conn, key_id=key_id)
    request.app.state.keys.revoked(key.id)
    return key
