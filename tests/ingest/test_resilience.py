"""At-least-once under failure (the fault drills): broker restart and kill -9, database restart, kill -9 of the
consumer, the consumer away while a backlog builds. Each counts lost and duplicated rows."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta

import pytest

from ingest.service import Ingest
from models.telemetry.contract import MessageKind
from runtime.settings import Settings
from stack.mosquitto import AUTOSAVE_INTERVAL_S, LocalMosquitto
from stack.postgres import LocalPostgres
from tests.support.ingest import Publisher, batch_payload, count, register, wait_until

# The slow tier (fault drills against real servers): `scripts/check.sh --fast` leaves it out.
pytestmark = pytest.mark.slow

MESSAGES = 300
SAMPLES = 10
UNITS = 5


def publish_stream(publisher: Publisher, now: datetime, *, pause: float = 0.005) -> threading.Thread:
    """Publish MESSAGES distinct telemetry messages in the background, slowly enough to span a failure."""

    def run() -> None:
        for i in range(MESSAGES):
            start = now - timedelta(seconds=SAMPLES * (i // UNITS))
            publisher.send(f"u{i % UNITS}", MessageKind.TELEMETRY, batch_payload(start, SAMPLES))
            time.sleep(pause)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def expected_rows() -> int:
    return MESSAGES * SAMPLES


STREAM_ROWS = "SELECT count(*) FROM telemetry WHERE unit_id <> 'probe'"
DUPLICATED_ROWS = "SELECT count(*) - count(DISTINCT (unit_id, time)) FROM telemetry"


def lost_and_duplicated(database_url: str) -> tuple[int, int]:
    """Rows of the stream missing from the table, and rows stored twice."""
    return expected_rows() - count(database_url, STREAM_ROWS), count(database_url, DUPLICATED_ROWS)


def all_rows_arrived(database_url: str, *, what: str) -> None:
    """Wait for the whole stream, then check none is lost or doubled."""
    try:
        wait_until(lambda: count(database_url, STREAM_ROWS) >= expected_rows(), timeout=60, what=what)
    finally:
        assert lost_and_duplicated(database_url) == (0, 0)


def test_broker_restart_mid_stream_loses_nothing(
    settings_for: Callable[..., Settings], own_mosquitto: LocalMosquitto, database_url: str, topic_prefix: str,
    now: datetime,
) -> None:  # fmt: skip
    register(database_url, *(f"u{i}" for i in range(UNITS)))
    pipeline = Ingest(settings_for(own_mosquitto))
    pipeline.start()
    publisher = Publisher(own_mosquitto.port, topic_prefix)
    try:
        assert pipeline.consumer.connected.wait(10)
        stream = publish_stream(publisher, now)
        wait_until(lambda: count(database_url, "SELECT count(*) FROM telemetry") > 200, what="rows before restart")
        own_mosquitto.stop()
        time.sleep(0.5)
        own_mosquitto.start()
        stream.join(60)
        all_rows_arrived(database_url, what="every row after the broker restart")
    finally:
        publisher.close()
        pipeline.stop()


def test_broker_kill_9_mid_stream_loses_nothing_the_consumer_held(
    settings_for: Callable[..., Settings], own_mosquitto: LocalMosquitto, database_url: str, topic_prefix: str,
    now: datetime,
) -> None:  # fmt: skip
    """A kill -9 loses what the broker acknowledged since its last autosave and had not yet forwarded (the
    sessions themselves included: hence the wait for one save); with the consumer keeping up that is nothing,
    and what it had forwarded before the save comes again (absorbed)."""
    register(database_url, *(f"u{i}" for i in range(UNITS)))
    pipeline = Ingest(settings_for(own_mosquitto))
    pipeline.start()
    publisher = Publisher(own_mosquitto.port, topic_prefix)
    try:
        assert pipeline.consumer.connected.wait(10)
        time.sleep(AUTOSAVE_INTERVAL_S + 1)  # the consumer's session is on disk
        stream = publish_stream(publisher, now)
        wait_until(lambda: count(database_url, STREAM_ROWS) > 200, what="rows before the kill")
        own_mosquitto.kill()
        time.sleep(0.5)
        own_mosquitto.start()
        stream.join(60)
        all_rows_arrived(database_url, what="every row after the broker's kill -9")
    finally:
        publisher.close()
        pipeline.stop()


def test_database_restart_mid_stream_loses_nothing(
    ingest: Ingest, publisher: Publisher, postgres: LocalPostgres, database_url: str, now: datetime
) -> None:
    register(database_url, *(f"u{i}" for i in range(UNITS)))
    stream = publish_stream(publisher, now)
    wait_until(lambda: count(database_url, "SELECT count(*) FROM telemetry") > 200, what="rows before the outage")
    postgres.kill()  # immediate shutdown, as a crash
    time.sleep(1.5)  # ingest meets the outage and must hold its acks
    postgres.start()
    stream.join(60)
    all_rows_arrived(database_url, what="every row after the database restart")
    assert ingest.writer.database_ok.is_set()


def test_consumer_away_while_a_backlog_builds_loses_nothing(
    settings_for: Callable[..., Settings], mosquitto: LocalMosquitto, publisher: Publisher, database_url: str,
    now: datetime,
) -> None:  # fmt: skip
    register(database_url, *(f"u{i}" for i in range(UNITS)))
    settings = settings_for(mosquitto)
    first = Ingest(settings)
    first.start()
    assert first.consumer.connected.wait(10)
    first.stop()  # its persistent session stays at the broker and queues what follows
    publish_stream(publisher, now, pause=0).join(60)
    publisher.flush()
    assert count(database_url, STREAM_ROWS) == 0
    second = Ingest(settings)
    second.start()
    try:
        all_rows_arrived(database_url, what="the backlog drained")
    finally:
        second.stop()


def _probe(publisher: Publisher, database_url: str, now: datetime) -> bool:
    """Publish a probe sample; True once one has landed (the consumer is subscribed)."""
    publisher.send("probe", MessageKind.TELEMETRY, batch_payload(now - timedelta(seconds=len(publisher.infos)), 1))
    time.sleep(0.2)
    return count(database_url, "SELECT count(*) FROM telemetry WHERE unit_id = 'probe'") > 0


def _ingest_process(settings: Settings) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "LIFTBRAIN_DATABASE_URL": str(settings.database_url),
        "LIFTBRAIN_MQTT_URL": str(settings.mqtt_url),
        "LIFTBRAIN_MQTT_TOPIC_PREFIX": settings.mqtt_topic_prefix,
        "LIFTBRAIN_INGEST_CLIENT_ID": settings.ingest_client_id,
        "LIFTBRAIN_INGEST_HTTP_PORT": "0",
    }
    return subprocess.Popen([sys.executable, "-m", "cli.main", "ingest"], env=env, stderr=subprocess.DEVNULL)


def test_kill_9_of_the_consumer_mid_stream_loses_nothing(
    settings_for: Callable[..., Settings], mosquitto: LocalMosquitto, publisher: Publisher, database_url: str,
    now: datetime,
) -> None:  # fmt: skip
    register(database_url, "probe", *(f"u{i}" for i in range(UNITS)))
    settings = settings_for(mosquitto)
    first = _ingest_process(settings)
    try:
        # The process takes a moment to subscribe; what is published before its session exists is not for it.
        wait_until(lambda: _probe(publisher, database_url, now), what="the process subscribed")
        stream = publish_stream(publisher, now, pause=0.01)
        wait_until(lambda: count(database_url, STREAM_ROWS) > 300, what="rows before the kill")
        first.send_signal(signal.SIGKILL)
        first.wait(10)
        killed_at = count(database_url, STREAM_ROWS)
        stream.join(60)
        publisher.flush()
    finally:
        first.kill()
        first.wait()
    second = _ingest_process(settings)
    try:
        all_rows_arrived(database_url, what="every row after the restart")
    finally:
        second.send_signal(signal.SIGTERM)
        assert second.wait(20) == 0
    assert killed_at < expected_rows()
