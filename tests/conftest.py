"""Real servers for the tests: one PostgreSQL+TimescaleDB and one Mosquitto per session, on free ports.

Each test that asks for `database_url` gets its own database cloned from a migrated template (not a
rollback: some TimescaleDB calls refuse transaction blocks).
"""

from __future__ import annotations

import itertools
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from models.db import Connection, connect
from models.migrate import migrate
from stack.mosquitto import LocalMosquitto
from stack.postgres import LocalPostgres
from tests.support.fleet import Fleet, seed_fleet

TEMPLATE_DB = "liftbrain_template"
# Tests never lose the OS, so fsync buys nothing here; commits stay synchronous as in production.
TEST_SERVER_SETTINGS = {"fsync": "off", "full_page_writes": "off", "timescaledb.max_background_workers": "0"}
_db_numbers = itertools.count()


@pytest.fixture(scope="session")
def servers_dir() -> Iterator[Path]:
    """A directory under /tmp the servers' system users can reach (pytest's own tmp tree is 0700)."""
    path = Path(tempfile.mkdtemp(prefix="liftbrain-test-", dir="/tmp"))
    path.chmod(0o755)
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres(servers_dir: Path) -> Iterator[LocalPostgres]:
    """The session's PostgreSQL server with a migrated template database."""
    server = LocalPostgres(servers_dir / "postgres", extra_settings=TEST_SERVER_SETTINGS)
    server.start()
    try:
        migrate(server.create_database(TEMPLATE_DB))
        with psycopg.connect(server.dsn(), autocommit=True) as conn:
            template = sql.Identifier(TEMPLATE_DB)
            conn.execute(sql.SQL("ALTER DATABASE {} WITH IS_TEMPLATE true ALLOW_CONNECTIONS false").format(template))
        yield server
    finally:
        server.stop()


@pytest.fixture
def database_url(postgres: LocalPostgres) -> Iterator[str]:
    """A fresh, migrated database for one test."""
    name = f"test_{next(_db_numbers)}"
    dsn = postgres.create_database(name, template=TEMPLATE_DB)
    yield dsn
    with psycopg.connect(postgres.dsn(), autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


@pytest.fixture(scope="session")
def mosquitto(servers_dir: Path) -> Iterator[LocalMosquitto]:
    """The session's broker. Tests isolate themselves by topic prefix and client id."""
    broker = LocalMosquitto(servers_dir / "mosquitto", auth_dir=None)
    broker.start()
    yield broker
    broker.stop()


@pytest.fixture
def own_mosquitto() -> Iterator[LocalMosquitto]:
    """A broker of the test's own, for tests that stop or kill it."""
    path = Path(tempfile.mkdtemp(prefix="liftbrain-broker-", dir="/tmp"))
    path.chmod(0o755)
    broker = LocalMosquitto(path, auth_dir=None)
    broker.start()
    yield broker
    broker.kill()
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def topic_prefix(request: pytest.FixtureRequest) -> str:
    """A topic prefix no other test publishes under."""
    return f"lbtest/{request.node.name[:40]}/{next(_db_numbers)}/v1".replace("[", "_").replace("]", "_")


# --- The lifecycle registry (seeded by tests.support.fleet). ---


@pytest.fixture
def conn(database_url: str) -> Iterator[Connection]:
    """A connection to the test's database; committed when the test passes."""
    with connect(database_url) as connection:
        yield connection
        connection.commit()


@pytest.fixture
def fleet(conn: Connection) -> Fleet:
    """The seeded fleet, committed."""
    seeded = seed_fleet(conn)
    conn.commit()
    return seeded
