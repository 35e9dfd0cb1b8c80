"""`liftbrain checkpoint keygen|create|export`: sign every unit's chain head with the operator's Ed25519 key.

Run `create` periodically (cron, a systemd timer) where the private key lives; export each checkpoint to
storage the database's administrators cannot rewrite. The API verifies chains against the latest checkpoint
when LIFTBRAIN_CHECKPOINT_PUBLIC_KEY holds the key's public half.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
from pathlib import Path
from typing import Any

from cli.database import database_url
from models.db import connect
from models.lifecycle import checkpoints
from runtime.errors import OperatorError
from runtime.settings import Settings

__all__ = ["add_parser"]

log = logging.getLogger("liftbrain")


def _keygen(args: argparse.Namespace, _settings: Settings) -> int:
    path: Path = args.out
    if path.exists():
        raise OperatorError(f"{path} exists; refusing to overwrite a signing key")
    pem = checkpoints.new_private_key()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(pem)
    public = checkpoints.public_key_bytes(checkpoints.load_private_key(pem)).hex()
    log.info("wrote the signing key to %s; set LIFTBRAIN_CHECKPOINT_PUBLIC_KEY=%s for the API", path, public)
    print(public)
    return 0


def _create(args: argparse.Namespace, settings: Settings) -> int:
    try:
        key = checkpoints.load_private_key(Path(args.key).read_bytes())
    except (OSError, ValueError, TypeError) as exc:
        raise OperatorError(f"{args.key}: not a readable Ed25519 PEM key ({exc})") from exc
    with connect(database_url(settings)) as conn:
        checkpoint = checkpoints.create_checkpoint(conn, signing_key=key)
        conn.commit()
    log.info("signed checkpoint %s", checkpoint.id)
    print(json.dumps(checkpoint.model_dump(mode="json")))
    return 0


def _export(_args: argparse.Namespace, settings: Settings) -> int:
    with connect(database_url(settings)) as conn:
        checkpoint = checkpoints.latest_checkpoint(conn)
    if checkpoint is None:
        raise OperatorError("no checkpoint yet; sign one with `liftbrain checkpoint create --key FILE`")
    print(json.dumps(checkpoint.model_dump(mode="json")))
    return 0


def add_parser(commands: argparse._SubParsersAction[Any]) -> None:
    """Register `checkpoint keygen|create|export`."""
    checkpoint = commands.add_parser("checkpoint", help="signed checkpoints of the lifecycle chains")
    sub = checkpoint.add_subparsers(dest="checkpoint_command", required=True, metavar="CHECKPOINT_COMMAND")
    keygen = sub.add_parser("keygen", help="write a new Ed25519 signing key (mode 0600); print its public key")
    keygen.add_argument("--out", type=Path, required=True)
    keygen.set_defaults(func=_keygen)
    create = sub.add_parser("create", help="sign every unit's chain head now; print the checkpoint as JSON")
    create.add_argument("--key", required=True, help="the signing key file (PEM)")
    create.set_defaults(func=_create)
    export = sub.add_parser("export", help="print the latest checkpoint as JSON")
    export.set_defaults(func=_export)
