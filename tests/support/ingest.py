"""Driving ingest: waiting on a condition, reading a count, registering units, and a QoS 1 publisher."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import LiteralString

import msgspec
import paho.mqtt.client as mqtt
import psycopg
from paho.mqtt.enums import CallbackAPIVersion

from models.telemetry.contract import MessageKind, TelemetryBatch, TelemetrySample, topic_for


def wait_until(predicate: Callable[[], bool], *, timeout: float = 20.0, what: str = "condition") -> None:
    """Poll `predicate` until true, or fail the test."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def count(dsn: str, query: LiteralString) -> int:
    """A single integer from the database."""
    with psycopg.connect(dsn) as conn:
        row = conn.execute(query).fetchone()
    assert row is not None
    return int(row[0])


def register(dsn: str, *unit_ids: str) -> None:
    """Register units the way the lifecycle API would (ingest only needs the row)."""
    with psycopg.connect(dsn) as conn:
        conn.execute("INSERT INTO units (id) SELECT unnest(%s::text[])", (list(unit_ids),))


def batch_payload(start: datetime, n: int, **signals: float) -> bytes:
    """A telemetry batch of `n` samples one second apart."""
    samples = [TelemetrySample(ts=start + timedelta(seconds=i), **signals) for i in range(n)]  # type: ignore[arg-type]
    return msgspec.json.encode(TelemetryBatch(samples=samples))


class Publisher:
    """A QoS 1 test publisher with a persistent session (its unacked publishes survive a broker restart)."""

    def __init__(self, port: int, prefix: str) -> None:
        self.prefix = prefix
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"pub-{uuid.uuid4().hex[:10]}",
                                  clean_session=False)  # fmt: skip
        self.client.max_inflight_messages_set(200)
        # paho types the delays as int but sleeps on them as floats: a fifth of a second keeps the drills quick.
        self.client.reconnect_delay_set(0.2, 2)  # type: ignore[arg-type]
        self.client.connect("127.0.0.1", port)
        self.client.loop_start()
        self.infos: list[mqtt.MQTTMessageInfo] = []

    def send(self, unit_id: str, kind: MessageKind, payload: bytes, *, retain: bool = False) -> None:
        """Publish without waiting (paho resends after a reconnect)."""
        self.infos.append(self.client.publish(topic_for(unit_id, kind, prefix=self.prefix), payload, qos=1,
                                              retain=retain))  # fmt: skip

    def raw(self, topic: str, payload: bytes) -> None:
        """Publish to an arbitrary topic."""
        self.infos.append(self.client.publish(topic, payload, qos=1))

    def flush(self, timeout: float = 30.0) -> None:
        """Wait until the broker has acknowledged every publish."""
        wait_until(lambda: all(i.is_published() for i in self.infos), timeout=timeout, what="publishes acked")

    def close(self) -> None:
        """Disconnect."""
        self.client.loop_stop()
        self.client.disconnect()
