"""Prometheus metrics of the ingest process."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

__all__ = [
    "BATCH_MESSAGES",
    "COMMIT_LATENCY",
    "DB_RETRIES",
    "MESSAGES_DEAD_LETTERED",
    "MESSAGES_RECEIVED",
    "MESSAGES_WRITTEN",
    "QUEUE_DEPTH",
    "ROWS_DUPLICATE",
    "ROWS_WRITTEN",
]

MESSAGES_RECEIVED = Counter("liftbrain_ingest_messages_received", "MQTT messages received", ["kind"])
MESSAGES_WRITTEN = Counter("liftbrain_ingest_messages_committed", "messages whose rows are committed and acked")
MESSAGES_DEAD_LETTERED = Counter("liftbrain_ingest_messages_dead_lettered", "messages stored as dead letters")
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
DB_RETRIES = Counter("liftbrain_ingest_db_retries", "batch attempts that failed on the database and were retried")
