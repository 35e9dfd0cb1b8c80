"""MQTT credentials: issued once, hashed as the broker checks them, seen only by whom the unit belongs to."""

from __future__ import annotations

import base64
import hashlib
from datetime import timedelta

import pytest

from models.access import api_keys
from models.access.mqtt_credentials import (
    CredentialKind,
    issue_device_credential,
    issue_service_credential,
    list_credentials,
    mosquitto_hash,
    revoke_credential,
    rotate_credential,
)
from models.access.tenancy import Role, TenantScope
from models.db import Connection
from models.errors import BadRequest, NotFound
from models.queries import PageParams
from runtime.settings import Settings
from tests.support.fleet import Fleet

PLATFORM = TenantScope.internal()


def tenant_of(conn: Connection, fleet: Fleet, role: Role, *, other_side: bool = False) -> TenantScope:
    key = (fleet.other_keys if other_side else fleet.keys)[role]
    resolved = api_keys.resolve_key(conn, secret=key)
    assert resolved is not None
    return resolved.tenant


def test_the_hash_is_mosquittos_pbkdf2_sha512() -> None:
    salt = b"0123456789ab"
    _, kind, iterations, salt_b64, digest_b64 = mosquitto_hash("secret", salt=salt).split("$")
    assert (kind, iterations, base64.b64decode(salt_b64)) == ("7", "101", salt)
    assert base64.b64decode(digest_b64) == hashlib.pbkdf2_hmac("sha512", b"secret", salt, 101)


def test_the_password_is_returned_once_and_never_stored(conn: Connection, fleet: Fleet) -> None:
    issued = issue_device_credential(conn, tenant=PLATFORM, unit_id=fleet.unit_a1)
    stored = conn.execute("SELECT * FROM mqtt_credentials WHERE id = %s", (issued.credential.id,)).fetchone()
    assert stored is not None
    assert issued.password not in str(stored.values())
    assert issued.credential.username.startswith(f"{fleet.unit_a1}~")


def test_a_manufacturer_issues_for_its_units_and_sees_no_other(conn: Connection, fleet: Fleet) -> None:
    maker = tenant_of(conn, fleet, Role.MANUFACTURER)
    own = issue_device_credential(conn, tenant=maker, unit_id=fleet.unit_a1)
    with pytest.raises(NotFound):
        issue_device_credential(conn, tenant=maker, unit_id=fleet.unit_b1)
    theirs = issue_device_credential(conn, tenant=PLATFORM, unit_id=fleet.unit_b1)
    issue_service_credential(conn, kind=CredentialKind.INGEST, username="liftbrain-ingest")
    seen = list_credentials(conn, tenant=maker, page=PageParams()).items
    assert [c.id for c in seen] == [own.credential.id]
    with pytest.raises(NotFound):
        revoke_credential(conn, tenant=maker, credential_id=theirs.credential.id)
    assert len(list_credentials(conn, tenant=PLATFORM, page=PageParams()).items) == 3


def test_a_credential_rotates_once_and_a_service_identity_not_at_all(conn: Connection, fleet: Fleet) -> None:
    old = issue_device_credential(conn, tenant=PLATFORM, unit_id=fleet.unit_a1)
    new = rotate_credential(conn, tenant=PLATFORM, credential_id=old.credential.id, grace=timedelta(hours=1))
    assert new.credential.unit_id == fleet.unit_a1
    with pytest.raises(BadRequest):
        rotate_credential(conn, tenant=PLATFORM, credential_id=old.credential.id, grace=timedelta(hours=1))
    service = issue_service_credential(conn, kind=CredentialKind.INGEST, username="liftbrain-ingest")
    with pytest.raises(BadRequest):
        rotate_credential(conn, tenant=PLATFORM, credential_id=service.credential.id, grace=timedelta(hours=1))


def test_reissuing_a_service_identity_replaces_its_password(conn: Connection) -> None:
    first = issue_service_credential(conn, kind=CredentialKind.INGEST, username="liftbrain-ingest")
    second = issue_service_credential(conn, kind=CredentialKind.INGEST, username="liftbrain-ingest")
    assert first.credential.id == second.credential.id
    assert first.password != second.password
    with pytest.raises(BadRequest):
        issue_service_credential(conn, kind=CredentialKind.SIMULATOR, username="liftbrain-ingest")


def test_prod_refuses_an_anonymous_broker_url() -> None:
    with pytest.raises(ValueError, match="anonymous MQTT"):
        Settings(env="prod", mqtt_url="mqtt://broker:1883")
    assert Settings(env="prod", mqtt_url="mqtt://ingest:secret@broker:1883").mqtt_url
