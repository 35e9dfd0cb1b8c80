"""`liftbrain devices credentials`: fleet provisioning files, listing without passwords, revocation; and the
service identities `db migrate` registers for docker-compose."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from cli.devices import register_configured_identities
from cli.main import main
from models.access.mqtt_credentials import CredentialKind, mosquitto_hash
from models.db import Connection
from runtime.settings import Settings
from tests.support.fleet import Fleet


def test_a_fleet_is_provisioned_from_a_file_of_unit_ids(
    database_url: str, fleet: Fleet, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LIFTBRAIN_DATABASE_URL", database_url)
    units = tmp_path / "units.txt"
    units.write_text(f"{fleet.unit_a1}\n\n{fleet.unit_b1}\n")
    out = tmp_path / "factory.jsonl"
    argv = ["devices", "credentials", "create", "--units-file", str(units), "--format", "jsonl", "--output", str(out)]
    assert main(argv) == 0
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["unit_id"] for r in rows] == [fleet.unit_a1, fleet.unit_b1]
    assert all(r["client_id"] == r["username"] and len(r["password"]) >= 40 for r in rows)
    assert out.stat().st_mode & 0o777 == 0o600
    capsys.readouterr()
    assert main(["devices", "credentials", "list"]) == 0
    listing = capsys.readouterr().out
    assert rows[0]["username"] in listing
    assert rows[0]["password"] not in listing


def test_an_unknown_unit_issues_nothing(
    database_url: str, fleet: Fleet, conn: Connection, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LIFTBRAIN_DATABASE_URL", database_url)
    assert main(["devices", "credentials", "create", "--unit", fleet.unit_a1, "--unit", "nope"]) == 1
    assert conn.execute("SELECT count(*) AS n FROM mqtt_credentials").fetchone() == {"n": 0}


def test_configured_service_passwords_are_registered_with_the_broker_files(
    database_url: str, conn: Connection, tmp_path: Path
) -> None:
    password = "p" * 32
    settings = Settings(database_url=database_url, mqtt_ingest_password=password, mqtt_auth_dir=tmp_path)
    register_configured_identities(database_url, settings)
    row = conn.execute(
        "SELECT kind, password_hash FROM mqtt_credentials WHERE username = 'liftbrain-ingest'"
    ).fetchone()
    assert row is not None
    assert row["kind"] == CredentialKind.INGEST
    salt = base64.b64decode(str(row["password_hash"]).split("$")[3])
    assert mosquitto_hash(password, salt=salt) == row["password_hash"]
    assert (tmp_path / "passwd").read_text() == f"liftbrain-ingest:{row['password_hash']}\n"
    assert "topic read lb/v1/#" in (tmp_path / "acl").read_text()
