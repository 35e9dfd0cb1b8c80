"""One MQTT connection publishing for the whole fleet: QoS 1, a bounded window of unacknowledged messages,
an optional rate limit.

A fleet shares one connection, so there is no per-unit last will (MQTT has one will per connection): the
simulator publishes each unit's retained online status itself, a retained offline status when a unit's
simulated power is cut, and a retained offline for every unit when it stops cleanly. A crashed simulator
leaves its units "online"; the last telemetry time tells they went quiet.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from runtime.errors import OperatorError
from runtime.settings import MqttAddress

__all__ = ["Publisher"]

log = logging.getLogger(__name__)

QOS = 1
# paho allows 20 unacknowledged QoS 1 publishes by default, which caps a bulk replay near 20 round trips.
MAX_INFLIGHT = 1000
# Our own bound on published-but-unacknowledged messages (paho's queue included). Far below the 65,535
# message ids paho has: queueing ~100k QoS 1 messages at once wrapped the ids and lost a third of them.
WINDOW = 10_000
CONNECT_TIMEOUT_S = 15.0
# A broker that acknowledges nothing for this long is gone, not slow.
ACK_TIMEOUT_S = 60.0
KEEPALIVE_S = 30


class Publisher:
    """Publishes with at most WINDOW messages unacknowledged and at most `rate` messages per second."""

    def __init__(self, address: MqttAddress, *, client_id: str, rate: float | None = None) -> None:
        self._address = address
        self._interval = 1.0 / rate if rate else 0.0
        self._next_at = 0.0
        self._acked = 0
        self._sent = 0
        self._connected = threading.Event()
        self._closing = False
        self._progress = threading.Condition()
        self._client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id, clean_session=True)
        self._client.max_inflight_messages_set(MAX_INFLIGHT)
        if address.username:
            self._client.username_pw_set(address.username, address.password)
        self._client.on_connect = self._on_connect
        self._client.on_disconnect = self._on_disconnect
        self._client.on_publish = self._on_publish

    @property
    def published(self) -> int:
        """Messages handed to the client so far."""
        return self._sent

    @property
    def acknowledged(self) -> int:
        """Messages the broker has acknowledged so far."""
        return self._acked

    def _on_connect(self, _c: mqtt.Client, _u: Any, _f: Any, reason: Any, _p: Any) -> None:
        if reason.is_failure:
            log.error("broker refused the connection: %s", reason)
            return
        self._connected.set()

    def _on_disconnect(self, _c: mqtt.Client, _u: Any, _f: Any, reason: Any, _p: Any) -> None:
        self._connected.clear()
        if not self._closing:
            log.warning("disconnected from the broker (%s); paho reconnects and resends", reason)

    def _on_publish(self, _c: mqtt.Client, _u: Any, _mid: int, _reason: Any, _p: Any) -> None:
        with self._progress:
            self._acked += 1
            self._progress.notify_all()

    def connect(self) -> None:
        """Connect and start the network thread; raise OperatorError if the broker does not answer."""
        self._client.connect_async(self._address.host, self._address.port, keepalive=KEEPALIVE_S)
        self._client.loop_start()
        if not self._connected.wait(CONNECT_TIMEOUT_S):
            self._client.loop_stop()
            raise OperatorError(f"no MQTT connection to {self._address.host}:{self._address.port}")

    def _wait_below(self, limit: int, timeout: float) -> None:
        """Block until fewer than `limit` messages are unacknowledged."""
        deadline = time.monotonic() + timeout
        with self._progress:
            while self._sent - self._acked >= limit:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise OperatorError(f"broker acknowledged nothing for {timeout:.0f}s")
                # Acks advance the deadline: only a stalled broker times out, not a slow long drain.
                before = self._acked
                self._progress.wait(min(remaining, 1.0))
                if self._acked != before:
                    deadline = time.monotonic() + timeout

    def publish(self, topic: str, payload: bytes, *, retain: bool = False) -> None:
        """Publish at QoS 1, waiting for window space and for the rate limit."""
        if self._interval:
            now = time.monotonic()
            self._next_at = max(self._next_at + self._interval, now)
            if self._next_at > now:
                time.sleep(self._next_at - now)
        self._wait_below(WINDOW, ACK_TIMEOUT_S)
        info = self._client.publish(topic, payload, qos=QOS, retain=retain)
        if info.rc not in (mqtt.MQTT_ERR_SUCCESS, mqtt.MQTT_ERR_NO_CONN):
            raise OperatorError(f"publish refused: {mqtt.error_string(info.rc)}")
        with self._progress:
            self._sent += 1

    def close(self, *, timeout: float = ACK_TIMEOUT_S) -> int:
        """Wait up to `timeout` s for the last acknowledgements, disconnect; return how many never came."""
        try:
            self._wait_below(1, timeout)
        except OperatorError:
            log.warning("%d messages unacknowledged at close", self._sent - self._acked)
        finally:
            self._closing = True
            self._client.disconnect()
            self._client.loop_stop()
        return max(0, self._sent - self._acked)
