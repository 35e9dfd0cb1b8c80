"""`liftbrain devices credentials ...`: per-device MQTT credentials; and the platform services' own identities.

A credential's password is shown once, in the provisioning output (CSV or JSON lines a factory can flash);
the database keeps only the broker's hash. The brain's broker_auth job puts changes on the broker within
seconds (embedded stack), so a revoked device is disconnected without restarting anything.
"""

from __future__ import annotations

import argparse
import csv
import json
import logging
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO, Any
from uuid import UUID

from brain.jobs.broker_auth import write_auth_files
from cli.database import database_url
from models.access.mqtt_credentials import (
    CredentialKind,
    IssuedCredential,
    active_identities,
    issue_device_credential,
    issue_service_credential,
    list_credentials,
    render_broker_auth,
    revoke_credential,
    rotate_credential,
)
from models.access.tenancy import TenantScope
from models.db import connect
from models.errors import DomainError
from models.queries import MAX_LIMIT, PageParams
from runtime.errors import OperatorError
from runtime.settings import Settings

__all__ = ["ServiceIdentity", "add_parser", "issue_embedded_identities", "register_configured_identities"]

log = logging.getLogger("liftbrain")

PLATFORM = TenantScope.internal()
SIMULATOR_USERNAME = "liftbrain-simulator"
PROVISIONING_FIELDS = ("unit_id", "username", "password", "client_id", "topic_prefix")


@dataclass(frozen=True)
class ServiceIdentity:
    """A platform service's MQTT username and password."""

    username: str
    password: str


def _service_usernames(settings: Settings) -> dict[CredentialKind, str]:
    """Each service's MQTT username: ingest's is its client id (the broker binds the two)."""
    return {CredentialKind.INGEST: settings.ingest_client_id, CredentialKind.SIMULATOR: SIMULATOR_USERNAME}


def _register(
    dsn: str, settings: Settings, passwords: Mapping[CredentialKind, str | None], auth_dir: Path | None
) -> dict[CredentialKind, ServiceIdentity]:
    usernames = _service_usernames(settings)
    identities: dict[CredentialKind, ServiceIdentity] = {}
    with connect(dsn) as conn:
        for kind, password in passwords.items():
            issued = issue_service_credential(conn, kind=kind, username=usernames[kind], password=password)
            identities[kind] = ServiceIdentity(usernames[kind], issued.password)
        current = active_identities(conn, now=datetime.now(UTC))
        conn.commit()
    if auth_dir is not None:
        write_auth_files(auth_dir, render_broker_auth(current, topic_prefix=settings.mqtt_topic_prefix))
    return identities


def issue_embedded_identities(dsn: str, settings: Settings, auth_dir: Path) -> dict[CredentialKind, ServiceIdentity]:
    """Fresh identities for ingest and the simulator, and the broker's files written before it starts."""
    return _register(dsn, settings, dict.fromkeys(_service_usernames(settings)), auth_dir)


def register_configured_identities(dsn: str, settings: Settings) -> None:
    """Register the service passwords an operator configured, and write the broker's files where configured."""
    configured = {CredentialKind.INGEST: settings.mqtt_ingest_password,
                  CredentialKind.SIMULATOR: settings.mqtt_simulator_password}  # fmt: skip
    chosen = {kind: password for kind, password in configured.items() if password}
    if chosen or settings.mqtt_auth_dir is not None:
        _register(dsn, settings, chosen, settings.mqtt_auth_dir)
        log.info("MQTT identities registered: %s", ", ".join(str(kind) for kind in chosen) or "none configured")


def _write_provisioning(rows: Iterable[IssuedCredential], *, fmt: str, prefix: str, out: IO[str]) -> int:
    records = [
        {"unit_id": i.credential.unit_id, "username": i.credential.username, "password": i.password,
         "client_id": i.credential.username, "topic_prefix": prefix}
        for i in rows
    ]  # fmt: skip
    if fmt == "csv":
        writer = csv.DictWriter(out, fieldnames=PROVISIONING_FIELDS)
        writer.writeheader()
        writer.writerows(records)
    else:
        for record in records:
            out.write(json.dumps(record) + "\n")
    return len(records)


def _unit_ids(args: argparse.Namespace) -> list[str]:
    ids = list(args.unit or [])
    if args.units_file:
        ids += [line.strip() for line in Path(args.units_file).read_text().splitlines() if line.strip()]
    if not ids:
        raise OperatorError("name units with --unit ID (repeatable) or --units-file FILE (one id per line)")
    return ids


