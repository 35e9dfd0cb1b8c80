"""`liftbrain keys create` and the bootstrap admin key printed by `liftbrain up`."""

from __future__ import annotations

import pytest

from cli.keys import bootstrap_admin_key
from cli.main import main
from models.access import api_keys
from models.access.tenancy import Role
from models.db import connect
from models.registry import organizations
from runtime.settings import Settings


def test_bootstrap_key_is_printed_once_and_works(database_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    settings = Settings(database_url=database_url)
    bootstrap_admin_key(database_url, settings)
    first = capsys.readouterr().err
    bootstrap_admin_key(database_url, settings)
    assert capsys.readouterr().err == ""
    secret = next(line.strip() for line in first.splitlines() if line.strip().startswith("lb_"))
    assert "curl -H" in first
    with connect(database_url) as conn:
        resolved = api_keys.resolve_key(conn, secret=secret)
    assert resolved is not None
    assert resolved.role is Role.ADMIN


def test_keys_create_mints_a_key_for_a_named_organization(
    database_url: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    with connect(database_url) as conn:
        organizations.create_organization(conn, name="Lift Care", kind="maintainer")
        conn.commit()
    monkeypatch.setenv("LIFTBRAIN_DATABASE_URL", database_url)
    assert main(["keys", "create", "--role", "maintainer", "--org", "Lift Care"]) == 0
    secret = capsys.readouterr().out.strip()
    with connect(database_url) as conn:
        resolved = api_keys.resolve_key(conn, secret=secret)
    assert resolved is not None
    assert resolved.role is Role.MAINTAINER


def test_keys_create_refuses_a_role_the_organization_cannot_hold(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    with connect(database_url) as conn:
        organizations.create_organization(conn, name="Lift Care", kind="maintainer")
        conn.commit()
    monkeypatch.setenv("LIFTBRAIN_DATABASE_URL", database_url)
    assert main(["keys", "create", "--role", "manufacturer", "--org", "Lift Care"]) == 1


def test_db_migrate_registers_the_configured_admin_key_without_printing_it(
    database_url: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    configured = "lb_deploy_" + "k" * 32
    monkeypatch.setenv("LIFTBRAIN_DATABASE_URL", database_url)
    monkeypatch.setenv("LIFTBRAIN_ADMIN_KEY", configured)
    assert main(["db", "migrate"]) == 0
    captured = capsys.readouterr()
    assert configured not in captured.out + captured.err
    with connect(database_url) as conn:
        resolved = api_keys.resolve_key(conn, secret=configured)
    assert resolved is not None
    assert resolved.role is Role.ADMIN
