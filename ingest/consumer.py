"""The MQTT side of ingest: a persistent QoS 1 session with manual acks.

`on_message` runs in paho's network thread and must never raise or block: it parses the message and
queues it for the writer. The writer acks after its commit; acks of messages received before a reconnect
are never sent (packet ids are reused, and the broker redelivers those messages anyway).
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.reasoncodes import ReasonCode

from ingest import metrics
from ingest.parse import Accepted, Limits, Parsed, parse_message
from models.telemetry.contract import MessageKind
from runtime.settings import MqttAddress

__all__ = ["Delivery", "MqttConsumer"]

log = logging.getLogger(__name__)

KEEPALIVE_S = 30
RECONNECT_MIN_S = 1
RECONNECT_MAX_S = 30
# The broker's store counters (Mosquitto publishes them every sys_interval, 10 s by default): the queue depth
# of every session it keeps, a forgotten one's included, for /metrics and alerts.
BROKER_STATS = {
    "$SYS/broker/store/messages/count": metrics.BROKER_STORED_MESSAGES,
    "$SYS/broker/store/messages/bytes": metrics.BROKER_STORED_BYTES,
    "$SYS/broker/publish/messages/dropped": metrics.BROKER_DROPPED,
}


@dataclass(slots=True)
class Delivery:
    """A received message with what is needed to acknowledge it."""

    mid: int
    qos: int
    generation: int
    parsed: Parsed


class MqttConsumer:
    """Subscribes to every unit's topics and feeds parsed messages into `deliveries`."""

    def __init__(
        self,
        address: MqttAddress,
        *,
        client_id: str,
        limits: Limits,
        deliveries: queue.Queue[Delivery],
        shared_group: str | None = None,
    ) -> None:
        self.limits = limits
        self.deliveries = deliveries
        topic = f"{limits.topic_prefix}/+/+"
        self.subscription = f"$share/{shared_group}/{topic}" if shared_group else topic
        self.connected = threading.Event()  # set while connected and subscribed
        self._generation = 0
        self._ack_lock = threading.Lock()
        self._address = address
        # A stable client id and clean_session=False: the broker keeps our queue while we are away.
        self._client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=client_id,
            clean_session=False,
            protocol=mqtt.MQTTv311,
            manual_ack=True,
        )
        if address.username:
            self._client.username_pw_set(address.username, address.password)
        self._client.reconnect_delay_set(RECONNECT_MIN_S, RECONNECT_MAX_S)
        self._client.on_connect = self._on_connect
        self._client.on_subscribe = self._on_subscribe
        self._client.on_disconnect = self._on_disconnect
        self._client.on_message = self._on_message
        self._received = {kind: metrics.MESSAGES_RECEIVED.labels(kind=kind) for kind in [*MessageKind, "rejected"]}

    def start(self) -> None:
        """Connect in the background; paho reconnects by itself after a loss."""
        self._client.connect_async(self._address.host, self._address.port, keepalive=KEEPALIVE_S)
        self._client.loop_start()

    def stop(self) -> None:
        """Disconnect; unacked messages stay queued at the broker for the next session."""
        self._client.disconnect()
        self._client.loop_stop()

    def ack(self, deliveries: Sequence[Delivery]) -> int:
        """Acknowledge committed messages, in the order received; return how many acks were sent."""
        sent = 0
        with self._ack_lock:
            for delivery in deliveries:
                if delivery.qos > 0 and delivery.generation == self._generation:
                    self._client.ack(delivery.mid, delivery.qos)
                    sent += 1
        return sent

    def _on_connect(
        self, client: mqtt.Client, _userdata: Any, flags: mqtt.ConnectFlags, reason: ReasonCode, _props: Any
    ) -> None:
        if reason.is_failure:
            log.error("broker refused the connection: %s", reason)
            return
        with self._ack_lock:
            self._generation += 1
        # Resubscribe every time: a broker that lost our session (or a new one) has no subscription for us.
        client.subscribe([(self.subscription, 1), *((topic, 0) for topic in BROKER_STATS)])
        log.info("connected to %s (session present: %s), subscribed to %s", self._address, flags.session_present,
                 self.subscription)  # fmt: skip

    def _on_subscribe(
        self, _client: mqtt.Client, _userdata: Any, _mid: int, reasons: list[ReasonCode], _props: Any
    ) -> None:
        # Ready only once the broker holds the subscription: before that, messages are not ours to miss.
        # The data subscription comes first; the broker statistics are optional (a broker may refuse $SYS).
        if reasons[0].is_failure:
            log.error("broker refused the subscription to %s: %s", self.subscription, reasons[0])
            return
        if any(reason.is_failure for reason in reasons[1:]):
            log.warning("broker refused its statistics topics; liftbrain_broker_* metrics stay empty")
        self.connected.set()

    def _on_disconnect(
        self, _client: mqtt.Client, _userdata: Any, _flags: Any, reason: ReasonCode, _props: Any
    ) -> None:
        self.connected.clear()
        if reason.value != 0:
            log.warning("lost the broker (%s); reconnecting", reason)

    def _on_message(self, _client: mqtt.Client, _userdata: Any, message: mqtt.MQTTMessage) -> None:
        try:
            if message.topic in BROKER_STATS:
                BROKER_STATS[message.topic].set(float(message.payload))
                return
            # The retain flag marks the broker replaying stored state at (re)subscribe: state, not news.
            parsed = parse_message(message.topic, bytes(message.payload), self.limits, retained=message.retain)
            self._received[parsed.kind if isinstance(parsed, Accepted) else "rejected"].inc()
            self.deliveries.put(Delivery(message.mid, message.qos, self._generation, parsed))
        except Exception:  # paho would swallow it silently; log it and leave the message unacked
            log.exception("could not queue a message from %s", getattr(message, "topic", "?"))
