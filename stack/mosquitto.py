"""A local Mosquitto broker with a generated configuration (for `liftbrain up` and tests)."""

from __future__ import annotations

import logging
import shutil
import signal
import subprocess
from pathlib import Path

from models.access.mqtt_credentials import ACL_FILE, BROKER_LOG_FILE, CREDENTIALS_FILE, PID_FILE
from runtime.errors import OperatorError
from stack._process import chown_tree, ensure_reachable_dir, free_port, wait_for_port
from stack.tls import TlsFiles, ensure_tls

__all__ = ["LocalMosquitto", "auth_dir_for", "mosquitto_config"]

log = logging.getLogger(__name__)

SYSTEM_USER = "mosquitto"
START_TIMEOUT_S = 20.0
# Mosquitto drops QoS 1 messages silently beyond these bounds (defaults 20 in flight, 1000 queued).
# Ingest acks a whole batch after its commit, so the in-flight window must hold a batch or more.
MAX_INFLIGHT_MESSAGES = 2000
# The at-least-once promise holds while ingest is away for less than its session's queue bound, and the
# bound is what a forgotten session (a subscriber that never returns) may cost: every autosave rewrites the
# whole store, so an unbounded queue means an ever larger file rewritten every few seconds.
# Mosquitto holds queues in memory, so the bound is also RAM. The promise, stated: an ingest outage of
# PROMISED_OUTAGE_S while PROMISED_INFLOW_* arrives (2,000 units each sending one 20-sample message every
# 10 s) loses nothing; tests/stack/test_config.py checks the bounds hold it. Beyond, new messages for the
# session are dropped (liftbrain_broker_dropped_messages) and a larger fleet needs a broker with disk queues.
PROMISED_OUTAGE_S = 30 * 60
PROMISED_INFLOW_MESSAGES_S = 200
PROMISED_INFLOW_BYTES_S = PROMISED_INFLOW_MESSAGES_S * 2_500
MAX_QUEUED_MESSAGES = 500_000
MAX_QUEUED_BYTES = 1024**3
# A persistent session nobody resumes for this long is forgotten (its queue freed). Longer than any outage
# we promise to survive, short enough that a retired consumer does not weigh on the broker for weeks.
SESSION_EXPIRY = "2d"
# Sessions and queues reach disk only at autosave points and on a clean exit: a kill -9 of the broker
# loses what it acknowledged since the last save. 5 s bounds that window at a modest write cost.
AUTOSAVE_INTERVAL_S = 5
# $SYS statistics (stored messages and bytes, dropped publishes) every 10 s: ingest turns them into metrics.
SYS_INTERVAL_S = 10
# Devices on old TLS stacks are not worth a downgrade: TLS 1.2 is what every current MQTT client speaks.
MIN_TLS_VERSION = "tlsv1.2"
# A packet carries one message: the largest payload ingest accepts by default fits with room for headers.
MAX_PACKET_BYTES = 1024 * 1024 + 1024


def mosquitto_binary() -> str:
    """The mosquitto executable (Debian installs it in /usr/sbin, off a user's PATH)."""
    found = shutil.which("mosquitto") or ("/usr/sbin/mosquitto" if Path("/usr/sbin/mosquitto").exists() else None)
    if not found:
        raise OperatorError("mosquitto not found; run scripts/setup.sh")
    return found


def auth_config(auth_dir: Path | None) -> list[str]:
    """Authentication lines: per-identity passwords and ACLs from `auth_dir`, or anonymous clients when None.

    Each identity's client id is its username, so no device can take over another's session (or ingest's).
    """
    if auth_dir is None:
        return ["allow_anonymous true"]
    return [
        "allow_anonymous false",
        f"password_file {auth_dir}/{CREDENTIALS_FILE}",
        f"acl_file {auth_dir}/{ACL_FILE}",
        "use_username_as_clientid true",
        # Also to a file the brain reads: refusals become a metric (the broker has no counter of its own).
        f"log_dest file {auth_dir}/{BROKER_LOG_FILE}",
    ]


def tls_config(port: int, files: TlsFiles, host: str) -> list[str]:
    """A second listener serving MQTT over TLS with the stack's own CA (same authentication as the first)."""
    return [
        f"listener {port} {host}".rstrip(),
        f"cafile {files.ca_cert}",
        f"certfile {files.server_cert}",
        f"keyfile {files.server_key}",
        f"tls_version {MIN_TLS_VERSION}",
    ]


