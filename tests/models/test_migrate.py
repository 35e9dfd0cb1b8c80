"""Migrations: applied once, in order, recorded with checksums; an edited applied file is refused."""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest

from models import migrate as migrate_module
from models.migrate import Migration, MigrationError, applied_versions, available_migrations, migrate
from stack.postgres import LocalPostgres


def test_migrations_are_numbered_without_gaps() -> None:
    versions = [m.version for m in available_migrations()]
    assert versions == list(range(1, len(versions) + 1))


def test_migrate_is_idempotent_and_records_checksums(database_url: str) -> None:
    assert migrate(database_url) == []
    with psycopg.connect(database_url) as conn:
        recorded = applied_versions(conn)
    assert recorded == {m.version: m.checksum for m in available_migrations()}


def test_an_edited_applied_migration_is_refused(database_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    edited = [Migration(m.version, m.name, m.sql + "\n-- edited") if m.version == 2 else m
              for m in available_migrations()]  # fmt: skip
    monkeypatch.setattr(migrate_module, "available_migrations", lambda: edited)
    with pytest.raises(MigrationError, match="0002_registry changed after it was applied"):
        migrate(database_url)


def test_a_server_without_timescaledb_preloaded_gets_a_clear_error(servers_dir: Path) -> None:
    server = LocalPostgres(servers_dir / "no-preload", extra_settings={"shared_preload_libraries": ""})
    server.start()
    try:
        with pytest.raises(MigrationError, match="not preloaded: add timescaledb to shared_preload_libraries"):
            migrate(server.create_database("liftbrain"))
    finally:
        server.stop()
