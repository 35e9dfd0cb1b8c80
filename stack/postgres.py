"""A local PostgreSQL + TimescaleDB cluster in a data directory of our own (for `liftbrain up` and tests)."""

from __future__ import annotations

import logging
import os
import subprocess
from pathlib import Path

from models.db import create_database
from runtime.errors import OperatorError
from stack._process import chown_tree, ensure_reachable_dir, free_port, run_as_prefix, wait_for_port

__all__ = ["LocalPostgres", "postgres_bindir"]

log = logging.getLogger(__name__)

SYSTEM_USER = "postgres"
SUPERUSER = "postgres"
START_TIMEOUT_S = 60.0
# Settings for an embedded, single-machine server. Durable commits stay on: ingest acks after commit.
SERVER_SETTINGS = {
    "listen_addresses": "127.0.0.1",
    "shared_preload_libraries": "timescaledb",
    "timescaledb.telemetry_level": "off",  # no network here, and no phoning home
    "max_connections": "100",
    "shared_buffers": "256MB",
    "max_wal_size": "2GB",  # bulk replay fills WAL fast; fewer checkpoints mid-ingest
    "log_min_messages": "warning",
    "timezone": "UTC",
}


def postgres_bindir() -> Path:
    """Where initdb/pg_ctl/postgres live: Debian keeps them off the PATH, so ask pg_config or look."""
    candidates = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: int(p.parts[-3]))
    if candidates:
        return candidates[-1].parent
    try:
        out = subprocess.run(["pg_config", "--bindir"], check=True, capture_output=True, text=True)
    except (OSError, subprocess.CalledProcessError) as exc:
        raise OperatorError("PostgreSQL server binaries not found; run scripts/setup.sh") from exc
    return Path(out.stdout.strip())


class LocalPostgres:
    """One PostgreSQL cluster under `data_dir`, started on a free loopback port."""

    def __init__(self, data_dir: Path, *, port: int | None = None, extra_settings: dict[str, str] | None = None):
        self.data_dir = data_dir
        self.pgdata = data_dir / "pgdata"
        self.port = port or free_port()
        self.settings = {**SERVER_SETTINGS, **(extra_settings or {})}
        self._bindir = postgres_bindir()
        self._as_user = run_as_prefix(SYSTEM_USER)
        # Written by the server's own user, so it lives inside the directory that user owns.
        self.logfile = self.pgdata / "postgres.log"

    def dsn(self, dbname: str = "postgres") -> str:
        """A libpq URL for `dbname` on this cluster."""
        return f"postgresql://{SUPERUSER}@127.0.0.1:{self.port}/{dbname}"

    def _run(self, program: str, *args: str, check: bool = True) -> int:
        """Run one of the server's programs as its system user; raise on failure when `check`."""
        # Its own session: a Ctrl-C at the terminal must not reach the server before `up` stops the services.
        result = subprocess.run(
            [*self._as_user, str(self._bindir / program), *args], capture_output=True, text=True, start_new_session=True
        )
        if check and result.returncode != 0:
            raise OperatorError(f"{program} failed: {result.stderr.strip() or result.stdout.strip()}")
        return result.returncode

    def init(self) -> bool:
        """Create the cluster unless it exists; True when it was created now."""
        if (self.pgdata / "PG_VERSION").exists():
            return False
        ensure_reachable_dir(self.data_dir)
        self.pgdata.mkdir(mode=0o700, exist_ok=True)
        chown_tree(self.pgdata, SYSTEM_USER)
        log.info("initdb %s", self.pgdata)
        self._run(
            "initdb",
            "-D",
            str(self.pgdata),
            "-U",
            SUPERUSER,
            "--auth=trust",
            "-E",
            "UTF8",
            "--locale=C.UTF-8",
        )
        return True

    def start(self) -> None:
        """Start the server (creating the cluster first if needed) and wait until it accepts connections."""
        self.init()
        if self.running():
            raise OperatorError(f"a PostgreSQL server already runs on {self.pgdata} (another `liftbrain up`?)")
        options = " ".join(f"-c {key}={value}" for key, value in self.settings.items())
        options += f" -p {self.port} -k {self.pgdata}"
        log.info("starting PostgreSQL on 127.0.0.1:%d", self.port)
        self._run(
            "pg_ctl",
            "-D",
            str(self.pgdata),
            "-l",
            str(self.logfile),
            "-o",
            options,
            "-w",
            "-t",
            str(int(START_TIMEOUT_S)),
            "start",
        )
        wait_for_port("127.0.0.1", self.port, timeout=START_TIMEOUT_S)

    def alive(self) -> bool:
        """True while the server process of this data directory exists (cheap: no subprocess)."""
        try:
            pid = int((self.pgdata / "postmaster.pid").read_text().split("\n", 1)[0])
        except (OSError, ValueError):
            return False
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True  # it exists, as another user
        return True

    def running(self) -> bool:
        """True when a server process runs on this data directory."""
        return self._run("pg_ctl", "-D", str(self.pgdata), "status", check=False) == 0

    def stop(self) -> None:
        """Stop the server (fast shutdown: clients are disconnected, data is safe)."""
        if not (self.pgdata / "postmaster.pid").exists():
            return
        log.info("stopping PostgreSQL")
        self._run("pg_ctl", "-D", str(self.pgdata), "stop", "-m", "fast", "-w", check=False)

    def kill(self) -> None:
        """Stop the server immediately, as a crash would (for tests of recovery)."""
        self._run("pg_ctl", "-D", str(self.pgdata), "stop", "-m", "immediate", "-w", check=False)

    def create_database(self, name: str, *, template: str | None = None) -> str:
        """Create database `name` unless it exists; return its DSN."""
        create_database(self.dsn(), name=name, template=template)
        return self.dsn(name)
