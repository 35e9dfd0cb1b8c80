"""The supervisor with stand-in children: restart with backoff, give up on a crash loop, stop in order."""

from __future__ import annotations

import threading

import pytest

from stack import supervisor
from stack.supervisor import Child, GaveUp, Supervisor


@pytest.fixture(autouse=True)
def fast(monkeypatch: pytest.MonkeyPatch) -> None:
    """Timings of milliseconds instead of seconds."""
    monkeypatch.setattr(supervisor, "POLL_S", 0.005)
    monkeypatch.setattr(supervisor, "BACKOFF_MIN_S", 0.01)
    monkeypatch.setattr(supervisor, "BACKOFF_MAX_S", 0.04)


class Fake:
    """A child that dies when told to, and records what happened to it."""

    def __init__(self, name: str, events: list[str], *, dies_after_starts: int | None = None) -> None:
        self.name, self.events, self.running, self.starts = name, events, False, 0
        self.dies_after_starts = dies_after_starts

    def start(self) -> None:
        self.starts += 1
        self.running = self.dies_after_starts is None or self.starts <= self.dies_after_starts
        self.events.append(f"start {self.name}")

    def alive(self) -> bool:
        return self.running

    def stop(self) -> None:
        self.running = False
        self.events.append(f"stop {self.name}")

    def child(self) -> Child:
        return Child(self.name, self.start, self.alive, self.stop)


@pytest.fixture
def events() -> list[str]:
    return []


def run_in_thread(sup: Supervisor) -> tuple[threading.Thread, list[BaseException]]:
    errors: list[BaseException] = []

    def target() -> None:
        try:
            sup.run()
        except BaseException as exc:
            errors.append(exc)

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    return thread, errors


def test_a_dead_child_is_restarted_and_the_others_keep_running(events: list[str]) -> None:
    stop = threading.Event()
    sup = Supervisor(stop)
    db, ingest = Fake("db", events), Fake("ingest", events)
    sup.start(db.child())
    sup.start(ingest.child())
    thread, errors = run_in_thread(sup)
    ingest.running = False  # as a kill -9 would
    for _ in range(200):
        if ingest.starts == 2:
            break
        stop.wait(0.01)
    stop.set()
    thread.join(5)
    sup.stop_all()
    assert errors == []
    assert (db.starts, ingest.starts, sup.children[1].restarts) == (1, 2, 1)
    assert events[-2:] == ["stop ingest", "stop db"]
    assert "ingest up (1 restarts)" in sup.health_line()


def test_a_crash_loop_gives_up_loudly(events: list[str]) -> None:
    sup = Supervisor(threading.Event())
    broken = Fake("ingest", events, dies_after_starts=0)
    sup.start(broken.child())
    thread, errors = run_in_thread(sup)
    thread.join(10)
    assert len(errors) == 1
    assert isinstance(errors[0], GaveUp)
    assert f"ingest failed {supervisor.MAX_FAST_FAILURES} times in a row" in str(errors[0])
    assert broken.starts == supervisor.MAX_FAST_FAILURES


def test_a_child_that_cannot_start_again_counts_as_a_failure(events: list[str]) -> None:
    sup = Supervisor(threading.Event())
    state = {"starts": 0}

    def start() -> None:
        state["starts"] += 1
        if state["starts"] > 1:
            raise RuntimeError("port in use")

    sup.start(Child("mosquitto", start, lambda: False, lambda: None))
    thread, errors = run_in_thread(sup)
    thread.join(10)
    assert isinstance(errors[0], GaveUp)
    assert state["starts"] == supervisor.MAX_FAST_FAILURES
