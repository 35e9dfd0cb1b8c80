"""API-key authentication and scope checks: roles map to `resource:action` scopes, declared per route.

A key arrives as `Authorization: Bearer <key>` or `X-API-Key: <key>`. No key or an unknown one: 401. A valid
key whose role lacks the scope: 403. The key's `TenantScope` then decides which units exist for it (404 for
the rest). A new role is a new entry in ROLE_SCOPES (and in models.tenancy); routes do not change.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated
from uuid import UUID

from fastapi import Depends, Security
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer

from api.deps import Conn
from models import api_keys
from models.db import Connection
from models.errors import Forbidden, Unauthorized
from models.tenancy import Role, TenantScope

__all__ = ["ROLE_SCOPES", "Principal", "Scope", "principal_for_key", "require"]

# Generated keys are ~50 characters; anything much longer is not a key and is not worth a lookup.
MAX_KEY_LENGTH = 256


class Scope(StrEnum):
    """What a key may do, as `resource:action`."""

    ORGANIZATIONS_READ = "organizations:read"
    ORGANIZATIONS_WRITE = "organizations:write"
    CATALOG_READ = "catalog:read"
    CATALOG_WRITE = "catalog:write"
    COMPONENTS_READ = "components:read"
    COMPONENTS_WRITE = "components:write"
    SITES_READ = "sites:read"
    SITES_WRITE = "sites:write"
    UNITS_READ = "units:read"
    UNITS_WRITE = "units:write"
    LIFECYCLE_READ = "lifecycle:read"
    LIFECYCLE_WRITE = "lifecycle:write"
    TELEMETRY_READ = "telemetry:read"
    TELEMETRY_PUBLISH = "telemetry:publish"
    TRACEABILITY_READ = "traceability:read"
    CONTRACTS_READ = "contracts:read"
    CONTRACTS_WRITE = "contracts:write"
    CREWS_READ = "crews:read"
    CREWS_WRITE = "crews:write"
    WORK_ORDERS_READ = "work_orders:read"
    WORK_ORDERS_CREATE = "work_orders:create"
    WORK_ORDERS_UPDATE = "work_orders:update"
    API_KEYS_ADMIN = "api_keys:admin"


_FIELD_READ = frozenset(
    {Scope.CATALOG_READ, Scope.UNITS_READ, Scope.LIFECYCLE_READ, Scope.LIFECYCLE_WRITE, Scope.TELEMETRY_READ}
)
ROLE_SCOPES: dict[Role, frozenset[Scope]] = {
    Role.ADMIN: frozenset(Scope) - {Scope.TELEMETRY_PUBLISH},
    Role.MANUFACTURER: _FIELD_READ | {Scope.UNITS_WRITE, Scope.COMPONENTS_READ, Scope.TRACEABILITY_READ},
    Role.MAINTAINER: _FIELD_READ
    | {
        Scope.TRACEABILITY_READ,
        Scope.CONTRACTS_READ,
        Scope.CREWS_READ,
        Scope.CREWS_WRITE,
        Scope.WORK_ORDERS_READ,
        Scope.WORK_ORDERS_CREATE,
        Scope.WORK_ORDERS_UPDATE,
    },
    Role.CREW: _FIELD_READ | {Scope.CREWS_READ, Scope.WORK_ORDERS_READ, Scope.WORK_ORDERS_UPDATE},
    Role.DEVICE: frozenset({Scope.TELEMETRY_PUBLISH}),
}


@dataclass(frozen=True)
class Principal:
    """The caller: its key, role, organisation, and the units it may see."""

    key_id: UUID
    role: Role
    organization_id: UUID
    crew_id: UUID | None
    tenant: TenantScope

    @property
    def scopes(self) -> frozenset[Scope]:
        """What the caller's role may do."""
        return ROLE_SCOPES[self.role]

    def ensure(self, scope: Scope) -> None:
        """Raise Forbidden unless the caller's role grants `scope`."""
        if scope not in self.scopes:
            raise Forbidden(f"a {self.role} key may not do this (needs {scope})")

    @property
    def actor(self) -> str:
        """How the caller is named in lifecycle records."""
        return f"{self.role}:{self.key_id}"


_bearer = HTTPBearer(auto_error=False, description="`Authorization: Bearer <API key>`")
_header = APIKeyHeader(name="X-API-Key", auto_error=False, description="The API key, as an alternative header")


def authenticate(
    conn: Conn,
    bearer: Annotated[HTTPAuthorizationCredentials | None, Security(_bearer)],
    header: Annotated[str | None, Security(_header)],
) -> Principal:
    """The caller behind the request's API key, or 401."""
    secret = bearer.credentials if bearer is not None else header
    if not secret:
        raise Unauthorized("an API key is required: send `Authorization: Bearer <key>`")
    return principal_for_key(conn, secret)


def principal_for_key(conn: Connection, secret: str) -> Principal:
    """The caller an API key names, or 401: the one path from a key to a Principal (API requests and console)."""
    if len(secret) > MAX_KEY_LENGTH or not secret.isascii() or not secret.isprintable():
        raise Unauthorized("invalid API key")
    key = api_keys.resolve_key(conn, secret=secret)
    if key is None:
        raise Unauthorized("invalid or revoked API key")
    return Principal(
        key_id=key.key_id, role=key.role, organization_id=key.organization_id, crew_id=key.crew_id, tenant=key.scope
    )


def require(scope: Scope) -> Callable[[Principal], Principal]:
    """A dependency that authenticates the caller and checks its role grants `scope` (else 403)."""

    def check(principal: Annotated[Principal, Depends(authenticate)]) -> Principal:
        principal.ensure(scope)
        return principal

    return check
