"""The broker configuration shipped for docker-compose is the one the embedded stack generates."""

from __future__ import annotations

from pathlib import Path

from stack.mosquitto import MAX_INFLIGHT_MESSAGES, mosquitto_config

DEPLOY_CONF = Path(__file__).resolve().parents[2] / "deploy" / "mosquitto.conf"


def test_deploy_mosquitto_conf_matches_the_generated_one() -> None:
    expected = mosquitto_config(
        port=1883, persistence_dir=Path("/mosquitto/data"), auth_dir=Path("/mosquitto/auth"), host=""
    )
    assert DEPLOY_CONF.read_text() == expected


def test_broker_window_holds_an_ingest_batch() -> None:
    """Manual acks after a batched commit need the broker to send a whole batch before any ack."""
    from models.settings import Settings

    assert Settings().ingest_batch_max_messages * 2 <= MAX_INFLIGHT_MESSAGES
