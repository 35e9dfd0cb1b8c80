"""The console's session store: ids are fresh and unguessable, sessions expire when idle or old, memory is bounded."""

from __future__ import annotations

import pytest

from api.console import session as console_session
from api.console.session import ABSOLUTE_TIMEOUT_S, IDLE_TIMEOUT_S, SessionStore


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_each_sign_in_gets_its_own_id_and_csrf_token() -> None:
    store = SessionStore()
    first, second = store.create("lb_key"), store.create("lb_key")
    assert first.id != second.id
    assert first.csrf_token != second.csrf_token
    assert len(first.id) >= 40
    assert "lb_key" not in repr(first)  # the key never reaches a log line through repr


def test_an_idle_session_expires() -> None:
    clock = Clock()
    store = SessionStore(clock=clock)
    session = store.create("lb_key")
    clock.now += IDLE_TIMEOUT_S - 1
    assert store.get(session.id) is session
    clock.now += IDLE_TIMEOUT_S + 1
    assert store.get(session.id) is None


def test_a_busy_session_still_ends_at_the_absolute_timeout() -> None:
    clock = Clock()
    store = SessionStore(clock=clock)
    session = store.create("lb_key")
    while clock.now < 1000.0 + ABSOLUTE_TIMEOUT_S - 3600:
        clock.now += 3600
        assert store.get(session.id) is session
    clock.now += 7200
    assert store.get(session.id) is None


def test_the_least_recently_used_session_goes_first_when_full(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(console_session, "MAX_SESSIONS", 2)
    store = SessionStore()
    old, kept = store.create("a"), store.create("b")
    assert store.get(old.id) is old  # now the most recently used
    newest = store.create("c")
    assert store.get(kept.id) is None
    assert store.get(old.id) is old
    assert store.get(newest.id) is newest


def test_sign_out_drops_the_session() -> None:
    store = SessionStore()
    session = store.create("lb_key")
    store.drop(session.id)
    store.drop(session.id)  # twice is fine
    assert store.get(session.id) is None
