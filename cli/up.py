"""`liftbrain up`: the whole stack on one machine.

With no LIFTBRAIN_DATABASE_URL / LIFTBRAIN_MQTT_URL it starts its own PostgreSQL+TimescaleDB and Mosquitto
under the data directory (reused by the next `up`), migrates, then runs ingest, the brain scheduler, the
API and, with --simulate N, a simulated fleet, each as a child process. Ctrl-C stops everything cleanly.
"""

from __future__ import annotations

import argparse
import logging
import os
import subprocess
import sys
import time
from contextlib import ExitStack
from dataclasses import dataclass
from typing import Any

from cli.devices import issue_embedded_identities
from cli.keys import bootstrap_admin_key
from models.migrate import migrate
from models.mqtt_credentials import CredentialKind
from models.probes import stop_on_signals
from models.settings import Settings

__all__ = ["add_parser"]

log = logging.getLogger("liftbrain")

CHILD_STOP_TIMEOUT_S = 15.0


def add_parser(commands: argparse._SubParsersAction[Any]) -> None:
    """Register the `up` subcommand."""
    parser = commands.add_parser(
        "up",
        help="run the whole stack (embedded servers unless URLs are configured)",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--simulate", type=int, metavar="N", default=0, help="also run a simulated fleet of N units")
    parser.add_argument("--no-brain", action="store_true", help="do not run the analytics scheduler")
    parser.set_defaults(func=run_up)


@dataclass(frozen=True)
class Servers:
    """Where the services find the database and the broker, and the environment each child gets for them."""

    dsn: str
    mqtt_url: str
    child_env: dict[str, dict[str, str]]


def _start_embedded(settings: Settings, stack: ExitStack) -> Servers:
    from stack._process import free_port, port_is_free
    from stack.mosquitto import LocalMosquitto, auth_dir_for
    from stack.postgres import LocalPostgres

    log.info("embedded stack in %s", settings.data_dir)
    postgres = LocalPostgres(settings.data_dir)
    postgres.start()
    stack.callback(postgres.stop)
    dsn = postgres.create_database("liftbrain")
    migrate(dsn)
    # Anonymous clients are refused: each service connects as itself, devices with their own credentials.
    auth_dir = auth_dir_for(settings.data_dir)
    identities = issue_embedded_identities(dsn, settings, auth_dir)
    tls_port = None
    if settings.mqtt_tls_port:
        # The conventional port where it is free (devices are configured once), another one otherwise.
        tls_port = settings.mqtt_tls_port if port_is_free(settings.mqtt_tls_port) else free_port()
    broker = LocalMosquitto(settings.data_dir, auth_dir=auth_dir, tls_port=tls_port)
    broker.start()
    stack.callback(broker.stop)
    if broker.tls is not None:
        log.info(
            "MQTT over TLS on mqtts://127.0.0.1:%d; devices trust the CA certificate %s", tls_port, broker.tls.ca_cert
        )

    def as_service(kind: CredentialKind) -> dict[str, str]:
        identity = identities[kind]
        return {"LIFTBRAIN_MQTT_URL": f"mqtt://{identity.username}:{identity.password}@127.0.0.1:{broker.port}"}

    child_env = {
        "ingest": as_service(CredentialKind.INGEST),
        "simulator": as_service(CredentialKind.SIMULATOR),
        "brain": {"LIFTBRAIN_MQTT_AUTH_DIR": str(auth_dir)},
    }
    return Servers(dsn, broker.url, child_env)


def _spawn(name: str, args: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
    log.info("starting %s", name)
    # Children ignore Ctrl-C from the terminal; `up` stops them in order with SIGTERM.
    return subprocess.Popen([sys.executable, "-m", "cli.main", *args], env=env, start_new_session=True)


def _stop_children(children: dict[str, subprocess.Popen[bytes]]) -> None:
    for name, child in children.items():
        if child.poll() is None:
            log.info("stopping %s", name)
            child.terminate()
    deadline = time.monotonic() + CHILD_STOP_TIMEOUT_S
    for name, child in children.items():
        try:
            child.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            log.warning("%s did not stop in %.0fs; killing it", name, CHILD_STOP_TIMEOUT_S)
            child.kill()
            child.wait()


def run_up(args: argparse.Namespace, settings: Settings) -> int:
    """Run the stack until Ctrl-C or SIGTERM; return the exit code."""
    stop = stop_on_signals()
    with ExitStack() as stack:
        if settings.database_url and settings.mqtt_url:
            servers = Servers(settings.database_url, settings.mqtt_url, {})
            migrate(servers.dsn)
        elif settings.embedded:
            servers = _start_embedded(settings, stack)
        else:
            raise RuntimeError("set both LIFTBRAIN_DATABASE_URL and LIFTBRAIN_MQTT_URL, or neither (embedded)")
        dsn, mqtt_url = servers.dsn, servers.mqtt_url
        bootstrap_admin_key(dsn, settings)
        env = {**os.environ, "LIFTBRAIN_DATABASE_URL": dsn, "LIFTBRAIN_MQTT_URL": mqtt_url}
        plan: dict[str, list[str]] = {"ingest": ["ingest"], "api": ["api"]}
        if not args.no_brain:
            plan["brain"] = ["brain"]
        if args.simulate > 0:
            plan["simulator"] = ["simulate", "--units", str(args.simulate), "--realtime"]
        children = {name: _spawn(name, argv, {**env, **servers.child_env.get(name, {})}) for name, argv in plan.items()}
        stack.callback(_stop_children, children)
        api_url = f"http://{settings.api_host}:{settings.api_port}"
        log.info(
            "liftbrain is up: API %s (docs %s/docs, health %s/health), MQTT %s", api_url, api_url, api_url, mqtt_url
        )
        while not stop.is_set():
            for name, child in children.items():
                if child.poll() is not None:
                    log.error("%s exited with code %s; stopping the stack", name, child.returncode)
                    return 1
            stop.wait(0.5)
    return 0
