"""MQTT over TLS with the embedded stack's own CA: a client trusting the CA connects, a plain client on the TLS
port and a client that does not trust the CA do not; the CA is made once and kept."""

from __future__ import annotations

import shutil
import socket
import ssl
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.reasoncodes import ReasonCode

from stack._process import free_port
from stack.mosquitto import LocalMosquitto
from stack.tls import ensure_tls

CONNECT_WAIT_S = 5


@pytest.fixture
def tls_broker() -> Iterator[LocalMosquitto]:
    path = Path(tempfile.mkdtemp(prefix="liftbrain-tls-", dir="/tmp"))
    path.chmod(0o755)
    broker = LocalMosquitto(path, auth_dir=None, tls_port=free_port())
    broker.start()
    yield broker
    broker.stop()
    shutil.rmtree(path, ignore_errors=True)


def connects(port: int, *, ca_cert: Path | None) -> bool:
    """True when an MQTT CONNACK arrives over the connection (TLS trusting `ca_cert`, or plain when None)."""
    accepted = threading.Event()
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"tls-test-{port}")

    def on_connect(_c: mqtt.Client, _u: object, _f: object, reason: ReasonCode, _p: object) -> None:
        if not reason.is_failure:
            accepted.set()

    client.on_connect = on_connect
    if ca_cert is not None:
        client.tls_set(ca_certs=str(ca_cert), tls_version=ssl.PROTOCOL_TLS_CLIENT)
    client.connect("127.0.0.1", port)
    client.loop_start()
    try:
        return accepted.wait(CONNECT_WAIT_S)
    finally:
        client.loop_stop()
        client.disconnect()


def test_a_client_trusting_the_generated_ca_connects_over_tls(tls_broker: LocalMosquitto) -> None:
    assert tls_broker.tls is not None
    assert tls_broker.tls_port is not None
    assert connects(tls_broker.tls_port, ca_cert=tls_broker.tls.ca_cert)


def test_a_plain_client_is_refused_on_the_tls_port(tls_broker: LocalMosquitto) -> None:
    assert tls_broker.tls_port is not None
    assert not connects(tls_broker.tls_port, ca_cert=None)


def test_a_client_trusting_another_ca_does_not_accept_the_broker(tls_broker: LocalMosquitto, tmp_path: Path) -> None:
    assert tls_broker.tls_port is not None
    stranger = ensure_tls(tmp_path / "other", server_user="mosquitto")
    context = ssl.create_default_context(cafile=str(stranger.ca_cert))
    address = ("127.0.0.1", tls_broker.tls_port)
    with socket.create_connection(address, timeout=CONNECT_WAIT_S) as raw, pytest.raises(ssl.SSLCertVerificationError):
        context.wrap_socket(raw, server_hostname="localhost")


def test_the_ca_is_made_once_and_its_key_stays_private(tmp_path: Path) -> None:
    first = ensure_tls(tmp_path / "tls", server_user="mosquitto")
    ca = first.ca_cert.read_bytes()
    again = ensure_tls(tmp_path / "tls", server_user="mosquitto")
    assert again.ca_cert.read_bytes() == ca
    assert (tmp_path / "tls" / "ca.key").stat().st_mode & 0o077 == 0
