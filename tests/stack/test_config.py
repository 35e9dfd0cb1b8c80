"""The broker configuration: what docker-compose ships is what the embedded stack generates, and its bounds
keep the at-least-once promise the README states."""

from __future__ import annotations

from pathlib import Path

from runtime.settings import Settings
from stack import mosquitto
from stack.mosquitto import mosquitto_config

DEPLOY_CONF = Path(__file__).resolve().parents[2] / "deploy" / "mosquitto.conf"


def test_deploy_mosquitto_conf_matches_the_generated_one() -> None:
    expected = mosquitto_config(
        port=1883, persistence_dir=Path("/mosquitto/data"), auth_dir=Path("/mosquitto/auth"), host=""
    )
    assert DEPLOY_CONF.read_text() == expected


def test_broker_window_holds_an_ingest_batch() -> None:
    """Manual acks after a batched commit need the broker to send a whole batch before any ack."""
    assert Settings().ingest_batch_max_messages * 2 <= mosquitto.MAX_INFLIGHT_MESSAGES


def test_queue_bounds_hold_the_promised_outage() -> None:
    assert mosquitto.MAX_QUEUED_MESSAGES >= mosquitto.PROMISED_OUTAGE_S * mosquitto.PROMISED_INFLOW_MESSAGES_S
    assert mosquitto.MAX_QUEUED_BYTES >= mosquitto.PROMISED_OUTAGE_S * mosquitto.PROMISED_INFLOW_BYTES_S


def test_forgotten_sessions_expire_after_any_promised_outage() -> None:
    value, unit = int(mosquitto.SESSION_EXPIRY[:-1]), mosquitto.SESSION_EXPIRY[-1]
    expiry_s = value * {"h": 3600, "d": 86400, "w": 7 * 86400}[unit]
    assert mosquitto.PROMISED_OUTAGE_S < expiry_s <= 7 * 86400
    config = mosquitto_config(port=1883, persistence_dir=Path("/x"), auth_dir=None)
    assert f"persistent_client_expiration {mosquitto.SESSION_EXPIRY}\n" in config
    assert f"max_queued_bytes {mosquitto.MAX_QUEUED_BYTES}\n" in config
