"""Keep a set of children running: restart with backoff, give up loudly after repeated fast failures.

A child is anything with start/alive/stop: a service process, the embedded broker, the embedded database.
Children start in order and stop in reverse order. One that dies is restarted after a backoff that doubles
with each failure in a row; one that keeps dying soon after each start makes the supervisor give up, stop
everything and report why (a crash loop left running only fills the log).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from runtime.errors import OperatorError

__all__ = ["Child", "GaveUp", "Supervisor"]

log = logging.getLogger(__name__)

# First restart after this long, doubling per failure in a row up to BACKOFF_MAX_S: a crash loop of a child
# that needs another (the database coming back) settles without hammering it.
BACKOFF_MIN_S = 1.0
BACKOFF_MAX_S = 30.0
# A child that ran this long before dying was healthy: its failure count starts again.
STABLE_AFTER_S = 60.0
# This many failures in a row, each within STABLE_AFTER_S of its start, is a crash loop: give up.
MAX_FAST_FAILURES = 5
# How often the supervisor looks at its children, and how often it logs one line of their health.
POLL_S = 0.5
HEALTH_LOG_S = 300.0


class GaveUp(OperatorError):
    """A child kept failing right after each start; the message names it and its count."""


@dataclass
class Child:
    """One supervised thing: how to start it, whether it still runs, how to stop it."""

    name: str
    start: Callable[[], None]
    alive: Callable[[], bool]
    stop: Callable[[], None]
    restarts: int = 0
    _started_at: float = 0.0
    _failures: int = 0
    _restart_at: float | None = field(default=None, repr=False)


class Supervisor:
    """Runs children until `stop` is set or one of them crash-loops (GaveUp)."""

    def __init__(self, stop: threading.Event) -> None:
        self.stop = stop
        self.children: list[Child] = []

    def start(self, child: Child) -> None:
        """Start a child now (a failure to start propagates: nothing runs yet that could heal it)."""
        log.info("starting %s", child.name)
        child.start()
        child._started_at = time.monotonic()
        self.children.append(child)

    def run(self) -> None:
        """Watch the children until stopped; raise GaveUp on a crash loop. Children are left running."""
        last_health = time.monotonic()
        while not self.stop.wait(POLL_S):
            for child in self.children:
                self._tend(child)
            if time.monotonic() - last_health >= HEALTH_LOG_S:
                last_health = time.monotonic()
                log.info("health: %s", self.health_line())

    def health_line(self) -> str:
        """One line: each child, up or restarting, and its restarts so far."""
        return ", ".join(f"{c.name} {'up' if c._restart_at is None else 'restarting'} ({c.restarts} restarts)"
                         for c in self.children)  # fmt: skip

    def _tend(self, child: Child) -> None:
        now = time.monotonic()
        if child._restart_at is None:
            if child.alive():
                if child._failures and now - child._started_at >= STABLE_AFTER_S:
                    child._failures = 0
                return
            ran = now - child._started_at
            child._failures = child._failures + 1 if ran < STABLE_AFTER_S else 1
            if child._failures >= MAX_FAST_FAILURES:
                raise GaveUp(f"{child.name} failed {child._failures} times in a row, each within "
                             f"{STABLE_AFTER_S:.0f}s of starting; giving up")  # fmt: skip
            delay = min(BACKOFF_MIN_S * 2 ** (child._failures - 1), BACKOFF_MAX_S)
            log.error("%s stopped after %.0fs; restarting in %.0fs (failure %d of %d allowed in a row)",
                      child.name, ran, delay, child._failures, MAX_FAST_FAILURES - 1)  # fmt: skip
            child._restart_at = now + delay
            return
        if now < child._restart_at:
            return
        child._restart_at = None
        child.restarts += 1
        child._started_at = now
        try:
            child.start()
            log.info("%s restarted", child.name)
        except Exception as exc:  # counted as a failure at the next look: alive() says it is not running
            log.error("%s did not start: %s", child.name, exc)

    def stop_all(self) -> None:
        """Stop the children in reverse order of start (services first, the database last)."""
        for child in reversed(self.children):
            try:
                child.stop()
            except Exception:
                log.exception("stopping %s failed", child.name)
