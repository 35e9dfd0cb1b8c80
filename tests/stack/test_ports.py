"""Stable ports for the embedded servers: well-known when free, kept in the data directory, overridable."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from stack import ports
from stack._process import free_port
from stack.ports import PortTaken, stable_ports


@pytest.fixture
def preferred(monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    """Well-known ports moved to free ones, so parallel runs do not race for 1883 and 5432."""
    chosen = {"mqtt": free_port(), "postgres": free_port()}
    monkeypatch.setattr(ports, "PREFERRED", chosen)
    return chosen


@pytest.fixture
def held() -> Iterator[socket.socket]:
    """A listening socket standing for another program."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen()
    yield sock
    sock.close()


def test_first_start_takes_the_well_known_ports_and_keeps_them(tmp_path: Path, preferred: dict[str, int]) -> None:
    assert stable_ports(tmp_path, {}) == preferred
    assert json.loads((tmp_path / "ports.json").read_text()) == preferred
    assert stable_ports(tmp_path, {"mqtt": None, "postgres": None}) == preferred


def test_a_taken_well_known_port_moves_to_a_free_one_nearby(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, held: socket.socket
) -> None:
    taken = held.getsockname()[1]
    monkeypatch.setattr(ports, "PREFERRED", {"mqtt": taken, "postgres": free_port()})
    chosen = stable_ports(tmp_path, {})
    assert chosen["mqtt"] != taken
    assert stable_ports(tmp_path, {}) == chosen  # kept, even once the well-known port is free again


def test_an_override_wins_and_is_kept(tmp_path: Path, preferred: dict[str, int]) -> None:
    stable_ports(tmp_path, {})
    other = free_port()
    assert stable_ports(tmp_path, {"mqtt": other})["mqtt"] == other
    assert stable_ports(tmp_path, {})["mqtt"] == other


def test_a_kept_port_held_by_another_program_is_a_clear_error(
    tmp_path: Path, preferred: dict[str, int], held: socket.socket
) -> None:
    (tmp_path / "ports.json").write_text(json.dumps({**preferred, "mqtt": held.getsockname()[1]}))
    with pytest.raises(PortTaken, match=r"mqtt port \d+ \(kept in .*ports.json\) is in use.*--mqtt-port"):
        stable_ports(tmp_path, {})


def test_the_embedded_database_url_follows_the_kept_port(tmp_path: Path, preferred: dict[str, int]) -> None:
    assert ports.embedded_database_url(tmp_path) is None
    stable_ports(tmp_path, {})
    assert ports.embedded_database_url(tmp_path) == f"postgresql://postgres@127.0.0.1:{preferred['postgres']}/liftbrain"
