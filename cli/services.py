"""Subcommands that run one liftbrain service against configured servers (what docker-compose runs)."""

from __future__ import annotations

import argparse
import logging
from typing import Any

from cli.devices import register_configured_identities
from cli.keys import bootstrap_admin_key
from models.migrate import migrate
from runtime.settings import Settings

__all__ = ["add_parsers"]

log = logging.getLogger("liftbrain")


def _migrate(_args: argparse.Namespace, settings: Settings) -> int:
    dsn = settings.require_database_url()
    applied = migrate(dsn)
    log.info("database is current (%d migrations applied now)", len(applied))
    # A deployment's first migrate also gives it its first admin key (docker-compose runs only this), and the
    # broker the identities of its services.
    bootstrap_admin_key(dsn, settings)
    register_configured_identities(dsn, settings)
    return 0


def _ingest(_args: argparse.Namespace, settings: Settings) -> int:
    from ingest.service import run

    return run(settings)


def _brain(_args: argparse.Namespace, settings: Settings) -> int:
    from brain.scheduler import run

    return run(settings)


def _api(args: argparse.Namespace, settings: Settings) -> int:
    from api.server import serve

    host = args.host or settings.api_host
    port = args.port or settings.api_port
    log.info("API listening on http://%s:%d (docs at /docs)", host, port)
    serve(settings, host=host, port=port)
    return 0


def _schemas(args: argparse.Namespace, _settings: Settings) -> int:
    from models.telemetry.contract_schemas import SCHEMA_DIR, render_schemas, write_schemas

    if args.check:
        stale = [name for name, text in render_schemas().items() if not (SCHEMA_DIR / name).is_file()
                 or (SCHEMA_DIR / name).read_text() != text]  # fmt: skip
        for name in stale:
            log.error("%s is out of date with models/telemetry/contract.py", name)
        return 1 if stale else 0
    for path in write_schemas():
        log.info("wrote %s", path)
    return 0


def add_parsers(commands: argparse._SubParsersAction[Any]) -> None:
    """Register `db migrate`, `contract schemas`, `ingest`, `brain` and `api`."""
    db = commands.add_parser("db", help="database administration")
    db_commands = db.add_subparsers(dest="db_command", required=True, metavar="DB_COMMAND")
    db_commands.add_parser(
        "migrate", help="apply pending schema migrations (and mint the first admin key)"
    ).set_defaults(func=_migrate)

    contract = commands.add_parser("contract", help="the MQTT telemetry contract")
    contract_commands = contract.add_subparsers(dest="contract_command", required=True, metavar="CONTRACT_COMMAND")
    schemas = contract_commands.add_parser(
        "schemas", help="write models/telemetry/schemas/*.json from models/telemetry/contract.py"
    )
    schemas.add_argument("--check", action="store_true", help="only check that the files are current")
    schemas.set_defaults(func=_schemas)

    commands.add_parser("ingest", help="run the MQTT ingest consumer").set_defaults(func=_ingest)
    commands.add_parser("brain", help="run the analytics scheduler").set_defaults(func=_brain)

    api = commands.add_parser("api", help="run the HTTP API")
    api.add_argument("--host", help="listen address (default LIFTBRAIN_API_HOST or 127.0.0.1)")
    api.add_argument("--port", type=int, help="listen port (default LIFTBRAIN_API_PORT or 8000)")
    api.set_defaults(func=_api)
