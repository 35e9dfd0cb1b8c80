"""The writer's batching, without servers: a batch closes at its message count or its row count."""

from __future__ import annotations

import queue
from datetime import UTC, datetime, timedelta

import pytest

from ingest import writer
from ingest.batch import KnownUnits
from ingest.consumer import Delivery
from ingest.parse import Limits, parse_message
from ingest.writer import BatchPolicy, BatchWriter

LIMITS = Limits("lb/v1", 65536, timedelta(minutes=5), timedelta(days=3650))
T = datetime.now(UTC).replace(microsecond=0)


def two_samples(i: int) -> Delivery:
    payload = f'{{"samples": [{{"ts": "{(T - timedelta(seconds=2 * i)).isoformat()}"}},' \
              f' {{"ts": "{(T - timedelta(seconds=2 * i + 1)).isoformat()}"}}]}}'  # fmt: skip
    return Delivery(i, 1, 0, parse_message("lb/v1/u1/telemetry", payload.encode(), LIMITS))


@pytest.mark.parametrize(("max_messages", "max_rows", "expected"), [(100, 5, 3), (2, 50_000, 2), (100, 50_000, 10)])
def test_a_batch_closes_at_its_message_or_row_bound(
    monkeypatch: pytest.MonkeyPatch, max_messages: int, max_rows: int, expected: int
) -> None:
    monkeypatch.setattr(writer, "MAX_BATCH_ROWS", max_rows)
    deliveries: queue.Queue[Delivery] = queue.Queue()
    for i in range(10):
        deliveries.put(two_samples(i))
    policy = BatchPolicy(max_messages, 0.05)
    batch_writer = BatchWriter("postgresql://unused", deliveries, ack=lambda d: 0, policy=policy,
                               known_units=KnownUnits(auto_register=False))  # fmt: skip
    assert len(batch_writer._collect()) == expected
