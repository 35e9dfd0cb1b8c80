"""What device authentication costs the broker: connecting a fleet, a reconnect storm, and QoS 1 throughput
through ACL checks, each measured with authentication on and, in the same run, on an anonymous broker.

    .venv/bin/python bench/broker_auth.py [--devices 10000] [--messages 20000]

Every device has its own credential (PBKDF2-SHA512 hash in the password file, three ACL lines). All clients
run in this one process on a selector loop. Prints a table, then one JSON object with every figure.
"""

from __future__ import annotations

import argparse
import json
import resource
import selectors
import shutil
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from models.access.mqtt_credentials import (
    ACL_FILE,
    CREDENTIALS_FILE,
    BrokerIdentity,
    CredentialKind,
    mosquitto_hash,
    render_broker_auth,
)
from stack._process import free_port
from stack.mosquitto import LocalMosquitto, auth_dir_for

PREFIX = "bench/v1"
PASSWORD = "bench-password-of-a-device-0123456789"
SUBSCRIBER = "bench-ingest"
# Every device's password hash is the same computation; hashing 10,000 of them would time the bench, not the broker.
SHARED_HASH = mosquitto_hash(PASSWORD)
SETTLE_TIMEOUT_S = 120.0


@dataclass
class Fleet:
    """Many paho clients driven by one selector loop."""

    clients: list[mqtt.Client]
    connected: set[int]

    def pump(self, until: float, done: Callable[[], bool]) -> bool:
        """Run the clients' network I/O until `done()` or the deadline; True when done."""
        selector = selectors.DefaultSelector()
        for index, client in enumerate(self.clients):
            sock = client.socket()
            if sock is not None:
                selector.register(sock, selectors.EVENT_READ, index)
        last_misc = 0.0
        try:
            while time.monotonic() < until:
                if done():
                    return True
                for key, _ in selector.select(timeout=0.05):
                    self.clients[key.data].loop_read()
                for client in self.clients:
                    if client.want_write():
                        client.loop_write()
                if time.monotonic() - last_misc > 1:
                    for client in self.clients:
                        client.loop_misc()
                    last_misc = time.monotonic()
            return done()
        finally:
            selector.close()


def device_name(index: int) -> str:
    return f"unit-{index:05d}"


def make_fleet(port: int, devices: int, *, authenticated: bool) -> Fleet:
    fleet = Fleet([], set())
    for index in range(devices):
        client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=device_name(index))
        if authenticated:
            client.username_pw_set(device_name(index), PASSWORD)
        client.on_connect = lambda _c, number, _f, reason, _p: (
            fleet.connected.add(number) if not reason.is_failure else None
        )
        client.user_data_set(index)
        client.reconnect_delay_set(1, 5)
        fleet.clients.append(client)
    return fleet


def connect_all(fleet: Fleet, port: int) -> float:
    """Seconds until every client has its CONNACK."""
    started = time.monotonic()
    for client in fleet.clients:
        client.connect("127.0.0.1", port, keepalive=120)
    if not fleet.pump(started + SETTLE_TIMEOUT_S, lambda: len(fleet.connected) == len(fleet.clients)):
        raise RuntimeError(f"only {len(fleet.connected)} of {len(fleet.clients)} clients connected")
    return time.monotonic() - started


def reconnect_storm(fleet: Fleet, broker: LocalMosquitto) -> float:
    """Restart the broker under the connected fleet; seconds until every client is back."""
    broker.stop()
    fleet.connected.clear()
    broker.start()
    started = time.monotonic()
    deadline = started + SETTLE_TIMEOUT_S
    pending = list(fleet.clients)
    while pending and time.monotonic() < deadline:
        still = []
        for client in pending:
            try:
                client.reconnect()
            except OSError:
                still.append(client)
        pending = still
    if not fleet.pump(deadline, lambda: len(fleet.connected) == len(fleet.clients)):
        raise RuntimeError(f"only {len(fleet.connected)} of {len(fleet.clients)} clients came back")
    return time.monotonic() - started


