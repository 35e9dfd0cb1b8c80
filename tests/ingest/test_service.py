"""Ingest as operators see it: health about connections (not traffic), metrics per reason, retained state."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from functools import partial

from prometheus_client import REGISTRY

from ingest.service import Ingest
from models.telemetry.contract import MessageKind
from runtime.settings import Settings
from stack._process import free_port
from stack.mosquitto import LocalMosquitto
from tests.support.ingest import Publisher, batch_payload, count, register, wait_until


def _handled(pipeline: Ingest, messages: int) -> bool:
    return pipeline.writer.totals.messages >= messages


def test_idle_ingest_is_healthy_before_any_traffic(ingest: Ingest) -> None:
    wait_until(lambda: ingest.health() == {"broker": True, "database": True}, timeout=10, what="healthy when idle")


def test_idle_ingest_reports_an_unreachable_database(
    settings_for: Callable[..., Settings], mosquitto: LocalMosquitto
) -> None:
    pipeline = Ingest(settings_for(mosquitto, database_url=f"postgresql://postgres@127.0.0.1:{free_port()}/none"))
    pipeline.start()
    try:
        wait_until(lambda: pipeline.health() == {"broker": True, "database": False}, timeout=15,
                   what="broker connected, database unreachable")  # fmt: skip
    finally:
        pipeline.stop()


def test_dead_letters_are_counted_per_reason(ingest: Ingest, publisher: Publisher, database_url: str) -> None:
    def malformed() -> float:
        return REGISTRY.get_sample_value("liftbrain_ingest_dead_letters_total", {"reason": "malformed"}) or 0.0

    before = malformed()
    publisher.send("u1", MessageKind.TELEMETRY, b"{nope")
    wait_until(lambda: malformed() == before + 1, what="the malformed counter")


def test_broker_queue_depth_is_in_the_metrics(ingest: Ingest) -> None:
    wait_until(lambda: REGISTRY.get_sample_value("liftbrain_broker_stored_messages") is not None, timeout=15,
               what="the broker's stored message count")  # fmt: skip


def test_retained_state_is_not_news_at_each_reconnect(
    settings_for: Callable[..., Settings], mosquitto: LocalMosquitto, publisher: Publisher, database_url: str,
    now: datetime,
) -> None:  # fmt: skip
    register(database_url, "u1", "u2", "u3")
    publisher.send("u1", MessageKind.STATUS, b'{"state": "offline"}', retain=True)  # a will, retained
    publisher.send("u2", MessageKind.STATUS, b'{"state": "online"}', retain=True)  # no ts: not a sighting
    publisher.send("u3", MessageKind.STATUS, b'{"state": "bogus"}', retain=True)  # refused once, not per reconnect
    publisher.flush()
    settings = settings_for(mosquitto)
    for _ in range(3):  # three (re)connections of the same persistent session, each sees the retained state
        pipeline = Ingest(settings)
        pipeline.start()
        try:
            assert pipeline.consumer.connected.wait(10)
            publisher.send("u3", MessageKind.TELEMETRY, batch_payload(now, 1))  # a marker behind the replay
            wait_until(partial(_handled, pipeline, 4), what="retained replay and marker handled")
        finally:
            pipeline.stop()
    assert count(database_url, "SELECT count(*) FROM unit_status_changes") == 0
    assert count(database_url, "SELECT count(*) FROM units WHERE last_seen IS NOT NULL AND id <> 'u3'") == 0
    assert count(database_url, "SELECT count(*) FROM dead_letters") == 1
    for unit in ("u1", "u2", "u3"):
        publisher.send(unit, MessageKind.STATUS, b"", retain=True)  # clear the retained messages
    publisher.flush()
