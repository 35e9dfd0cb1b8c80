"""Signed checkpoints catch what the hash chain alone cannot: a chain cut short, or a tail rewritten with
every later hash recomputed."""

from __future__ import annotations

from datetime import timedelta

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from models.db import Connection
from models.lifecycle import checkpoints, ledger
from tests.support.fleet import FLEET_T0, PLATFORM, Fleet


@pytest.fixture
def signing_key() -> Ed25519PrivateKey:
    """The operator's key."""
    return checkpoints.load_private_key(checkpoints.new_private_key())


def _append(conn: Connection, unit_id: str, count: int) -> None:
    for n in range(1, count + 1):
        ledger.append_record(
            conn, tenant=PLATFORM, unit_id=unit_id, kind="inspection", occurred_at=FLEET_T0 + timedelta(days=n),
            data={"n": n}, actor="inspector",
        )  # fmt: skip


def _verify(conn: Connection, key: Ed25519PrivateKey | None) -> ledger.ChainReport:
    trusted = checkpoints.public_key_bytes(key) if key is not None else None
    return ledger.verify_chain(conn, tenant=PLATFORM, unit_id="A1", trusted_key=trusted)


def test_deleting_the_newest_record_breaks_the_signed_head(
    conn: Connection, fleet: Fleet, signing_key: Ed25519PrivateKey
) -> None:
    _append(conn, "A1", 3)
    checkpoint = checkpoints.create_checkpoint(conn, signing_key=signing_key)
    conn.execute("SET session_replication_role = replica")  # past the append-only trigger, as an intruder would
    conn.execute("DELETE FROM lifecycle_records WHERE unit_id = 'A1' AND seq = 4")
    assert _verify(conn, None).intact  # the chain alone cannot tell
    report = _verify(conn, signing_key)
    assert not report.intact
    assert report.checkpoint_id == checkpoint.id
    assert "ends at 3" in (report.reason or "")


def test_a_rewritten_tail_with_recomputed_hashes_is_caught(
    conn: Connection, fleet: Fleet, signing_key: Ed25519PrivateKey
) -> None:
    _append(conn, "A1", 3)
    checkpoints.create_checkpoint(conn, signing_key=signing_key)
    conn.execute("SET session_replication_role = replica")
    conn.execute("UPDATE lifecycle_records SET data = '{\"n\": 99}' WHERE unit_id = 'A1' AND seq = 2")
    for seq in (2, 3, 4):
        conn.execute(
            "UPDATE lifecycle_records r SET prev_hash = (SELECT p.hash FROM lifecycle_records p"
            " WHERE p.unit_id = r.unit_id AND p.seq = r.seq - 1) WHERE unit_id = 'A1' AND seq = %s",
            (seq,),
        )
        conn.execute(
            "UPDATE lifecycle_records r SET hash = lifecycle_record_hash(r) WHERE unit_id = 'A1' AND seq = %s", (seq,)
        )
    assert _verify(conn, None).intact
    report = _verify(conn, signing_key)
    assert not report.intact
    assert "rewritten" in (report.reason or "")


def test_records_after_the_checkpoint_keep_the_chain_intact(
    conn: Connection, fleet: Fleet, signing_key: Ed25519PrivateKey
) -> None:
    checkpoints.create_checkpoint(conn, signing_key=signing_key)
    _append(conn, "A1", 2)
    report = _verify(conn, signing_key)
    assert (report.intact, report.records) == (True, 3)


def test_a_checkpoint_not_signed_by_the_operator_is_refused(
    conn: Connection, fleet: Fleet, signing_key: Ed25519PrivateKey
) -> None:
    forger = checkpoints.load_private_key(checkpoints.new_private_key())
    checkpoints.create_checkpoint(conn, signing_key=forger)
    report = _verify(conn, signing_key)
    assert not report.intact
    assert "not signed by the operator's key" in (report.reason or "")
