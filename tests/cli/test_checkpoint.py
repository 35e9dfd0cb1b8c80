"""`liftbrain checkpoint keygen|create|export`: the operator's key signs every unit's chain head."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cli.main import main
from models.db import Connection
from models.lifecycle import checkpoints
from tests.support.fleet import Fleet


def test_keygen_then_create_signs_every_head(
    conn: Connection, fleet: Fleet, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LIFTBRAIN_DATABASE_URL", conn.info.dsn)
    key = tmp_path / "signing.pem"
    assert main(["checkpoint", "keygen", "--out", str(key)]) == 0
    public = capsys.readouterr().out.strip()
    assert key.stat().st_mode & 0o777 == 0o600
    assert main(["checkpoint", "keygen", "--out", str(key)]) == 1  # never overwrites a key
    capsys.readouterr()
    assert main(["checkpoint", "create", "--key", str(key)]) == 0
    created = json.loads(capsys.readouterr().out)
    assert created["public_key"] == public
    assert set(json.loads(created["payload"])["heads"]) == {"A1", "B1"}
    assert main(["checkpoint", "export"]) == 0
    assert json.loads(capsys.readouterr().out)["id"] == created["id"]
    latest = checkpoints.latest_checkpoint(conn)
    assert latest is not None
    assert checkpoints.checkpoint_head(latest, trusted_key=bytes.fromhex(public), unit_id="A1") is not None
