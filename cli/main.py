"""The `liftbrain` console command: runs the services and manages the embedded local stack."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from pydantic import ValidationError

from cli import checkpoint, dead_letters, detect, devices, keys, services, simulate, up
from models.migrate import MigrationError
from runtime.errors import OperatorError
from runtime.logs import configure_logging
from runtime.settings import Settings

__all__ = ["main"]

log = logging.getLogger("liftbrain")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every subcommand."""
    parser = argparse.ArgumentParser(
        prog="liftbrain",
        description="liftbrain: MQTT elevator telemetry into TimescaleDB, fault detection and the lifecycle "
        "record. Configuration comes from LIFTBRAIN_* environment variables (see README).",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    up.add_parser(commands)
    services.add_parsers(commands)
    keys.add_parser(commands)
    devices.add_parser(commands)
    checkpoint.add_parser(commands)
    simulate.add_parser(commands)
    dead_letters.add_parser(commands)
    detect.add_parser(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `liftbrain` command."""
    args = build_parser().parse_args(argv)
    configure_logging(args.command, verbose=args.verbose)
    try:
        settings = Settings()
    except ValidationError as exc:
        log.error("invalid configuration: %s", exc)
        return 2
    try:
        return int(args.func(args, settings) or 0)
    except KeyboardInterrupt:
        return 130
    except (OperatorError, MigrationError) as exc:
        log.error("%s", exc)
        return 1


if __name__ == "__main__":
    sys.exit(main())
