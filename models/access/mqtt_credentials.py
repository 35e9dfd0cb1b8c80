"""MQTT identities: per-device credentials (a unit publishes only as itself) and the platform services' own.

The database keeps the broker's salted PBKDF2-SHA512 hash (mosquitto's `$7$` password-file format), never a
secret: a secret is returned once, when issued. The broker is configured from `active_identities` by
`render_broker_auth` (a password file and an ACL file); revoking or expiring a credential removes it there,
and a reloaded broker disconnects clients whose credential is gone without touching the others.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from uuid import UUID

from psycopg import sql
from pydantic import BaseModel

from models.access.tenancy import TenantScope, Visibility
from models.db import Connection
from models.errors import BadRequest
from models.queries import Page, PageParams, fetch_one, fetch_page
from models.registry.units import require_visible_unit

__all__ = [
    "ACL_FILE",
    "BROKER_LOG_FILE",
    "CREDENTIALS_FILE",
    "PID_FILE",
    "BrokerAuthFiles",
    "BrokerIdentity",
    "CredentialKind",
    "IssuedCredential",
    "MqttCredential",
    "active_identities",
    "identities_marker",
    "issue_device_credential",
    "issue_service_credential",
    "list_credentials",
    "mosquitto_hash",
    "render_broker_auth",
    "revoke_credential",
    "rotate_credential",
]

# The files of an auth directory: written by the brain's broker_auth job (and `liftbrain up` before the broker
# starts), named in the broker's configuration (stack/mosquitto.py); the pid tells the job whom to reload.
CREDENTIALS_FILE = "passwd"
ACL_FILE = "acl"
PID_FILE = "broker.pid"
# The embedded broker's notices (refused logins, taken client ids) beside its auth files, read by the brain.
BROKER_LOG_FILE = "broker.log"
# Mosquitto 2's password-file hash: PBKDF2-HMAC-SHA512 with its default 101 iterations and a 12-byte salt.
# The secrets are 256-bit random tokens, so the iteration count is not what protects them.
HASH_ITERATIONS = 101
SALT_BYTES = 12
SECRET_BYTES = 32
# An operator-chosen service password (docker-compose) must not be guessable: 24 random characters is ~140 bits.
MIN_CONFIGURED_PASSWORD_LENGTH = 24
# The part of a device username after the unit id tells its credentials apart during a rotation.
SUFFIX_BYTES = 3

_COLUMNS = sql.SQL("id, username, kind, unit_id, created_at, expires_at, revoked_at, replaced_by")


class CredentialKind(StrEnum):
    """Who an identity is: one unit's device, or a platform service."""

    DEVICE = "device"
    INGEST = "ingest"
    SIMULATOR = "simulator"


class MqttCredential(BaseModel):
    """A stored MQTT identity (never its secret)."""

    id: UUID
    username: str
    kind: CredentialKind
    unit_id: str | None
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None
    replaced_by: UUID | None


@dataclass(frozen=True)
class IssuedCredential:
    """A credential as issued: the stored row and its password, shown this once."""

    credential: MqttCredential
    password: str


@dataclass(frozen=True)
class BrokerIdentity:
    """What the broker needs of an active identity."""

    username: str
    kind: CredentialKind
    unit_id: str | None
    password_hash: str


@dataclass(frozen=True)
class BrokerAuthFiles:
    """The broker's password file and ACL file, as text."""

    passwords: str
    acl: str


def mosquitto_hash(password: str, *, salt: bytes | None = None) -> str:
    """The `$7$` PBKDF2-SHA512 hash mosquitto 2 checks a password against."""
    salt = salt if salt is not None else secrets.token_bytes(SALT_BYTES)
    digest = hashlib.pbkdf2_hmac("sha512", password.encode(), salt, HASH_ITERATIONS)
    return f"$7${HASH_ITERATIONS}${base64.b64encode(salt).decode()}${base64.b64encode(digest).decode()}"


