"""The writer thread: collects deliveries into batches, commits them, then acknowledges them.

When the database is slow or down the writer keeps retrying the same batch and acks nothing; the broker's
in-flight window then fills and it holds further messages in our persistent session (backpressure).
While idle it checks its connection every DB_CHECK_INTERVAL_S, so /health reports the database, not traffic.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from ingest import metrics
from ingest.batch import BatchResult, KnownUnits, write_batch
from ingest.consumer import Delivery
from ingest.parse import Accepted
from models.db import Connection, DatabaseError, connect, ping

__all__ = ["BatchPolicy", "BatchWriter"]

log = logging.getLogger(__name__)

RETRY_MIN_S = 0.5
RETRY_MAX_S = 10.0
# Bounds a batch by rows too: one message may carry up to 2,000 samples.
MAX_BATCH_ROWS = 50_000
# How often the idle writer wakes up to check for a stop request.
IDLE_POLL_S = 0.25
# Progress lines: one per interval while messages flow.
PROGRESS_INTERVAL_S = 30.0
# An idle writer checks the database this often: /health must not wait for traffic to notice an outage.
DB_CHECK_INTERVAL_S = 5.0


@dataclass(frozen=True)
class BatchPolicy:
    """When a batch is full: this many messages, or this long after its first message arrived."""

    max_messages: int
    max_seconds: float


def _rows(delivery: Delivery) -> int:
    return len(delivery.parsed.samples) if isinstance(delivery.parsed, Accepted) else 0


Acker = Callable[[Sequence[Delivery]], int]
Committed = Callable[[Sequence[Delivery], BatchResult], None]


class BatchWriter:
    """Runs in its own thread: deliveries -> committed rows -> acks."""

    def __init__(
        self,
        dsn: str,
        deliveries: queue.Queue[Delivery],
        *,
        ack: Acker,
        policy: BatchPolicy,
        known_units: KnownUnits,
        on_committed: Committed | None = None,
    ) -> None:
        self.dsn = dsn
        self.deliveries = deliveries
        self.policy = policy
        self.known_units = known_units
        self.database_ok = threading.Event()
        self.totals = BatchResult()
        self._ack = ack
        self._on_committed = on_committed
        self._stop = threading.Event()
        self._conn: Connection | None = None
        self._checked_at = float("-inf")
        self._thread = threading.Thread(target=self._run, name="ingest-writer", daemon=True)

    def start(self) -> None:
        """Start the writer thread."""
        self._thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        """Finish the batch in hand (commit and ack it), then stop; queued messages stay unacked."""
        self._stop.set()
        self._thread.join(timeout)
        if self._conn is not None:
            self._conn.close()

    def _collect(self) -> list[Delivery]:
        try:
            first = self.deliveries.get(timeout=IDLE_POLL_S)
        except queue.Empty:
            return []
        batch, rows = [first], _rows(first)
        deadline = time.monotonic() + self.policy.max_seconds
        while len(batch) < self.policy.max_messages and rows < MAX_BATCH_ROWS:
            remaining = deadline - time.monotonic()
            try:
                item = self.deliveries.get(timeout=remaining) if remaining > 0 else self.deliveries.get_nowait()
            except queue.Empty:
                break
            batch.append(item)
            rows += _rows(item)
        return batch

    def _connection(self) -> Connection:
        if self._conn is None or self._conn.closed:
            # Autocommit: each batch opens its one transaction itself (see write_batch).
            self._conn = connect(self.dsn, autocommit=True, application_name="liftbrain-ingest")
            # Durable commits (synchronous_commit on): a message is acked only once its rows survive a crash.
            self._conn.execute("SET synchronous_commit = on")
        return self._conn

    def _check_database(self) -> None:
        """While idle: connect (or ping) so database_ok tells the truth before and between batches."""
        if time.monotonic() - self._checked_at < DB_CHECK_INTERVAL_S:
            return
        self._checked_at = time.monotonic()
        try:
            ping(self._connection())
            self.database_ok.set()
        except DatabaseError as exc:
            if self.database_ok.is_set():
                log.warning("database unreachable while idle: %s", str(exc).strip()[:200])
            self.database_ok.clear()
            if self._conn is not None:
                self._conn.close()

    def _write(self, batch: list[Delivery]) -> BatchResult | None:
        """Commit the batch, retrying while the database is unavailable; None when stopped meanwhile."""
        delay = RETRY_MIN_S
        while True:
            try:
                result = write_batch(self._connection(), [d.parsed for d in batch], self.known_units)
                self.database_ok.set()
                return result
            except DatabaseError as exc:
                self.database_ok.clear()
                metrics.DB_RETRIES.inc()
                log.warning("batch of %d messages not committed (%s: %s); retrying in %.1fs, nothing acked",
                            len(batch), type(exc).__name__, str(exc).strip()[:200], delay)  # fmt: skip
            except Exception:  # a bug: keep the messages (unacked) and say so loudly
                self.database_ok.clear()
                metrics.DB_RETRIES.inc()
                log.exception("unexpected error writing a batch; retrying in %.1fs, nothing acked", delay)
            if self._conn is not None:
                self._conn.close()
            self.known_units.forget()
            if self._stop.wait(delay):
                return None
            delay = min(delay * 2, RETRY_MAX_S)

    def _run(self) -> None:
        last_progress = time.monotonic()
        self._check_database()
        while not self._stop.is_set():
            batch = self._collect()
            metrics.QUEUE_DEPTH.set(self.deliveries.qsize())
            if not batch:
                self._check_database()
                continue
            result = self._write(batch)
            if result is None:
                return
            self._ack(batch)
            self._record(batch, result)
            if self._on_committed is not None:
                self._on_committed(batch, result)
            if time.monotonic() - last_progress >= PROGRESS_INTERVAL_S:
                last_progress = time.monotonic()
                t = self.totals
                log.info("committed %d messages, %d telemetry rows (%d new), %d events, %d dead letters so far",
                         t.messages, t.telemetry_rows, t.telemetry_new, t.events_new, t.dead_lettered)  # fmt: skip

    def _record(self, batch: list[Delivery], result: BatchResult) -> None:
        self.totals.add(result)
        # The oldest message's wait is the batch's worst latency; one observation per batch keeps this off the hot path.
        metrics.COMMIT_LATENCY.observe(time.time() - batch[0].parsed.received_at.timestamp())
        metrics.BATCH_MESSAGES.observe(len(batch))
        metrics.MESSAGES_WRITTEN.inc(result.messages - result.dead_lettered)
        metrics.MESSAGES_DEAD_LETTERED.inc(result.dead_lettered)
        for reason, stored in result.stored_letters.items():
            metrics.DEAD_LETTERS.labels(reason=reason.value).inc(stored)
        metrics.CONFLICTS.inc(result.conflicts)
        metrics.ROWS_WRITTEN.labels(table="telemetry").inc(result.telemetry_new)
        metrics.ROWS_WRITTEN.labels(table="events").inc(result.events_new)
        metrics.ROWS_DUPLICATE.inc(result.telemetry_rows - result.telemetry_new)
