"""A replay through the real broker: every published message arrives and decodes with the contract."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from models.telemetry.contract import MessageKind, decode_event, decode_status, decode_telemetry, parse_topic
from runtime.settings import parse_mqtt_url
from simulators.publisher import Publisher
from simulators.runner import RunConfig, run
from stack.mosquitto import LocalMosquitto
from tests.simulators.support import START

ARRIVAL_TIMEOUT_S = 20.0


class Subscriber:
    """Collects every message under a topic prefix."""

    def __init__(self, broker: LocalMosquitto, prefix: str) -> None:
        self.messages: list[tuple[str, bytes]] = []
        self._lock = threading.Lock()
        subscribed = threading.Event()
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"sub-{prefix}")
        self.client.on_message = lambda _c, _u, msg: self._keep(msg.topic, bytes(msg.payload))
        self.client.on_subscribe = lambda *_args: subscribed.set()
        self.client.on_connect = lambda client, *_args: client.subscribe(f"{prefix}/#", qos=1)
        self.client.connect("127.0.0.1", broker.port)
        self.client.loop_start()
        assert subscribed.wait(10)

    def _keep(self, topic: str, payload: bytes) -> None:
        with self._lock:
            self.messages.append((topic, payload))

    def wait_for(self, count: int) -> None:
        deadline = time.monotonic() + ARRIVAL_TIMEOUT_S
        while len(self.messages) < count and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.2)  # anything beyond `count` would be a duplicate or a stray: let it arrive too

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


@pytest.fixture
def subscriber(mosquitto: LocalMosquitto, topic_prefix: str) -> Iterator[Subscriber]:
    sub = Subscriber(mosquitto, topic_prefix)
    yield sub
    sub.close()


def _config(tmp_path: Path, prefix: str, **overrides: object) -> RunConfig:
    values: dict[str, object] = {
        "units": 5, "seed": 2, "start": START, "sample_period_s": 30.0, "samples_per_message": 20,
        "labels_path": tmp_path / "labels.jsonl", "topic_prefix": prefix, "days": 0.5, "hazard_scale": 50.0,
    }  # fmt: skip
    values.update(overrides)
    return RunConfig(**values)  # type: ignore[arg-type]


def test_replay_arrives_complete_and_decodes(
    mosquitto: LocalMosquitto, subscriber: Subscriber, topic_prefix: str, tmp_path: Path
) -> None:
    publisher = Publisher(parse_mqtt_url(mosquitto.url), client_id=f"pub-{topic_prefix}")
    publisher.connect()
    summary = run(_config(tmp_path, topic_prefix), publisher, stop=threading.Event())
    publisher.close()
    assert publisher.acknowledged == publisher.published == summary.messages
    subscriber.wait_for(summary.messages)
    assert len(subscriber.messages) == summary.messages
    samples = 0
    for topic, payload in subscriber.messages:
        kind = parse_topic(topic, prefix=topic_prefix).kind
        if kind is MessageKind.TELEMETRY:
            samples += len(decode_telemetry(payload))
        elif kind is MessageKind.EVENT:
            decode_event(payload)
        else:
            decode_status(payload)
    assert samples == summary.samples


def test_realtime_run_follows_the_clock_and_stops_cleanly(
    mosquitto: LocalMosquitto, subscriber: Subscriber, topic_prefix: str, tmp_path: Path
) -> None:
    stop = threading.Event()
    threading.Timer(1.5, stop.set).start()
    start = datetime.now(UTC)
    config = _config(tmp_path, topic_prefix, start=start, days=None, realtime=True, sample_period_s=0.25,
                     samples_per_message=2, hazard_scale=1.0)  # fmt: skip
    publisher = Publisher(parse_mqtt_url(mosquitto.url), client_id=f"pub-{topic_prefix}")
    publisher.connect()
    began = time.monotonic()
    summary = run(config, publisher, stop=stop)
    publisher.close()
    assert 1.2 < time.monotonic() - began < 4.0
    assert 4 <= summary.steps <= 7
    subscriber.wait_for(summary.messages)
    statuses = [decode_status(p).state for t, p in subscriber.messages if t.endswith("/status")]
    assert statuses[:5] == ["online"] * 5
    assert statuses[-5:] == ["offline"] * 5
