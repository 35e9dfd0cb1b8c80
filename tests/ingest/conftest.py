"""Fixtures for ingest tests: settings pointed at the session's servers, a publisher, registered units."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import pytest

from ingest.service import Ingest
from runtime.settings import Settings
from stack.mosquitto import LocalMosquitto
from tests.support.ingest import Publisher


@pytest.fixture
def settings_for(database_url: str, topic_prefix: str) -> Callable[..., Settings]:
    """Settings for an ingest against `broker`, with per-test prefix and client id."""
    client_id = f"ingest-{uuid.uuid4().hex[:10]}"

    def make(broker: LocalMosquitto, **overrides: object) -> Settings:
        values: dict[str, object] = {
            "database_url": database_url,
            "mqtt_url": broker.url,
            "mqtt_topic_prefix": topic_prefix,
            "ingest_client_id": client_id,
            "ingest_batch_max_seconds": 0.05,
            "ingest_http_port": 0,
        }
        values.update(overrides)
        return Settings(**values)  # type: ignore[arg-type]

    return make


@pytest.fixture
def ingest(settings_for: Callable[..., Settings], mosquitto: LocalMosquitto) -> Iterator[Ingest]:
    """A running ingest pipeline on the session broker."""
    pipeline = Ingest(settings_for(mosquitto))
    pipeline.start()
    assert pipeline.consumer.connected.wait(10)
    yield pipeline
    pipeline.stop()


@pytest.fixture
def publisher(mosquitto: LocalMosquitto, topic_prefix: str) -> Iterator[Publisher]:
    """A publisher on the session broker under the test's prefix."""
    pub = Publisher(mosquitto.port, topic_prefix)
    yield pub
    pub.close()


@pytest.fixture
def now() -> datetime:
    """The current time, truncated to the second (samples are a second apart)."""
    return datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=5)
