"""API keys: bound to a role and an organisation, stored as a lookup prefix plus the SHA-256 of the secret.

`resolve_key` is the one producer of a caller's `TenantScope`. `ensure_bootstrap_admin_key` mints the first
admin key (for the platform organisation) when none exists, so a fresh install can be administered.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from psycopg import sql
from pydantic import BaseModel

from models.access.tenancy import ROLE_ORG_KIND, Role, TenantScope
from models.db import Connection
from models.errors import BadRequest, NotFound
from models.queries import Page, PageParams, fetch_one, fetch_page
from models.registry.organizations import OrgKind, create_organization, get_organization_by_name, organization_kind
from models.sqlerrors import translate_errors
from models.work.crews import crew_maintainer_id

__all__ = [
    "PLATFORM_ORGANIZATION",
    "ApiKey",
    "ResolvedKey",
    "create_api_key",
    "ensure_bootstrap_admin_key",
    "list_api_keys",
    "resolve_key",
    "revoke_api_key",
]

KEY_PREFIX = "lb_"
# The stored, non-secret part that finds the row; the rest of the key is only ever hashed.
LOOKUP_LENGTH = 12
# 32 random bytes: far beyond guessing, and a plain SHA-256 suffices for a secret of this entropy.
SECRET_BYTES = 32
# A key set by the operator (LIFTBRAIN_ADMIN_KEY) must not be guessable: 24 characters is ~140 bits when random.
MIN_CONFIGURED_KEY_LENGTH = 24
PLATFORM_ORGANIZATION = "liftbrain platform"
# Two processes bootstrapping at once must not both mint an admin key.
BOOTSTRAP_LOCK_KEY = 0x11F7B8A2

_COLUMNS = sql.SQL("id, prefix, name, role, organization_id, crew_id, created_at, revoked_at")


class ApiKey(BaseModel):
    """A stored key (never its secret)."""

    id: UUID
    prefix: str
    name: str
    role: str
    organization_id: UUID
    crew_id: UUID | None
    created_at: datetime
    revoked_at: datetime | None


@dataclass(frozen=True)
class ResolvedKey:
    """Who is calling: the key, its role, and the units it may see."""

    key_id: UUID
    role: Role
    organization_id: UUID
    crew_id: UUID | None
    tenant: TenantScope


def _hash(secret: str) -> bytes:
    return hashlib.sha256(secret.encode()).digest()


def create_api_key(
    conn: Connection,
    *,
    name: str,
    role: Role,
    organization_id: UUID,
    crew_id: UUID | None = None,
    secret: str | None = None,
) -> tuple[ApiKey, str]:
    """Mint a key for a role in an organisation; returns the stored key and its secret (shown once)."""
    kind = organization_kind(conn, organization_id=organization_id)
    if kind is None:
        raise BadRequest("no such organization")
    wanted = ROLE_ORG_KIND[role]
    if wanted is not None and kind != wanted:
        raise BadRequest(f"a {role} key belongs to an organisation of kind {wanted}, not {kind}")
    if (role is Role.CREW) != (crew_id is not None):
        raise BadRequest("a crew key needs a crew, and only a crew key has one")
    if crew_id is not None and crew_maintainer_id(conn, crew_id=crew_id) != organization_id:
        raise BadRequest("no such crew in this organisation")
    if secret is None:
        secret = KEY_PREFIX + secrets.token_urlsafe(SECRET_BYTES)
    elif len(secret) < MIN_CONFIGURED_KEY_LENGTH:
        raise BadRequest(f"a configured key must be at least {MIN_CONFIGURED_KEY_LENGTH} characters")
    query = sql.SQL(
        "INSERT INTO api_keys (prefix, secret_hash, name, role, organization_id, crew_id)"
        " VALUES (%(prefix)s, %(hash)s, %(name)s, %(role)s, %(org)s, %(crew)s) RETURNING {}"
    ).format(_COLUMNS)
    params = {
        "prefix": secret[:LOOKUP_LENGTH],
        "hash": _hash(secret),
        "name": name,
        "role": str(role),
        "org": organization_id,
        "crew": crew_id,
    }
    with translate_errors():
        key = fetch_one(conn, query, params, model=ApiKey, what="API key")
    return key, secret


def ensure_bootstrap_admin_key(conn: Connection, *, secret: str | None = None) -> str | None:
    """Mint the first admin key (platform organisation) when no active admin key exists; its secret, else None."""
    conn.execute("SELECT pg_advisory_xact_lock(%s)", (BOOTSTRAP_LOCK_KEY,))
    exists = conn.execute("SELECT 1 FROM api_keys WHERE role = 'admin' AND revoked_at IS NULL LIMIT 1").fetchone()
    if exists is not None:
        return None
    try:
        platform = get_organization_by_name(conn, name=PLATFORM_ORGANIZATION)
    except NotFound:
        platform = create_organization(conn, name=PLATFORM_ORGANIZATION, kind=OrgKind.PLATFORM)
    _, minted = create_api_key(
        conn, name="bootstrap admin", role=Role.ADMIN, organization_id=platform.id, secret=secret
    )
    return minted


def resolve_key(conn: Connection, *, secret: str) -> ResolvedKey | None:
    """The active key with this secret, or None (unknown, revoked, or of a role this version does not know)."""
    row = conn.execute(
        "SELECT id, secret_hash, role, organization_id, crew_id FROM api_keys"
        " WHERE prefix = %(prefix)s AND revoked_at IS NULL",
        {"prefix": secret[:LOOKUP_LENGTH]},
    ).fetchone()
    if row is None or not hmac.compare_digest(bytes(row["secret_hash"]), _hash(secret)):  # type: ignore[call-overload]
        return None
    try:
        role = Role(str(row["role"]))
    except ValueError:
        return None
    key_id, org_id, crew_id = row["id"], row["organization_id"], row["crew_id"]
    assert isinstance(key_id, UUID)
    assert isinstance(org_id, UUID)
    assert crew_id is None or isinstance(crew_id, UUID)
    tenant = TenantScope._issue(role, org_id, crew_id)
    return ResolvedKey(key_id=key_id, role=role, organization_id=org_id, crew_id=crew_id, tenant=tenant)


def list_api_keys(conn: Connection, *, page: PageParams, organization_id: UUID | None = None) -> Page[ApiKey]:
    """Keys (without secrets), newest first, optionally of one organisation."""
    query = sql.SQL(
        "SELECT {} FROM api_keys WHERE %(org)s::uuid IS NULL OR organization_id = %(org)s ORDER BY created_at DESC, id"
    ).format(_COLUMNS)
    return fetch_page(conn, query, {"org": organization_id}, model=ApiKey, page=page)


def revoke_api_key(conn: Connection, *, key_id: UUID) -> ApiKey:
    """Revoke a key now (idempotent); NotFound when there is no such key."""
    query = sql.SQL(
        "UPDATE api_keys SET revoked_at = coalesce(revoked_at, now()) WHERE id = %(id)s RETURNING {}"
    ).format(_COLUMNS)
    return fetch_one(conn, query, {"id": key_id}, model=ApiKey, what="API key")