def mosquitto_config(
    *,
    port: int,
    persistence_dir: Path,
    auth_dir: Path | None,
    tls: tuple[int, TlsFiles] | None = None,
    host: str = "127.0.0.1",
) -> str:
    """The broker configuration: a plain listener (and a TLS one), authentication (or anonymous), durable
    sessions, deliberate bounds.

    deploy/mosquitto.conf (docker-compose) is this function's output for a container (all interfaces, no
    host, auth files under /mosquitto/auth); a test keeps the two equal.
    """
    return "\n".join(
        [
            f"listener {port} {host}".rstrip(),
            *auth_config(auth_dir),
            "persistence true",
            f"persistence_location {persistence_dir}/",
            f"autosave_interval {AUTOSAVE_INTERVAL_S}",
            f"max_inflight_messages {MAX_INFLIGHT_MESSAGES}",
            f"max_queued_messages {MAX_QUEUED_MESSAGES}",
            f"max_queued_bytes {MAX_QUEUED_BYTES}",
            f"max_packet_size {MAX_PACKET_BYTES}",
            f"persistent_client_expiration {SESSION_EXPIRY}",
            f"sys_interval {SYS_INTERVAL_S}",
            "set_tcp_nodelay true",
            "log_dest stderr",
            "log_type error",
            "log_type warning",
            "log_type notice",
            *(tls_config(tls[0], tls[1], host) if tls else []),
            "",
        ]
    )


def auth_dir_for(data_dir: Path) -> Path:
    """The embedded broker's auth directory under `data_dir`, created readable by the broker's own user."""
    auth_dir = data_dir / "mqtt-auth"
    auth_dir.mkdir(mode=0o750, exist_ok=True)
    chown_tree(auth_dir, SYSTEM_USER)
    return auth_dir


class LocalMosquitto:
    """One Mosquitto broker whose config and persistence live under `data_dir`.

    With `auth_dir`, clients authenticate against the password and ACL files there (written by the caller
    before `start`), and the broker's pid is kept in `auth_dir/broker.pid` so that whoever rewrites the files
    can have it reload them. `auth_dir=None` lets any client connect: tests and benchmarks only, stated by each.
    """

    def __init__(
        self, data_dir: Path, *, auth_dir: Path | None, port: int | None = None, tls_port: int | None = None
    ) -> None:
        self.data_dir = data_dir
        self.auth_dir = auth_dir
        self.port = port or free_port()
        self.tls_port = tls_port
        self.tls: TlsFiles | None = None
        self.logfile = data_dir / "mosquitto.log"
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """The broker's mqtt:// URL."""
        return f"mqtt://127.0.0.1:{self.port}"

    def start(self) -> None:
        """Write the config and start the broker; wait until it accepts connections."""
        ensure_reachable_dir(self.data_dir)
        persistence = self.data_dir / "mosquitto"
        persistence.mkdir(exist_ok=True)
        # Started as root, mosquitto drops to its own user, which must write the persistence file.
        chown_tree(persistence, SYSTEM_USER)
        conf = self.data_dir / "mosquitto.conf"
        tls = None
        if self.tls_port is not None:
            self.tls = ensure_tls(self.data_dir / "tls", server_user=SYSTEM_USER)
            tls = (self.tls_port, self.tls)
        conf.write_text(mosquitto_config(port=self.port, persistence_dir=persistence, auth_dir=self.auth_dir, tls=tls))
        log.info("starting Mosquitto on 127.0.0.1:%d", self.port)
        with self.logfile.open("ab") as logf:
            # Its own session: a Ctrl-C at the terminal must not reach the broker before `up` stops the services.
            self._process = subprocess.Popen(
                [mosquitto_binary(), "-c", str(conf)], stdout=logf, stderr=logf, start_new_session=True
            )
        process = self._process
        if self.auth_dir is not None:
            (self.auth_dir / PID_FILE).write_text(f"{process.pid}\n")
        wait_for_port("127.0.0.1", self.port, timeout=START_TIMEOUT_S, is_alive=lambda: process.poll() is None)

    def alive(self) -> bool:
        """True while the broker this object started runs."""
        return self._process is not None and self._process.poll() is None

    def stop(self, *, timeout: float = 15.0) -> None:
        """Stop the broker cleanly (it writes its persistence file on the way out)."""
        if self._process is None or self._process.poll() is not None:
            return
        log.info("stopping Mosquitto")
        self._process.send_signal(signal.SIGTERM)
        try:
            self._process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()

    def kill(self) -> None:
        """Kill the broker with SIGKILL, as a crash would (for tests)."""
        if self._process is not None and self._process.poll() is None:
            self._process.kill()
            self._process.wait()
