"""Prometheus metrics of the ingest process."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

__all__ = [
    "BATCH_MESSAGES",
    "BROKER_DROPPED",
    "BROKER_STORED_BYTES",
    "BROKER_STORED_MESSAGES",
    "COMMIT_LATENCY",
    "CONFLICTS",
    "DB_RETRIES",
    "DEAD_LETTERS",
    "MESSAGES_DEAD_LETTERED",
    "MESSAGES_RECEIVED",
    "MESSAGES_WRITTEN",
    "QUEUE_DEPTH",
    "ROWS_DUPLICATE",
    "ROWS_WRITTEN",
]

MESSAGES_RECEIVED = Counter("liftbrain_ingest_messages_received", "MQTT messages received", ["kind"])
MESSAGES_WRITTEN = Counter("liftbrain_ingest_messages_committed", "messages whose rows are committed and acked")
MESSAGES_DEAD_LETTERED = Counter("liftbrain_ingest_messages_dead_lettered", "messages refused (dead-lettered)")
DEAD_LETTERS = Counter(
    "liftbrain_ingest_dead_letters", "dead letters stored, per reason class (a retained repeat is not stored)",
    ["reason"],
)  # fmt: skip
CONFLICTS = Counter(
    "liftbrain_ingest_conflicts", "later versions of a stored key with different values (see ingest_conflicts)"
)
ROWS_WRITTEN = Counter("liftbrain_ingest_rows_written", "new rows committed", ["table"])
ROWS_DUPLICATE = Counter("liftbrain_ingest_rows_duplicate", "redelivered telemetry rows absorbed")
BATCH_MESSAGES = Histogram(
    "liftbrain_ingest_batch_messages", "messages per committed batch", buckets=(1, 5, 20, 50, 100, 200, 500, 1000, 2000)
)
COMMIT_LATENCY = Histogram(
    "liftbrain_ingest_commit_latency_seconds",
    "per batch: time from receiving its oldest message to committing its rows (the lag ingest adds)",
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
)
QUEUE_DEPTH = Gauge("liftbrain_ingest_queue_depth", "received messages waiting for the writer")
# The broker's own count ($SYS): messages it holds for every session, a forgotten one's queue included.
BROKER_STORED_MESSAGES = Gauge(
    "liftbrain_broker_stored_messages", "messages the broker holds (queued for sessions, retained, in flight)"
)
BROKER_STORED_BYTES = Gauge("liftbrain_broker_stored_bytes", "payload bytes the broker holds")
BROKER_DROPPED = Gauge(
    "liftbrain_broker_dropped_messages", "publishes the broker dropped since it started (a session's queue was full)"
)
DB_RETRIES = Counter("liftbrain_ingest_db_retries", "batch attempts that failed on the database and were retried")
