"""API-key authentication and scope checks: roles map to `resource:action` scopes, declared per route.

A key arrives as `Authorization: Bearer <key>` or `X-API-Key: <key>`. The gate (api/gate.py) resolves it
before the route runs, so no body is parsed and no connection is taken for an anonymous caller: no key or an
unknown one is a 401. A valid key whose role lacks the scope: 403. The key's `TenantScope` then decides which
units exist for it (404 for the rest). A new role is a new entry in ROLE_SCOPES (and in models.access.tenancy);
routes do not change.

Resolved keys are cached for KEY_CACHE_TTL_S. A revocation through this process takes effect at once; another
API process honours it within KEY_CACHE_TTL_S.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated
from uuid import UUID

from fastapi import Depends, Request, Security
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer

from api.deps import POOL_TIMEOUT_S
from models.access import api_keys
from models.access.tenancy import Role, TenantScope
from models.db import Pool
from models.errors import Forbidden, Unauthorized

__all__ = [
    "ROLE_SCOPES",
    "KeyCache",
    "Principal",
    "Scope",
    "authenticate",
    "checked_secret",
    "key_secret",
    "principal_for_secret",
    "require",
]

# Generated keys are ~50 characters; anything much longer is not a key and is not worth a lookup.
MAX_KEY_LENGTH = 256
# How long a resolved key is trusted without a lookup: saves a query per request, and bounds how long another
# API process keeps honouring a key revoked elsewhere.
KEY_CACHE_TTL_S = 10.0
# Bounds the cache's memory against a flood of distinct valid keys (entries expire anyway).
KEY_CACHE_MAX_ENTRIES = 10_000


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
    MAINTENANCE_READ = "maintenance:read"
    MAINTENANCE_MANAGE = "maintenance:manage"
    API_KEYS_ADMIN = "api_keys:admin"
    DEVICE_CREDENTIALS_MANAGE = "device_credentials:manage"
    DEAD_LETTERS_READ = "dead_letters:read"
    CHECKPOINTS_READ = "checkpoints:read"
    ALARMS_READ = "alarms:read"
    ALARMS_WRITE = "alarms:write"
    QUALITY_READ = "quality:read"
    QUALITY_WRITE = "quality:write"
    REGULATION_READ = "regulation:read"


_FIELD_READ = frozenset(
    {Scope.CATALOG_READ, Scope.UNITS_READ, Scope.LIFECYCLE_READ, Scope.LIFECYCLE_WRITE, Scope.TELEMETRY_READ}
    | {Scope.ALARMS_READ}
)
ROLE_SCOPES: dict[Role, frozenset[Scope]] = {
    Role.ADMIN: frozenset(Scope) - {Scope.TELEMETRY_PUBLISH},
    Role.MANUFACTURER: _FIELD_READ
    | {
        Scope.UNITS_WRITE,
        Scope.COMPONENTS_READ,
        Scope.TRACEABILITY_READ,
        Scope.QUALITY_READ,
        Scope.QUALITY_WRITE,
        Scope.DEVICE_CREDENTIALS_MANAGE,
    },
    Role.MAINTAINER: _FIELD_READ
    | {
        Scope.TRACEABILITY_READ,
        Scope.CONTRACTS_READ,
        Scope.CREWS_READ,
        Scope.CREWS_WRITE,
        Scope.WORK_ORDERS_READ,
        Scope.WORK_ORDERS_CREATE,
        Scope.WORK_ORDERS_UPDATE,
        Scope.ALARMS_WRITE,
        Scope.MAINTENANCE_READ,
        Scope.MAINTENANCE_MANAGE,
    },
    Role.CREW: _FIELD_READ
    | {Scope.CREWS_READ, Scope.WORK_ORDERS_READ, Scope.WORK_ORDERS_UPDATE, Scope.ALARMS_WRITE, Scope.MAINTENANCE_READ},
    Role.DEVICE: frozenset({Scope.TELEMETRY_PUBLISH}),
    # Its own batches only, and no unit or customer data beyond the affected units' sites (models.quality).
    Role.SUPPLIER: frozenset({Scope.CATALOG_READ, Scope.QUALITY_READ, Scope.QUALITY_WRITE}),
    # Read-only, across the units and maintainers of its region.
    Role.REGULATOR: frozenset(
        {Scope.CATALOG_READ, Scope.UNITS_READ, Scope.LIFECYCLE_READ, Scope.TELEMETRY_READ, Scope.QUALITY_READ}
        | {Scope.REGULATION_READ}
    ),
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


def key_secret(headers: dict[bytes, bytes]) -> str:
    """The API key a request presents, or Unauthorized when there is none or it cannot be a key."""
    raw = headers.get(b"x-api-key")
    bearer = headers.get(b"authorization")
    if bearer is not None:
        scheme, _, credentials = bearer.decode("latin-1").partition(" ")
        if scheme.lower() != "bearer":
            raise Unauthorized("an API key is required: send `Authorization: Bearer <key>`")
        secret = credentials.strip()
    else:
        secret = raw.decode("latin-1").strip() if raw is not None else ""
    if not secret:
        raise Unauthorized("an API key is required: send `Authorization: Bearer <key>`")
    return checked_secret(secret)


def checked_secret(secret: str) -> str:
    """`secret` when it can be an API key (printable ASCII, bounded), else Unauthorized."""
    if not secret or len(secret) > MAX_KEY_LENGTH or not secret.isascii() or not secret.isprintable():
        raise Unauthorized("invalid API key")
    return secret


def principal_for_secret(request: Request, secret: str) -> Principal:
    """The caller an API key names, through the app's key cache: the gate's own path (the console uses it)."""
    keys: KeyCache = request.app.state.keys
    return keys.resolve(request.app.state.pool, checked_secret(secret))


class KeyCache:
    """Resolved keys by the SHA-256 of their secret, for KEY_CACHE_TTL_S; revoked keys are forgotten at once."""

    def __init__(self) -> None:
        self._entries: dict[bytes, tuple[float, Principal]] = {}
        self._revoked: set[UUID] = set()
        self._lock = threading.Lock()

    def cached(self, secret: str) -> Principal | None:
        """The principal behind `secret` if resolved recently (no database work)."""
        digest = hashlib.sha256(secret.encode()).digest()
        with self._lock:
            entry = self._entries.get(digest)
            if entry is None or entry[0] < time.monotonic() or entry[1].key_id in self._revoked:
                return None
            return entry[1]

    def resolve(self, pool: Pool, secret: str) -> Principal:
        """The principal behind `secret`, from the cache or the database; Unauthorized when none is active."""
        found = self.cached(secret)
        if found is not None:
            return found
        with pool.connection(timeout=POOL_TIMEOUT_S) as conn:
            key = api_keys.resolve_key(conn, secret=secret)
        if key is None:
            raise Unauthorized("invalid or revoked API key")
        principal = Principal(
            key_id=key.key_id,
            role=key.role,
            organization_id=key.organization_id,
            crew_id=key.crew_id,
            tenant=key.tenant,
        )
        with self._lock:
            if key.key_id in self._revoked:
                raise Unauthorized("invalid or revoked API key")
            if len(self._entries) >= KEY_CACHE_MAX_ENTRIES:
                self._entries.clear()
            self._entries[hashlib.sha256(secret.encode()).digest()] = (time.monotonic() + KEY_CACHE_TTL_S, principal)
        return principal

    def revoked(self, key_id: UUID) -> None:
        """Forget a key revoked by this process: it stops working here at once."""
        with self._lock:
            self._revoked.add(key_id)
            self._entries = {d: e for d, e in self._entries.items() if e[1].key_id != key_id}


_bearer = HTTPBearer(auto_error=False, description="`Authorization: Bearer <API key>`")
_header = APIKeyHeader(name="X-API-Key", auto_error=False, description="The API key, as an alternative header")


def authenticate(
    request: Request,
    _bearer_doc: Annotated[HTTPAuthorizationCredentials | None, Security(_bearer)],
    _header_doc: Annotated[str | None, Security(_header)],
) -> Principal:
    """The caller the gate resolved for this request (the header parameters document the schemes), or 401."""
    principal = request.scope.get("state", {}).get("principal")
    if not isinstance(principal, Principal):
        raise Unauthorized("an API key is required: send `Authorization: Bearer <key>`")
    return principal


def require(scope: Scope) -> Callable[[Principal], Principal]:
    """A dependency that authenticates the caller and checks its role grants `scope` (else 403)."""

    def check(principal: Annotated[Principal, Depends(authenticate)]) -> Principal:
        principal.ensure(scope)
        return principal

    return check
