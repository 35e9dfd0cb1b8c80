"""The test servers themselves work: TimescaleDB hypertables exist, a message round-trips the broker."""

from __future__ import annotations

import threading

import paho.mqtt.client as mqtt
import psycopg
from paho.mqtt.enums import CallbackAPIVersion

from stack.mosquitto import LocalMosquitto


def test_migrated_database_has_timescaledb_hypertables(database_url: str) -> None:
    with psycopg.connect(database_url) as conn:
        rows = conn.execute("SELECT hypertable_name FROM timescaledb_information.hypertables").fetchall()
    assert {"telemetry", "events", "unit_status_changes"} <= {r[0] for r in rows}


def test_each_test_gets_a_clean_database(database_url: str) -> None:
    with psycopg.connect(database_url) as conn:
        conn.execute("INSERT INTO units (id) VALUES ('clean-check')")
        conn.commit()
        count = conn.execute("SELECT count(*) FROM units").fetchone()
    assert count == (1,)


def test_message_round_trips_the_broker(mosquitto: LocalMosquitto, topic_prefix: str) -> None:
    received: list[bytes] = []
    got = threading.Event()
    client = mqtt.Client(CallbackAPIVersion.VERSION2)

    def on_message(_c: mqtt.Client, _u: object, msg: mqtt.MQTTMessage) -> None:
        received.append(bytes(msg.payload))
        got.set()

    client.on_message = on_message
    client.connect("127.0.0.1", mosquitto.port)
    client.subscribe(f"{topic_prefix}/#", qos=1)
    client.loop_start()
    try:
        client.publish(f"{topic_prefix}/u1/status", b"ping", qos=1).wait_for_publish(5)
        assert got.wait(5)
    finally:
        client.loop_stop()
        client.disconnect()
    assert received == [b"ping"]
