"""`liftbrain ingest`: the MQTT consumer and the batch writer wired together, until SIGTERM."""

from __future__ import annotations

import gc
import logging
import queue

from ingest.batch import KnownUnits
from ingest.consumer import Delivery, MqttConsumer
from ingest.parse import Limits
from ingest.writer import BatchPolicy, BatchWriter, Committed
from runtime.probes import serve_probes, stop_on_signals
from runtime.settings import Settings

__all__ = ["Ingest", "run", "tune_gc"]

log = logging.getLogger(__name__)

# Ingest allocates a decoded struct and a row per sample and holds a batch (up to 50,000 rows) until its
# commit: at CPython's default of 700 allocations the collector runs every few messages and rescans the live
# batch, which doubled the cost of building rows (bench/ingest_parse.py). Nothing on the hot path forms
# reference cycles, so the youngest generation is collected this much less often.
GC_GEN0_THRESHOLD = 50_000


def tune_gc() -> None:
    """Set the ingest process's garbage collection for its allocation pattern (many short-lived acyclic objects)."""
    gc.freeze()  # what startup allocated (modules, settings) is never scanned again
    _, older, oldest = gc.get_threshold()
    gc.set_threshold(GC_GEN0_THRESHOLD, older, oldest)


class Ingest:
    """One ingest pipeline (consumer + writer) built from settings; used by the service, tests and bench."""

    def __init__(self, settings: Settings, *, on_committed: Committed | None = None) -> None:
        limits = Limits.from_settings(settings)
        # Unbounded on purpose: manual acks cap what the broker sends us at its in-flight window.
        deliveries: queue.Queue[Delivery] = queue.Queue()
        self.consumer = MqttConsumer(
            settings.require_mqtt(),
            client_id=settings.ingest_client_id,
            limits=limits,
            deliveries=deliveries,
            shared_group=settings.ingest_shared_group,
        )
        self.writer = BatchWriter(
            settings.require_database_url(),
            deliveries,
            ack=self.consumer.ack,
            policy=BatchPolicy(settings.ingest_batch_max_messages, settings.ingest_batch_max_seconds),
            known_units=KnownUnits(auto_register=settings.ingest_auto_register),
            on_committed=on_committed,
        )

    def start(self) -> None:
        """Start writing, then start receiving."""
        self.writer.start()
        self.consumer.start()

    def stop(self) -> None:
        """Commit and ack the batch in hand, then disconnect."""
        self.writer.stop()
        self.consumer.stop()

    def health(self) -> dict[str, bool]:
        """Broker connected and subscribed; database reachable (at each batch, and every few seconds when idle)."""
        return {"broker": self.consumer.connected.is_set(), "database": self.writer.database_ok.is_set()}


def run(settings: Settings) -> int:
    """Run ingest until SIGTERM or SIGINT."""
    stop = stop_on_signals()
    tune_gc()
    ingest = Ingest(settings)
    ingest.start()
    probes = serve_probes(settings.api_host, settings.ingest_http_port, ingest.health)
    log.info("ingesting %s/+/+ into the database", settings.mqtt_topic_prefix)
    stop.wait()
    ingest.stop()
    if probes is not None:
        probes.shutdown()
    t = ingest.writer.totals
    log.info("stopped: %d messages committed, %d telemetry rows new, %d dead letters", t.messages, t.telemetry_new,
             t.dead_lettered)  # fmt: skip
    return 0
