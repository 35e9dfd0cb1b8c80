"""Numbered SQL migrations (`migrations/NNNN_name.sql`), applied in order under an advisory lock.

Each applied file is recorded in `schema_migrations` with its checksum; an applied file that changed
afterwards is an error, never silently re-run. A file whose first line is `-- liftbrain: no-transaction`
runs outside a transaction (for statements that refuse one).
"""

from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import dataclass
from importlib import resources

import psycopg

__all__ = ["Migration", "MigrationError", "applied_versions", "available_migrations", "migrate"]

log = logging.getLogger(__name__)

# Arbitrary but fixed: every liftbrain process that migrates takes this lock, so only one applies at a time.
MIGRATION_LOCK_KEY = 0x11F7B8A1
NO_TRANSACTION_MARKER = "-- liftbrain: no-transaction"
FILENAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")


class MigrationError(RuntimeError):
    """The database cannot be brought to the current schema; the message says why and what to do."""


@dataclass(frozen=True)
class Migration:
    """One migration file."""

    version: int
    name: str
    sql: str

    @property
    def checksum(self) -> str:
        """SHA-256 of the file's text."""
        return hashlib.sha256(self.sql.encode()).hexdigest()

    @property
    def transactional(self) -> bool:
        """False when the file asks to run outside a transaction."""
        return not self.sql.startswith(NO_TRANSACTION_MARKER)


def available_migrations() -> list[Migration]:
    """The migrations shipped with the package, in version order."""
    found = []
    for entry in resources.files("models.migrations").iterdir():
        match = FILENAME.match(entry.name)
        if match:
            found.append(Migration(int(match[1]), match[2], entry.read_text(encoding="utf-8")))
    found.sort(key=lambda m: m.version)
    versions = [m.version for m in found]
    if len(set(versions)) != len(versions):
        raise MigrationError(f"two migration files share a version number: {versions}")
    return found


def _check_timescaledb(conn: psycopg.Connection[tuple[object, ...]]) -> None:
    row = conn.execute("SELECT 1 FROM pg_available_extensions WHERE name = 'timescaledb'").fetchone()
    if row is None:
        raise MigrationError(
            "the TimescaleDB extension is not installed on this PostgreSQL server; "
            "run scripts/setup.sh (embedded) or use a TimescaleDB image"
        )
    preload = conn.execute("SHOW shared_preload_libraries").fetchone()
    if preload is None or "timescaledb" not in str(preload[0]):
        raise MigrationError(
            "TimescaleDB is installed but not preloaded: add timescaledb to shared_preload_libraries "
            "in postgresql.conf and restart the server"
        )


def applied_versions(conn: psycopg.Connection[tuple[object, ...]]) -> dict[int, str]:
    """Applied migration versions and their recorded checksums."""
    rows = conn.execute("SELECT version, checksum FROM schema_migrations").fetchall()
    return {int(str(v)): str(c) for v, c in rows}


def migrate(dsn: str) -> list[Migration]:
    """Apply every pending migration; return the ones applied now. Safe to run concurrently and repeatedly."""
    applied_now: list[Migration] = []
    with psycopg.connect(dsn, autocommit=True) as conn:
        _check_timescaledb(conn)
        conn.execute("SELECT pg_advisory_lock(%s)", (MIGRATION_LOCK_KEY,))
        try:
            conn.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations (version integer PRIMARY KEY, name text NOT NULL,"
                " checksum text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())"
            )
            done = applied_versions(conn)
            for migration in available_migrations():
                if migration.version in done:
                    if done[migration.version] != migration.checksum:
                        raise MigrationError(
                            f"migration {migration.version:04d}_{migration.name} changed after it was applied; "
                            "add a new migration instead of editing an applied one"
                        )
                    continue
                log.info("applying migration %04d_%s", migration.version, migration.name)
                record = (
                    "INSERT INTO schema_migrations (version, name, checksum) VALUES (%s, %s, %s)",
                    (migration.version, migration.name, migration.checksum),
                )
                # A migration's text is read from its file, so it is passed as bytes (it is no literal).
                if migration.transactional:
                    with conn.transaction():
                        conn.execute(migration.sql.encode())
                        conn.execute(*record)
                else:
                    conn.execute(migration.sql.encode())
                    conn.execute(*record)
                applied_now.append(migration)
        finally:
            conn.execute("SELECT pg_advisory_unlock(%s)", (MIGRATION_LOCK_KEY,))
    return applied_now
