"""`liftbrain keys create`: mint API keys; and the bootstrap admin key `liftbrain up` prints on first start."""

from __future__ import annotations

import argparse
import logging
import sys
from typing import Any
from uuid import UUID

from cli.database import database_url
from models.access import api_keys
from models.access.tenancy import Role
from models.db import Connection, connect
from models.errors import DomainError, NotFound
from models.registry import organizations
from runtime.errors import OperatorError
from runtime.settings import Settings

__all__ = ["add_parser", "bootstrap_admin_key"]

log = logging.getLogger("liftbrain")


def bootstrap_admin_key(dsn: str, settings: Settings) -> None:
    """Mint the first admin key when none exists and print it once (LIFTBRAIN_ADMIN_KEY, if set, is that key
    and is not printed)."""
    with connect(dsn) as conn:
        secret = api_keys.ensure_bootstrap_admin_key(conn, secret=settings.admin_key)
        conn.commit()
    if secret is None:
        return
    if settings.admin_key is not None:
        log.info("registered the admin key from LIFTBRAIN_ADMIN_KEY")
        return
    url = f"http://{settings.api_host}:{settings.api_port}"
    banner = "=" * 78
    # Printed, not logged: it is shown once and log pipelines should not keep secrets.
    print(
        f"\n{banner}\n  liftbrain admin API key (shown once; store it now):\n\n    {secret}\n\n"
        f'  curl -H "Authorization: Bearer {secret}" {url}/units\n{banner}\n',
        file=sys.stderr,
        flush=True,
    )


def _organization_id(conn: Connection, org: str) -> UUID:
    """The organisation `org` names, by id or by name."""
    try:
        return UUID(org)
    except ValueError:
        pass
    try:
        return organizations.get_organization_by_name(conn, name=org).id
    except NotFound as exc:
        raise OperatorError(f"no organization named {org!r}") from exc


def _create(args: argparse.Namespace, settings: Settings) -> int:
    with connect(database_url(settings)) as conn:
        try:
            org_id = _organization_id(conn, args.org)
            key, secret = api_keys.create_api_key(
                conn, name=args.name or f"{args.role} key", role=Role(args.role), organization_id=org_id,
                crew_id=args.crew,
            )  # fmt: skip
        except DomainError as exc:
            raise OperatorError(exc.detail) from exc
        conn.commit()
    log.info("created %s key %s (prefix %s) for organization %s", key.role, key.id, key.prefix, org_id)
    print(secret)
    return 0


def add_parser(commands: argparse._SubParsersAction[Any]) -> None:
    """Register `keys create`."""
    keys = commands.add_parser("keys", help="manage API keys")
    key_commands = keys.add_subparsers(dest="keys_command", required=True, metavar="KEYS_COMMAND")
    create = key_commands.add_parser("create", help="mint an API key and print its secret (shown once)")
    create.add_argument("--role", required=True, choices=[str(role) for role in Role])
    create.add_argument("--org", required=True, help="the organization's id or name")
    create.add_argument("--crew", type=UUID, help="the crew (crew keys only)")
    create.add_argument("--name", help="a label for the key")
    create.set_defaults(func=_create)
