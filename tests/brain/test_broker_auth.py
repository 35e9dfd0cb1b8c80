"""Device identity on a real broker: each device publishes only as its unit, revocation and rotation take
effect through the broker_auth job while clients are connected, and nobody can take another's session."""

from __future__ import annotations

import shutil
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.reasoncodes import ReasonCode
from prometheus_client import REGISTRY

from brain.broker_log import count_refusals
from brain.jobs import broker_auth
from models.access.mqtt_credentials import (
    BROKER_LOG_FILE,
    BrokerIdentity,
    CredentialKind,
    IssuedCredential,
    active_identities,
    issue_device_credential,
    issue_service_credential,
    revoke_credential,
    rotate_credential,
)
from models.access.tenancy import TenantScope
from models.db import Connection
from stack.mosquitto import LocalMosquitto, auth_dir_for
from tests.support.fleet import Fleet

PLATFORM = TenantScope.internal()
PREFIX = "lb/v1"


class Client:
    """A paho client that records what happens to it."""

    def __init__(self, port: int, username: str, password: str, *, client_id: str | None = None) -> None:
        self.connected = threading.Event()
        self.refused: list[str] = []
        self.disconnected = threading.Event()
        self.messages: list[str] = []
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id or username)
        self.client.username_pw_set(username, password)
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = lambda *_: self.disconnected.set()
        self.client.on_message = lambda _c, _u, message: self.messages.append(message.topic)
        self.client.reconnect_delay_set(60, 60)  # a refused client must not come back during the test
        self.client.connect("127.0.0.1", port)
        self.client.loop_start()

    def _on_connect(self, _c: mqtt.Client, _u: object, _f: object, reason: ReasonCode, _p: object) -> None:
        if reason.is_failure:
            self.refused.append(str(reason))
        else:
            self.connected.set()

    def publish(self, topic: str) -> None:
        self.client.publish(topic, b"{}", qos=1).wait_for_publish(5)

    def close(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()


def sync(conn: Connection, auth_dir: Path, *, at: datetime | None = None) -> None:
    """One pass of the broker_auth job, committed as the scheduler would."""
    conn.commit()
    broker_auth.run(conn, now=at or datetime.now(UTC), auth_dir=auth_dir, topic_prefix=PREFIX)
    conn.commit()


def connect(port: int, credential: IssuedCredential, **kwargs: str) -> Client:
    client = Client(port, credential.credential.username, credential.password, **kwargs)
    assert client.connected.wait(5), client.refused
    return client


def wait_for(event: threading.Event, what: str) -> None:
    assert event.wait(10), f"timed out waiting for {what}"


def test_a_device_publishes_only_its_own_topics_and_reads_nothing(conn: Connection, fleet: Fleet) -> None:
    ingest = issue_service_credential(conn, kind=CredentialKind.INGEST, username="liftbrain-ingest")
    device = issue_device_credential(conn, tenant=PLATFORM, unit_id=fleet.unit_a1)
    with authenticated_broker(conn) as (server, _):
        reader = connect(server.port, ingest)
        reader.client.subscribe(f"{PREFIX}/#", qos=1)
        snoop = connect(server.port, device)
        snoop.client.subscribe("#", qos=1)
        time.sleep(0.3)
        snoop.publish(f"{PREFIX}/{fleet.unit_a1}/telemetry")
        snoop.publish(f"{PREFIX}/{fleet.unit_b1}/event")  # forging another unit's entrapment
        snoop.publish(f"{PREFIX}/{fleet.unit_a1}/event")
        time.sleep(0.5)
        assert reader.messages == [f"{PREFIX}/{fleet.unit_a1}/telemetry", f"{PREFIX}/{fleet.unit_a1}/event"]
        assert snoop.messages == []
        for client in (reader, snoop):
            client.close()


def test_a_wrong_password_is_refused(conn: Connection, fleet: Fleet) -> None:
    device = issue_device_credential(conn, tenant=PLATFORM, unit_id=fleet.unit_a1)
    with authenticated_broker(conn) as (server, auth_dir):
        intruder = Client(server.port, device.credential.username, device.password + "x")
        time.sleep(1)
        assert not intruder.connected.is_set()
        assert intruder.refused == ["Not authorized"]
        before = _failures("not_authorised")
        sync(conn, auth_dir)
        assert _failures("not_authorised") == before + 1  # from the broker's own log line
        intruder.close()


def test_the_log_reader_counts_each_complete_line_once_and_survives_truncation(tmp_path: Path) -> None:
    log_file = tmp_path / BROKER_LOG_FILE
    log_file.write_bytes(b"1: Client <unknown> disconnected, not authorised.\n2: Client d1 already connected, closing")
    assert count_refusals(tmp_path) == {"not_authorised": 1}
    with log_file.open("ab") as appended:
        appended.write(b" old connection.\n3: New connection from 127.0.0.1:1 on port 1883.\n")
    assert count_refusals(tmp_path) == {"client_id_taken": 1}  # the line finished since
    assert count_refusals(tmp_path) == {}
    log_file.write_bytes(b"4: Client <unknown> disconnected, not authorised.\n")  # emptied and written again
    assert count_refusals(tmp_path) == {"not_authorised": 1}


def _failures(reason: str) -> float:
    return REGISTRY.get_sample_value("liftbrain_mqtt_auth_failures_total", {"reason": reason}) or 0.0


def test_revocation_disconnects_a_connected_device_and_no_other(conn: Connection, fleet: Fleet) -> None:
    revoked = issue_device_credential(conn, tenant=PLATFORM, unit_id=fleet.unit_a1)
    kept = issue_device_credential(conn, tenant=PLATFORM, unit_id=fleet.unit_b1)
    with authenticated_broker(conn) as (server, auth_dir):
        gone, stays = connect(server.port, revoked), connect(server.port, kept)
        revoke_credential(conn, tenant=PLATFORM, credential_id=revoked.credential.id)
        sync(conn, auth_dir)
        wait_for(gone.disconnected, "the revoked device to be disconnected")
        time.sleep(0.5)
        assert not stays.disconnected.is_set()
        again = Client(server.port, revoked.credential.username, revoked.password)
        time.sleep(1)
        assert again.refused == ["Not authorized"]
        for client in (gone, stays, again):
            client.close()


def test_a_rotated_credential_works_beside_its_successor_until_the_grace_ends(conn: Connection, fleet: Fleet) -> None:
    old = issue_device_credential(conn, tenant=PLATFORM, unit_id=fleet.unit_a1)
    with authenticated_broker(conn) as (server, auth_dir):
        new = rotate_credential(conn, tenant=PLATFORM, credential_id=old.credential.id, grace=timedelta(hours=1))
        sync(conn, auth_dir)
        both = [connect(server.port, old), connect(server.port, new)]
        sync(conn, auth_dir, at=datetime.now(UTC) + timedelta(hours=2))  # the grace period is over
        wait_for(both[0].disconnected, "the lapsed credential to be disconnected")
        assert not both[1].disconnected.is_set()
        for client in both:
            client.close()


def test_a_device_cannot_take_over_ingest_by_its_client_id(conn: Connection, fleet: Fleet) -> None:
    ingest = issue_service_credential(conn, kind=CredentialKind.INGEST, username="liftbrain-ingest")
    device = issue_device_credential(conn, tenant=PLATFORM, unit_id=fleet.unit_a1)
    with authenticated_broker(conn) as (server, _):
        consumer = connect(server.port, ingest)
        impostor = connect(server.port, device, client_id="liftbrain-ingest")
        time.sleep(0.5)
        assert not consumer.disconnected.is_set()
        for client in (consumer, impostor):
            client.close()


def test_the_job_renders_only_when_identities_or_files_changed(
    conn: Connection, fleet: Fleet, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    renders: list[int] = []

    def counted(c: Connection, *, now: datetime) -> list[BrokerIdentity]:
        renders.append(1)
        return active_identities(c, now=now)

    monkeypatch.setattr(broker_auth, "active_identities", counted)
    device = issue_device_credential(conn, tenant=PLATFORM, unit_id=fleet.unit_a1)
    later = datetime.now(UTC) + timedelta(minutes=1)
    sync(conn, tmp_path, at=later)
    sync(conn, tmp_path, at=later)
    assert len(renders) == 1  # nothing changed: one aggregate query, no render
    revoke_credential(conn, tenant=PLATFORM, credential_id=device.credential.id)
    sync(conn, tmp_path, at=later)
    assert len(renders) == 2
    assert device.credential.username not in (tmp_path / "passwd").read_text()
    (tmp_path / "acl").write_text("# edited by hand\n")
    sync(conn, tmp_path, at=later)
    assert len(renders) == 3
    assert "generated by liftbrain" in (tmp_path / "acl").read_text()
    rotated = issue_device_credential(conn, tenant=PLATFORM, unit_id=fleet.unit_b1)
    rotate_credential(conn, tenant=PLATFORM, credential_id=rotated.credential.id, grace=timedelta(hours=1))
    sync(conn, tmp_path, at=later)
    sync(conn, tmp_path, at=later + timedelta(hours=2))  # only time passed: the old credential lapsed
    assert len(renders) == 5
    assert rotated.credential.username not in (tmp_path / "passwd").read_text()


@contextmanager
def authenticated_broker(conn: Connection) -> Iterator[tuple[LocalMosquitto, Path]]:
    """A broker with authentication on, its files rendered from `conn`'s database."""
    data_dir = Path(tempfile.mkdtemp(prefix="liftbrain-auth-", dir="/tmp"))
    data_dir.chmod(0o755)
    auth_dir = auth_dir_for(data_dir)
    sync(conn, auth_dir)
    server = LocalMosquitto(data_dir, auth_dir=auth_dir)
    server.start()
    try:
        yield server, auth_dir
    finally:
        server.stop()
        shutil.rmtree(data_dir, ignore_errors=True)