def _insert(conn: Connection, *, username: str, kind: CredentialKind, unit_id: str | None) -> IssuedCredential:
    password = secrets.token_urlsafe(SECRET_BYTES)
    query = sql.SQL(
        "INSERT INTO mqtt_credentials (username, kind, unit_id, password_hash)"
        " VALUES (%(username)s, %(kind)s, %(unit)s, %(hash)s) RETURNING {}"
    ).format(_COLUMNS)
    params = {"username": username, "kind": str(kind), "unit": unit_id, "hash": mosquitto_hash(password)}
    return IssuedCredential(fetch_one(conn, query, params, model=MqttCredential, what="credential"), password)


def issue_device_credential(conn: Connection, *, tenant: TenantScope, unit_id: str) -> IssuedCredential:
    """A new credential for a unit's device (NotFound for a unit the tenant does not see)."""
    require_visible_unit(conn, tenant=tenant, unit_id=unit_id)
    username = f"{unit_id}~{secrets.token_hex(SUFFIX_BYTES)}"
    return _insert(conn, username=username, kind=CredentialKind.DEVICE, unit_id=unit_id)


def issue_service_credential(
    conn: Connection, *, kind: CredentialKind, username: str, password: str | None = None
) -> IssuedCredential:
    """A password for a platform service's identity (fresh, or the operator's), replacing any earlier one."""
    if kind is CredentialKind.DEVICE:
        raise BadRequest("device credentials are issued per unit")
    if password is not None and len(password) < MIN_CONFIGURED_PASSWORD_LENGTH:
        raise BadRequest(f"a configured MQTT password must be at least {MIN_CONFIGURED_PASSWORD_LENGTH} characters")
    password = password or secrets.token_urlsafe(SECRET_BYTES)
    query = sql.SQL(
        "INSERT INTO mqtt_credentials (username, kind, password_hash) VALUES (%(username)s, %(kind)s, %(hash)s)"
        " ON CONFLICT (username) DO UPDATE SET password_hash = excluded.password_hash, revoked_at = NULL,"
        " expires_at = NULL WHERE mqtt_credentials.kind = excluded.kind"
        " RETURNING {}"
    ).format(_COLUMNS)
    params = {"username": username, "kind": str(kind), "hash": mosquitto_hash(password)}
    row = conn.execute(query, params).fetchone()
    if row is None:
        raise BadRequest(f"username {username!r} belongs to another kind of identity")
    return IssuedCredential(MqttCredential.model_validate(row), password)


def _visible(tenant: TenantScope) -> sql.Composable:
    """Device credentials of units the tenant sees; service identities only for the platform's own view."""
    services = sql.SQL("TRUE" if tenant.visibility is Visibility.ALL else "FALSE")
    return sql.SQL("(unit_id IS NULL AND {}) OR (unit_id IS NOT NULL AND {})").format(
        services, tenant.units_predicate("unit_id")
    )


def _get(conn: Connection, *, tenant: TenantScope, credential_id: UUID, lock: bool = False) -> MqttCredential:
    query = sql.SQL("SELECT {} FROM mqtt_credentials WHERE id = %(id)s AND ({}){}").format(
        _COLUMNS, _visible(tenant), sql.SQL(" FOR UPDATE" if lock else "")
    )
    return fetch_one(conn, query, {"id": credential_id}, model=MqttCredential, what="credential")


def list_credentials(
    conn: Connection, *, tenant: TenantScope, page: PageParams, unit_id: str | None = None
) -> Page[MqttCredential]:
    """Credentials the tenant sees, newest first, optionally of one unit."""
    query = sql.SQL(
        "SELECT {} FROM mqtt_credentials WHERE ({}) AND (%(unit)s::text IS NULL OR unit_id = %(unit)s)"
        " ORDER BY created_at DESC, id"
    ).format(_COLUMNS, _visible(tenant))
    return fetch_page(conn, query, {"unit": unit_id}, model=MqttCredential, page=page)