def throughput(port: int, messages: int, *, authenticated: bool) -> float:
    """QoS 1 messages per second from one device to one subscriber, through the broker's ACL checks."""
    received = threading.Event()
    count = [0]
    subscriber = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=SUBSCRIBER)
    publisher = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=device_name(0) + "-pub")
    if authenticated:
        subscriber.username_pw_set(SUBSCRIBER, PASSWORD)
        publisher.username_pw_set(device_name(0), PASSWORD)

    def on_message(*_: object) -> None:
        count[0] += 1
        if count[0] == messages:
            received.set()

    subscriber.on_message = on_message
    subscriber.connect("127.0.0.1", port)
    subscriber.loop_start()
    subscriber.subscribe(f"{PREFIX}/#", qos=1)
    time.sleep(0.5)
    publisher.max_inflight_messages_set(1000)
    publisher.connect("127.0.0.1", port)
    publisher.loop_start()
    time.sleep(0.3)
    topic = f"{PREFIX}/{device_name(0)}/telemetry"
    started = time.monotonic()
    for _ in range(messages):
        publisher.publish(topic, b'{"ts":"2026-01-01T00:00:00Z","floor":1}', qos=1)
    received.wait(SETTLE_TIMEOUT_S)
    elapsed = time.monotonic() - started
    for client in (publisher, subscriber):
        client.loop_stop()
        client.disconnect()
    return count[0] / elapsed


@contextmanager
def broker(devices: int, *, authenticated: bool) -> Iterator[LocalMosquitto]:
    path = Path(tempfile.mkdtemp(prefix="liftbrain-bench-auth-", dir="/tmp"))
    path.chmod(0o755)
    auth_dir = None
    if authenticated:
        auth_dir = auth_dir_for(path)
        identities = [BrokerIdentity(device_name(i), CredentialKind.DEVICE, device_name(i), SHARED_HASH)
                      for i in range(devices)]  # fmt: skip
        identities.append(BrokerIdentity(SUBSCRIBER, CredentialKind.INGEST, None, SHARED_HASH))
        files = render_broker_auth(identities, topic_prefix=PREFIX)
        (auth_dir / CREDENTIALS_FILE).write_text(files.passwords)
        (auth_dir / ACL_FILE).write_text(files.acl)
        for name in (CREDENTIALS_FILE, ACL_FILE):
            (auth_dir / name).chmod(0o644)
    server = LocalMosquitto(path, auth_dir=auth_dir, port=free_port())
    server.start()
    try:
        yield server
    finally:
        server.stop()
        shutil.rmtree(path, ignore_errors=True)


def measure(args: argparse.Namespace, *, authenticated: bool) -> dict[str, float]:
    with broker(args.devices, authenticated=authenticated) as server:
        fleet = make_fleet(server.port, args.devices, authenticated=authenticated)
        connect_s = connect_all(fleet, server.port)
        rate = throughput(server.port, args.messages, authenticated=authenticated)
        storm_s = reconnect_storm(fleet, server)
        for client in fleet.clients:
            client.disconnect()
    return {"connect_s": connect_s, "msgs_per_s": rate, "reconnect_storm_s": storm_s}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--devices", type=int, default=10_000, help="connected devices (default 10000)")
    parser.add_argument("--messages", type=int, default=20_000, help="QoS 1 messages for the throughput phase")
    args = parser.parse_args()
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    if args.devices + 100 > hard:
        raise SystemExit(f"{args.devices} devices need more file descriptors than the limit {hard}")
    anonymous = measure(args, authenticated=False)
    authenticated = measure(args, authenticated=True)
    cost = 1 - authenticated["msgs_per_s"] / anonymous["msgs_per_s"]
    print(f"{'figure':<40} {'anonymous':>12} {'authenticated':>14}")
    for name, unit in (("connect_s", "s"), ("reconnect_storm_s", "s"), ("msgs_per_s", "msg/s")):
        label = f"{name} ({unit}), {args.devices} devices"
        print(f"{label:<40} {anonymous[name]:>12.1f} {authenticated[name]:>14.1f}")
    print(f"throughput cost of authentication + ACL: {cost:.1%}")
    figures = {f"{mode}_{name}": round(value, 2) for mode, result in (("anonymous", anonymous),
               ("authenticated", authenticated)) for name, value in result.items()}  # fmt: skip
    print(
        json.dumps({"devices": args.devices, "messages": args.messages, **figures, "throughput_cost": round(cost, 3)})
    )


if __name__ == "__main__":
    main()
