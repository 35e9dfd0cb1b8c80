"""The API under test: the real app (lifespan, pool) on the test's database and the session's broker."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from runtime.settings import Settings
from stack.mosquitto import LocalMosquitto


@pytest.fixture
def client(database_url: str, mosquitto: LocalMosquitto) -> Iterator[TestClient]:
    """A client of the app; pass a key per request with `auth(key)`."""
    app = create_app(Settings(database_url=database_url, mqtt_url=mosquitto.url))
    with TestClient(app) as test_client:
        yield test_client