def rotate_credential(
    conn: Connection, *, tenant: TenantScope, credential_id: UUID, grace: timedelta
) -> IssuedCredential:
    """A new credential for the same device; the old one stays valid for `grace`, then lapses."""
    old = _get(conn, tenant=tenant, credential_id=credential_id, lock=True)
    if old.unit_id is None:
        raise BadRequest("service identities are re-issued by `liftbrain up`, not rotated")
    if old.revoked_at is not None or old.replaced_by is not None:
        raise BadRequest("this credential is revoked or already rotated")
    new = issue_device_credential(conn, tenant=tenant, unit_id=old.unit_id)
    conn.execute(
        "UPDATE mqtt_credentials SET replaced_by = %(new)s, expires_at = least(coalesce(expires_at, 'infinity'),"
        " now() + %(grace)s) WHERE id = %(old)s",
        {"new": new.credential.id, "grace": grace, "old": old.id},
    )
    return new


def revoke_credential(conn: Connection, *, tenant: TenantScope, credential_id: UUID) -> MqttCredential:
    """Revoke now (idempotent); the broker drops the device at its next reload."""
    _get(conn, tenant=tenant, credential_id=credential_id, lock=True)
    query = sql.SQL(
        "UPDATE mqtt_credentials SET revoked_at = coalesce(revoked_at, now()) WHERE id = %(id)s RETURNING {}"
    ).format(_COLUMNS)
    return fetch_one(conn, query, {"id": credential_id}, model=MqttCredential, what="credential")


def identities_marker(conn: Connection, *, now: datetime) -> tuple[object, ...]:
    """A cheap summary that changes whenever `active_identities(now)` may have: one aggregate, no rows.

    Device rows are never deleted, `revoked_at` is set once, and a rotation inserts the new credential, so
    counts of rows, revocations, expiry dates and lapsed credentials see every device change; service
    identities (a handful) are re-keyed in place, so their rows are summarised whole.
    """
    row = conn.execute(
        "SELECT count(*) AS total, count(revoked_at) AS revoked, count(expires_at) AS expiring,"
        " count(*) FILTER (WHERE expires_at <= %(now)s) AS lapsed,"
        " md5(string_agg(concat_ws(' ', username, password_hash, revoked_at, expires_at), ',' ORDER BY username)"
        "     FILTER (WHERE kind <> 'device')) AS services"
        " FROM mqtt_credentials",
        {"now": now},
    ).fetchone()
    assert row is not None
    return tuple(row.values())


def active_identities(conn: Connection, *, now: datetime) -> list[BrokerIdentity]:
    """Every identity the broker must accept at `now` (not revoked, not lapsed), by username."""
    rows = conn.execute(
        "SELECT username, kind, unit_id, password_hash FROM mqtt_credentials WHERE revoked_at IS NULL"
        " AND (expires_at IS NULL OR expires_at > %(now)s) ORDER BY username",
        {"now": now},
    ).fetchall()
    return [
        BrokerIdentity(str(r["username"]), CredentialKind(str(r["kind"])), _text(r["unit_id"]), str(r["password_hash"]))
        for r in rows
    ]


def _text(value: object) -> str | None:
    return None if value is None else str(value)


def render_broker_auth(identities: list[BrokerIdentity], *, topic_prefix: str) -> BrokerAuthFiles:
    """Mosquitto's password and ACL files: a device writes only its own unit's topics; ingest reads them all."""
    passwords = [f"{i.username}:{i.password_hash}" for i in identities]
    acl = ["# generated by liftbrain from the mqtt_credentials table; edits are overwritten"]
    for identity in identities:
        acl.append(f"\nuser {identity.username}")
        match identity.kind:
            case CredentialKind.DEVICE:
                acl += [f"topic write {topic_prefix}/{identity.unit_id}/{kind}" for kind in _DEVICE_TOPICS]
            case CredentialKind.INGEST:
                acl.append(f"topic read {topic_prefix}/#")
            case CredentialKind.SIMULATOR:
                acl.append(f"topic write {topic_prefix}/#")
    return BrokerAuthFiles(passwords="\n".join(passwords) + "\n", acl="\n".join(acl) + "\n")


_DEVICE_TOPICS = ("telemetry", "event", "status")
