"""`liftbrain up` as a newcomer runs it: embedded servers, every service, a simulated fleet, a clean stop;
children killed with -9 come back, and the second start keeps the first one's ports."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from stack._process import free_port

# The slow tier (the whole stack started twice, with crashes): `scripts/check.sh --fast` leaves it out.
pytestmark = pytest.mark.slow

STARTUP_TIMEOUT_S = 120.0


def _get(url: str, key: str | None = None) -> tuple[int, Any]:
    try:
        response = httpx.get(url, headers={"Authorization": f"Bearer {key}"} if key else {}, timeout=5)
    except httpx.TransportError:
        return 0, None
    return response.status_code, response.json()


class Stack:
    """One `liftbrain up` process and where to reach it."""

    def __init__(self, data_dir: Path) -> None:
        self.api_port = free_port()
        self.admin_key = ""
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("LIFTBRAIN_")},
            "LIFTBRAIN_DATA_DIR": str(data_dir),
            "LIFTBRAIN_API_PORT": str(self.api_port),
            "LIFTBRAIN_INGEST_HTTP_PORT": str(free_port()),
            "LIFTBRAIN_BRAIN_HTTP_PORT": str(free_port()),
        }
        self.log = data_dir / "up.log"

    def start(self, *extra: str) -> subprocess.Popen[bytes]:
        with self.log.open("ab") as log:
            return subprocess.Popen([sys.executable, "-m", "cli.main", "up", "--simulate", "3", *extra],
                                    env=self.env, stdout=log, stderr=subprocess.STDOUT)  # fmt: skip

    def wait_for_log(self, text: str, *, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while text not in self.log.read_text():
            assert time.monotonic() < deadline, f"no {text!r} in the log:\n" + self.log.read_text()[-3000:]
            time.sleep(0.2)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.api_port}{path}"

    def wait_healthy(self, process: subprocess.Popen[bytes]) -> dict[str, str]:
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while time.monotonic() < deadline:
            assert process.poll() is None, self.log.read_text()[-3000:]
            status, body = _get(self.url("/health"))
            if status == 200:
                return dict(body)
            time.sleep(0.5)
        raise AssertionError("stack not healthy in time:\n" + self.log.read_text()[-3000:])

    def stop(self, process: subprocess.Popen[bytes]) -> int:
        process.send_signal(signal.SIGINT)
        return process.wait(60)


def child_pid(parent: int, word: str) -> int:
    """The pid of `parent`'s child process whose command line contains `word`."""
    for entry in Path("/proc").iterdir():
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except (OSError, ValueError):
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) == parent and word in cmdline:
            return int(entry.name)
    raise AssertionError(f"no child of {parent} runs {word!r}")


@pytest.fixture
def data_dir() -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="liftbrain-up-", dir="/tmp"))
    path.chmod(0o755)
    yield path
    shutil.rmtree(path, ignore_errors=True)


def test_up_runs_the_whole_stack_and_stops_cleanly_twice(data_dir: Path) -> None:
    stack = Stack(data_dir)
    mqtt_port = free_port()
    process = stack.start("--mqtt-port", str(mqtt_port), "--db-port", str(free_port()))
    try:
        assert stack.wait_healthy(process) == {"status": "ok", "database": "connected", "broker": "connected"}
        printed = re.search(r"^\s+(lb_\S{20,})$", stack.log.read_text(), flags=re.MULTILINE)
        assert printed, "up printed no bootstrap admin key"
        stack.admin_key = printed[1]
        deadline = time.monotonic() + 60
        units: list[dict[str, Any]] = []
        while time.monotonic() < deadline and not any(u.get("last_seen") for u in units):
            status, body = _get(stack.url("/units"), stack.admin_key)
            assert status == 200, body
            units = body["items"]
            time.sleep(1)
        assert len(units) == 3
        assert any(u.get("last_seen") for u in units), "no telemetry reached the seeded units"
        os.kill(child_pid(process.pid, "mosquitto"), signal.SIGKILL)
        os.kill(child_pid(process.pid, "cli.main ingest"), signal.SIGKILL)
        stack.wait_for_log("mosquitto restarted")
        stack.wait_for_log("ingest restarted")
        assert stack.wait_healthy(process)["broker"] == "connected"
    finally:
        assert stack.stop(process) == 0, stack.log.read_text()[-3000:]
    log = stack.log.read_text()
    assert "liftbrain admin API key" in log
    assert "Traceback" not in log

    again = stack.start()  # reuses the data dir: no initdb, no second bootstrap key, same units, same ports
    try:
        stack.wait_healthy(again)
        status, body = _get(stack.url("/units"), stack.admin_key)
        assert (status, len(body["items"])) == (200, 3)
        assert stack.log.read_text().count(f"MQTT mqtt://127.0.0.1:{mqtt_port},") == 2
    finally:
        assert stack.stop(again) == 0, stack.log.read_text()[-3000:]
    assert stack.log.read_text().count("liftbrain admin API key") == 1