def _create(args: argparse.Namespace, settings: Settings) -> int:
    unit_ids = _unit_ids(args)
    with connect(database_url(settings)) as conn:
        try:
            issued = [issue_device_credential(conn, tenant=PLATFORM, unit_id=unit_id) for unit_id in unit_ids]
        except DomainError as exc:
            raise OperatorError(f"{exc.detail}; nothing was issued") from exc
        conn.commit()
    out: IO[str] = open(args.output, "w", newline="") if args.output else sys.stdout  # noqa: SIM115
    try:
        count = _write_provisioning(issued, fmt=args.format, prefix=settings.mqtt_topic_prefix, out=out)
    finally:
        if args.output:
            out.close()
            Path(args.output).chmod(0o600)
    log.info("issued %d device credential(s)%s", count, f" into {args.output}" if args.output else "")
    return 0


def _list(args: argparse.Namespace, settings: Settings) -> int:
    with connect(database_url(settings)) as conn:
        page = list_credentials(conn, tenant=PLATFORM, unit_id=args.unit, page=PageParams(limit=MAX_LIMIT))
    for c in page.items:
        state = "revoked" if c.revoked_at else f"expires {c.expires_at:%Y-%m-%d %H:%M}Z" if c.expires_at else "active"
        print(f"{c.id}  {c.kind:<9}  {c.username:<40}  {state}")
    return 0


def _rotate(args: argparse.Namespace, settings: Settings) -> int:
    grace = timedelta(hours=args.grace_hours if args.grace_hours is not None else settings.mqtt_rotation_grace_hours)
    with connect(database_url(settings)) as conn:
        try:
            issued = rotate_credential(conn, tenant=PLATFORM, credential_id=args.id, grace=grace)
        except DomainError as exc:
            raise OperatorError(exc.detail) from exc
        conn.commit()
    log.info("rotated %s: the old credential stays valid for %s", args.id, grace)
    _write_provisioning([issued], fmt=args.format, prefix=settings.mqtt_topic_prefix, out=sys.stdout)
    return 0


def _revoke(args: argparse.Namespace, settings: Settings) -> int:
    with connect(database_url(settings)) as conn:
        try:
            revoked = revoke_credential(conn, tenant=PLATFORM, credential_id=args.id)
        except DomainError as exc:
            raise OperatorError(exc.detail) from exc
        conn.commit()
    log.info("revoked %s (%s); the broker drops it at its next reload", revoked.id, revoked.username)
    return 0


def add_parser(commands: argparse._SubParsersAction[Any]) -> None:
    """Register `devices credentials create|list|rotate|revoke`."""
    devices = commands.add_parser("devices", help="device identities on the MQTT broker")
    device_commands = devices.add_subparsers(dest="devices_command", required=True, metavar="DEVICES_COMMAND")
    credentials = device_commands.add_parser("credentials", help="per-device MQTT credentials", description=__doc__)
    actions = credentials.add_subparsers(dest="credentials_command", required=True, metavar="ACTION")

    create = actions.add_parser("create", help="issue credentials and print a provisioning file (passwords once)")
    create.add_argument("--unit", action="append", metavar="ID", help="a unit id (repeatable)")
    create.add_argument("--units-file", metavar="FILE", help="a file of unit ids, one per line (fleet provisioning)")
    create.add_argument("--format", choices=["csv", "jsonl"], default="csv", help="provisioning format (csv)")
    create.add_argument("--output", metavar="FILE", help="write there (mode 0600) instead of standard output")
    create.set_defaults(func=_create)

    listing = actions.add_parser("list", help="credentials (never their passwords)")
    listing.add_argument("--unit", metavar="ID", help="only this unit's")
    listing.set_defaults(func=_list)

    rotate = actions.add_parser("rotate", help="issue a successor; the old one stays valid for a grace period")
    rotate.add_argument("id", type=UUID, help="the credential's id (see list)")
    rotate.add_argument("--grace-hours", type=float, help="how long the old one stays valid (default 168)")
    rotate.add_argument("--format", choices=["csv", "jsonl"], default="csv", help="provisioning format (csv)")
    rotate.set_defaults(func=_rotate)

    revoke = actions.add_parser("revoke", help="revoke now; a connected device is disconnected within seconds")
    revoke.add_argument("id", type=UUID, help="the credential's id (see list)")
    revoke.set_defaults(func=_revoke)
