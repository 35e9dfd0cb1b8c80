"""`liftbrain up`: the whole stack on one machine, supervised.

With no LIFTBRAIN_DATABASE_URL / LIFTBRAIN_MQTT_URL it starts its own PostgreSQL+TimescaleDB and Mosquitto
under the data directory (reused by the next `up`, on the same ports: MQTT 1883, MQTT over TLS 8883 and
PostgreSQL 5432 when free, kept in ports.json), migrates, gives ingest and the simulator MQTT identities of
their own (the broker refuses anonymous clients; devices get theirs from `liftbrain devices credentials
create`), then runs ingest, the brain scheduler, the API and, with --simulate N, a simulated fleet. Every
child, the embedded servers included, is restarted with backoff when it dies; one that keeps dying right after
each start stops the stack with the reason. Ctrl-C stops everything it started.
"""

from __future__ import annotations

import argparse
import logging
import os
import subprocess
import sys
from dataclasses import dataclass
from typing import Any

from cli.devices import issue_embedded_identities
from cli.keys import bootstrap_admin_key
from models.access.mqtt_credentials import CredentialKind
from models.migrate import migrate
from runtime.errors import OperatorError
from runtime.probes import stop_on_signals
from runtime.settings import Settings
from stack.supervisor import Child, GaveUp, Supervisor

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
    parser.add_argument("--mqtt-port", type=int, help="embedded broker port (kept for the next start)")
    parser.add_argument("--mqtts-port", type=int, help="embedded broker's MQTT-over-TLS port (kept for the next start)")
    parser.add_argument("--db-port", type=int, help="embedded PostgreSQL port (kept for the next start)")
    parser.set_defaults(func=run_up)


@dataclass(frozen=True)
class Servers:
    """Where the services find the database and the broker, and the environment each child gets for them."""

    dsn: str
    mqtt_url: str
    child_env: dict[str, dict[str, str]]


def _embedded(settings: Settings, args: argparse.Namespace, supervisor: Supervisor) -> Servers:
    from stack.mosquitto import LocalMosquitto, auth_dir_for
    from stack.ports import stable_ports
    from stack.postgres import LocalPostgres

    overrides = {"mqtt": args.mqtt_port, "mqtts": args.mqtts_port, "postgres": args.db_port}
    ports = stable_ports(settings.data_dir, overrides)
    log.info("embedded stack in %s (ports kept in %s/ports.json)", settings.data_dir, settings.data_dir)
    postgres = LocalPostgres(settings.data_dir, port=ports["postgres"])
    supervisor.start(Child("postgres", postgres.start, postgres.alive, postgres.stop))
    dsn = postgres.create_database("liftbrain")
    migrate(dsn)
    # Anonymous clients are refused: each service connects as itself, devices with their own credentials.
    auth_dir = auth_dir_for(settings.data_dir)
    identities = issue_embedded_identities(dsn, settings, auth_dir)
    broker = LocalMosquitto(settings.data_dir, auth_dir=auth_dir, port=ports["mqtt"], tls_port=ports["mqtts"])
    supervisor.start(Child("mosquitto", broker.start, broker.alive, broker.stop))
    if broker.tls is not None:
        log.info("MQTT over TLS on mqtts://127.0.0.1:%d; devices trust the CA certificate %s",
                 ports["mqtts"], broker.tls.ca_cert)  # fmt: skip

    def as_service(kind: CredentialKind) -> dict[str, str]:
        identity = identities[kind]
        return {"LIFTBRAIN_MQTT_URL": f"mqtt://{identity.username}:{identity.password}@127.0.0.1:{broker.port}"}

    child_env = {
        "ingest": as_service(CredentialKind.INGEST),
        "simulator": as_service(CredentialKind.SIMULATOR),
        "brain": {"LIFTBRAIN_MQTT_AUTH_DIR": str(auth_dir)},
    }
    return Servers(dsn, broker.url, child_env)


def _service(name: str, argv: list[str], env: dict[str, str]) -> Child:
    """A liftbrain service as a child process of its own session (Ctrl-C reaches `up` only, which stops it)."""
    process: list[subprocess.Popen[bytes]] = []

    def start() -> None:
        process[:] = [subprocess.Popen([sys.executable, "-m", "cli.main", *argv], env=env, start_new_session=True)]

    def stop() -> None:
        if not process or process[0].poll() is not None:
            return
        log.info("stopping %s", name)
        process[0].terminate()
        try:
            process[0].wait(timeout=CHILD_STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            log.warning("%s did not stop in %.0fs; killing it", name, CHILD_STOP_TIMEOUT_S)
            process[0].kill()
            process[0].wait()

    return Child(name, start, lambda: bool(process) and process[0].poll() is None, stop)


def run_up(args: argparse.Namespace, settings: Settings) -> int:
    """Run the stack until Ctrl-C or SIGTERM; return the exit code (1 when a child crash-looped)."""
    supervisor = Supervisor(stop_on_signals())
    try:
        if settings.database_url and settings.mqtt_url:
            servers = Servers(settings.database_url, settings.mqtt_url, {})
            migrate(servers.dsn)
        elif settings.embedded:
            servers = _embedded(settings, args, supervisor)
        else:
            raise OperatorError("set both LIFTBRAIN_DATABASE_URL and LIFTBRAIN_MQTT_URL, or neither (embedded)")
        dsn, mqtt_url = servers.dsn, servers.mqtt_url
        bootstrap_admin_key(dsn, settings)
        env = {**os.environ, "LIFTBRAIN_DATABASE_URL": dsn, "LIFTBRAIN_MQTT_URL": mqtt_url}
        plan: dict[str, list[str]] = {"ingest": ["ingest"], "api": ["api"]}
        if not args.no_brain:
            plan["brain"] = ["brain"]
        if args.simulate > 0:
            plan["simulator"] = ["simulate", "--units", str(args.simulate), "--realtime"]
        for name, argv in plan.items():
            supervisor.start(_service(name, argv, {**env, **servers.child_env.get(name, {})}))
        api_url = f"http://{settings.api_host}:{settings.api_port}"
        log.info("liftbrain is up: API %s (docs %s/docs, health %s/health), MQTT %s, database %s", api_url,
                 api_url, api_url, mqtt_url, dsn.rsplit("@", 1)[-1])  # fmt: skip
        supervisor.run()
    except GaveUp as exc:
        log.critical("%s; stopping the stack", exc)
        return 1
    finally:
        supervisor.stop_all()
    return 0
