"""Ingest end to end through the real broker and database: round trip, duplicates, registry, status."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import msgspec
import psycopg

from ingest.service import Ingest
from models.telemetry.contract import EventMessage, MessageKind, StatusMessage
from runtime.settings import Settings
from stack.mosquitto import LocalMosquitto
from tests.support.ingest import Publisher, batch_payload, count, register, wait_until


def test_telemetry_event_and_status_round_trip(
    ingest: Ingest, publisher: Publisher, database_url: str, now: datetime
) -> None:
    register(database_url, "u1")
    publisher.send("u1", MessageKind.TELEMETRY, batch_payload(now, 20, speed_mps=1.5, load_pct=40.0))
    publisher.send("u1", MessageKind.EVENT, msgspec.json.encode(EventMessage(ts=now, code="door_close_fault", floor=3)))
    publisher.send("u1", MessageKind.STATUS, msgspec.json.encode(StatusMessage(state="online", ts=now)), retain=True)
    wait_until(lambda: count(database_url, "SELECT count(*) FROM unit_status_changes") == 1, what="status row")
    wait_until(lambda: count(database_url, "SELECT count(*) FROM telemetry") == 20, what="telemetry rows")
    with psycopg.connect(database_url) as conn:
        speed, load, received = conn.execute(
            "SELECT avg(speed_mps), avg(load_pct), min(received_at) FROM telemetry WHERE unit_id = 'u1'"
        ).fetchone() or (None, None, None)
        event = conn.execute("SELECT code, category, gb_code, floor FROM events").fetchone()
        online, last_seen = conn.execute("SELECT online, last_seen FROM units WHERE id = 'u1'").fetchone() or (0, 0)
    assert (speed, load) == (1.5, 40.0)
    assert received >= now
    assert event == ("door_close_fault", "fault", 2, 3)
    assert online is True
    assert last_seen is not None


def test_redelivered_messages_are_absorbed(
    ingest: Ingest, publisher: Publisher, database_url: str, now: datetime
) -> None:
    register(database_url, "u1", "u2")
    payload = batch_payload(now, 50, speed_mps=1.0)
    for _ in range(3):
        publisher.send("u1", MessageKind.TELEMETRY, payload)
    publisher.send("u2", MessageKind.TELEMETRY, payload)
    publisher.flush()
    wait_until(lambda: ingest.writer.totals.messages == 4, what="4 messages committed")
    assert count(database_url, "SELECT count(*) FROM telemetry") == 100
    assert ingest.writer.totals.telemetry_rows - ingest.writer.totals.telemetry_new == 100


def test_duplicate_samples_inside_one_batch_are_absorbed(
    ingest: Ingest, publisher: Publisher, database_url: str, now: datetime
) -> None:
    register(database_url, "u1")
    doubled = batch_payload(now, 5).replace(b'{"samples":[', b'{"samples":[{"ts":"' + now.isoformat().encode() + b'"},')
    publisher.send("u1", MessageKind.TELEMETRY, doubled)
    wait_until(lambda: ingest.writer.totals.messages == 1, what="message committed")
    assert count(database_url, "SELECT count(*) FROM telemetry") == 5


def test_unknown_units_are_registered_when_configured(
    settings_for: Callable[..., Settings], mosquitto: LocalMosquitto, publisher: Publisher, database_url: str,
    now: datetime,
) -> None:  # fmt: skip
    pipeline = Ingest(settings_for(mosquitto, ingest_auto_register=True))
    pipeline.start()
    try:
        assert pipeline.consumer.connected.wait(10)
        publisher.send("new-unit-7", MessageKind.TELEMETRY, batch_payload(now, 3))
        wait_until(lambda: count(database_url, "SELECT count(*) FROM telemetry") == 3, what="rows of a new unit")
    finally:
        pipeline.stop()
    assert count(database_url, "SELECT count(*) FROM units WHERE id = 'new-unit-7' AND auto_registered") == 1
    assert count(database_url, "SELECT count(*) FROM dead_letters") == 0


def test_offline_last_will_marks_the_unit_offline(
    ingest: Ingest, publisher: Publisher, database_url: str, now: datetime
) -> None:
    register(database_url, "u1")
    publisher.send("u1", MessageKind.STATUS, msgspec.json.encode(StatusMessage(state="online", ts=now)))
    publisher.send("u1", MessageKind.STATUS, b'{"state": "offline"}')
    wait_until(lambda: count(database_url, "SELECT count(*) FROM unit_status_changes") == 2, what="status rows")
    assert count(database_url, "SELECT count(*) FROM units WHERE id = 'u1' AND NOT online") == 1


def test_a_late_online_status_does_not_undo_a_newer_offline(
    ingest: Ingest, publisher: Publisher, database_url: str, now: datetime
) -> None:
    register(database_url, "u1")
    publisher.send("u1", MessageKind.STATUS, msgspec.json.encode(StatusMessage(state="offline", ts=now)))
    publisher.flush()
    wait_until(lambda: count(database_url, "SELECT count(*) FROM unit_status_changes") == 1, what="offline row")
    late = msgspec.json.encode(StatusMessage(state="online", ts=now - timedelta(minutes=1)))
    publisher.send("u1", MessageKind.STATUS, late)
    wait_until(lambda: count(database_url, "SELECT count(*) FROM unit_status_changes") == 2, what="late row")
    assert count(database_url, "SELECT count(*) FROM units WHERE id = 'u1' AND NOT online") == 1


def test_shared_subscription_splits_the_stream_without_loss(
    settings_for: Callable[..., Settings], mosquitto: LocalMosquitto, publisher: Publisher, database_url: str,
    now: datetime,
) -> None:  # fmt: skip
    register(database_url, *(f"u{i}" for i in range(10)))
    pipelines = [
        Ingest(settings_for(mosquitto, ingest_shared_group="g1", ingest_client_id=f"shared-{n}-{id(publisher)}"))
        for n in range(2)
    ]
    for p in pipelines:
        p.start()
        assert p.consumer.connected.wait(10)
    try:
        for i in range(200):
            publisher.send(f"u{i % 10}", MessageKind.TELEMETRY, batch_payload(now - timedelta(hours=i), 10))
        publisher.flush()
        wait_until(lambda: count(database_url, "SELECT count(*) FROM telemetry") == 2000, what="2000 rows")
    finally:
        for p in pipelines:
            p.stop()
    assert all(p.writer.totals.messages > 0 for p in pipelines)


def test_data_from_a_unit_marked_offline_brings_it_back_online(
    ingest: Ingest, publisher: Publisher, database_url: str, now: datetime
) -> None:
    register(database_url, "u1")  # registered units start offline until they show a sign of life
    publisher.send("u1", MessageKind.TELEMETRY, batch_payload(now, 2))
    wait_until(lambda: count(database_url, "SELECT count(*) FROM units WHERE id = 'u1' AND online") == 1,
               what="unit online after its data")  # fmt: skip


def test_data_processed_after_a_newer_last_will_keeps_the_unit_offline(
    ingest: Ingest, publisher: Publisher, database_url: str, now: datetime
) -> None:
    register(database_url, "u1")
    later = datetime.now(UTC) + timedelta(seconds=60)
    publisher.send("u1", MessageKind.STATUS, msgspec.json.encode(StatusMessage(state="offline", ts=later)))
    publisher.flush()
    wait_until(lambda: count(database_url, "SELECT count(*) FROM unit_status_changes") == 1, what="offline row")
    publisher.send("u1", MessageKind.TELEMETRY, batch_payload(now, 2))
    wait_until(lambda: count(database_url, "SELECT count(*) FROM telemetry") == 2, what="telemetry rows")
    assert count(database_url, "SELECT count(*) FROM units WHERE id = 'u1' AND NOT online") == 1
