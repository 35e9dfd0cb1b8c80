"""Signed checkpoints of every unit's chain head: tamper evidence anchored outside the database.

The hash chain alone cannot tell a shortened chain (the newest record deleted) or a rewritten tail (a record
changed and every later hash recomputed) from an honest one: whoever can write the table can recompute it.
A checkpoint names each unit's head (seq and hash) at a moment, as canonical JSON signed with an Ed25519 key
the operator holds outside the database; the operator exports it (to a WORM bucket, a ticket, a notary).
Verifying a chain against the latest checkpoint signed by the operator's key, whose public half is
configured apart from the database, catches both tamperings: the signed head must still be in the chain.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from psycopg import sql
from pydantic import BaseModel, field_serializer

from models.db import Connection
from models.queries import fetch_one

__all__ = [
    "ChainHead",
    "Checkpoint",
    "checkpoint_head",
    "create_checkpoint",
    "latest_checkpoint",
    "load_private_key",
    "new_private_key",
    "public_key_bytes",
]

_COLUMNS = sql.SQL("id, created_at, public_key, payload, signature")


class ChainHead(BaseModel):
    """A unit's newest record as a checkpoint signed it."""

    seq: int
    hash: str


class Checkpoint(BaseModel):
    """A signed statement of every unit's chain head; `payload` is the signed canonical JSON."""

    id: int
    created_at: datetime
    public_key: bytes
    payload: bytes
    signature: bytes

    @field_serializer("public_key", "signature")
    def _hex(self, value: bytes) -> str:
        return value.hex()

    @field_serializer("payload")
    def _text(self, value: bytes) -> str:
        return value.decode()


def new_private_key() -> bytes:
    """A fresh Ed25519 private key as PKCS#8 PEM, for the operator to keep outside the database."""
    return Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def load_private_key(pem: bytes) -> Ed25519PrivateKey:
    """The Ed25519 key in a PEM file; ValueError when it is not one."""
    key = serialization.load_pem_private_key(pem, password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError("the checkpoint signing key must be an Ed25519 key")
    return key


def public_key_bytes(key: Ed25519PrivateKey) -> bytes:
    """The raw 32-byte public half of a signing key (what LIFTBRAIN_CHECKPOINT_PUBLIC_KEY holds, in hex)."""
    return key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def create_checkpoint(conn: Connection, *, signing_key: Ed25519PrivateKey) -> Checkpoint:
    """Sign the current head of every unit's chain and store the checkpoint (the caller commits)."""
    rows = conn.execute(
        "SELECT DISTINCT ON (unit_id) unit_id, seq, hash, now() AS at FROM lifecycle_records ORDER BY unit_id, seq DESC"
    ).fetchall()
    now = conn.execute("SELECT now() AS at").fetchone()
    assert now is not None
    heads = {str(row["unit_id"]): {"seq": row["seq"], "hash": bytes(row["hash"]).hex()} for row in rows}  # type: ignore[call-overload]
    document = {"created_at": str(now["at"]), "heads": heads}
    payload = json.dumps(document, sort_keys=True, separators=(",", ":")).encode()
    params = {"key": public_key_bytes(signing_key), "payload": payload, "signature": signing_key.sign(payload)}
    query = sql.SQL(
        "INSERT INTO chain_checkpoints (public_key, payload, signature)"
        " VALUES (%(key)s, %(payload)s, %(signature)s) RETURNING {}"
    ).format(_COLUMNS)
    return fetch_one(conn, query, params, model=Checkpoint, what="checkpoint")


def latest_checkpoint(conn: Connection) -> Checkpoint | None:
    """The newest checkpoint, or None before the first."""
    row = conn.execute(sql.SQL("SELECT {} FROM chain_checkpoints ORDER BY id DESC LIMIT 1").format(_COLUMNS)).fetchone()
    return None if row is None else Checkpoint.model_validate(row)


def checkpoint_head(checkpoint: Checkpoint, *, trusted_key: bytes, unit_id: str) -> ChainHead | None:
    """The unit's head as the checkpoint signed it (None: the unit had no record then).

    ValueError when the checkpoint was not signed by `trusted_key` (the operator's public key, configured
    outside the database), or its signature does not match its payload.
    """
    try:
        Ed25519PublicKey.from_public_bytes(trusted_key).verify(checkpoint.signature, checkpoint.payload)
    except (InvalidSignature, ValueError) as exc:
        raise ValueError(f"checkpoint {checkpoint.id} is not signed by the operator's key") from exc
    document: dict[str, Any] = json.loads(checkpoint.payload)
    head = document["heads"].get(unit_id)
    return None if head is None else ChainHead.model_validate(head)
