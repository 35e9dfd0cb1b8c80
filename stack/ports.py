"""Stable addresses for the embedded servers: chosen once, kept in the data directory, overridable.

Devices and tools keep a broker address; a port that changed at every `liftbrain up` would strand them.
The first start takes the well-known port when it is free (MQTT 1883, MQTT over TLS 8883, PostgreSQL 5432) or
the next free one near it, and writes the choice to `ports.json`; later starts use the saved port and say so if
it is taken.
An explicit port (`liftbrain up --mqtt-port`) wins and is saved for the next start.
"""

from __future__ import annotations

import json
import socket
from pathlib import Path

from runtime.errors import OperatorError

__all__ = ["PORTS_FILE", "PREFERRED", "PortTaken", "embedded_database_url", "stable_ports"]

PORTS_FILE = "ports.json"
PREFERRED = {"mqtt": 1883, "mqtts": 8883, "postgres": 5432}
# The `liftbrain up` option that moves each server.
_OPTION = {"mqtt": "--mqtt-port", "mqtts": "--mqtts-port", "postgres": "--db-port"}
# How far past the well-known port to look before taking any free port (another broker or a system
# PostgreSQL often holds the well-known one).
NEARBY = 10
HOST = "127.0.0.1"


class PortTaken(OperatorError):
    """A port to be used is held by another program; the message says which and what to do."""


def _free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # a port in TIME_WAIT after our own stop is ours
        try:
            sock.bind((HOST, port))
        except OSError:
            return False
    return True


def _choose(name: str) -> int:
    for port in range(PREFERRED[name], PREFERRED[name] + NEARBY):
        if _free(port):
            return port
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def stable_ports(data_dir: Path, overrides: dict[str, int | None]) -> dict[str, int]:
    """The port of each embedded server (names as in PREFERRED), saved under `data_dir`; PortTaken if one is
    held by someone else."""
    path = data_dir / PORTS_FILE
    saved: dict[str, int] = json.loads(path.read_text()) if path.exists() else {}
    ports: dict[str, int] = {}
    for name in PREFERRED:
        wanted = overrides.get(name) or saved.get(name)
        if wanted is None:
            ports[name] = _choose(name)
        elif _free(wanted):
            ports[name] = wanted
        else:
            source = "asked for" if overrides.get(name) else f"kept in {path}"
            raise PortTaken(f"{name} port {wanted} ({source}) is in use by another program: stop it, or pass "
                            f"{_OPTION[name]} to move (devices must follow)")  # fmt: skip
    if ports != saved:
        data_dir.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(ports, indent=2) + "\n")
    return ports


def embedded_database_url(data_dir: Path, *, dbname: str = "liftbrain") -> str | None:
    """The URL of the embedded database `liftbrain up` runs from `data_dir`, or None before its first start."""
    path = data_dir / PORTS_FILE
    if not path.exists():
        return None
    return f"postgresql://postgres@{HOST}:{json.loads(path.read_text())['postgres']}/{dbname}"
