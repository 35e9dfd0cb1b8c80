"""Every class of bad input lands in dead_letters with its reason, and the consumer keeps going."""

from __future__ import annotations

from datetime import datetime, timedelta

import psycopg
import pytest

from ingest.service import Ingest
from models.telemetry.contract import MessageKind
from tests.support.ingest import Publisher, batch_payload, count, register, wait_until

BAD_TELEMETRY = [
    pytest.param(b"{not json", "malformed JSON", id="malformed-json"),
    pytest.param(b"\xff\xfe\x00garbage", "malformed JSON", id="binary-garbage"),
    pytest.param(b'{"ts": "2026-01-01T00:00:00Z", "speed_mps": "1.5"}', "Expected `float | null`, got `str`",
                 id="wrong-type"),
    pytest.param(b'{"ts": "2026-01-01T00:00:00Z", "load_pct": 9000}', "load_pct", id="out-of-range"),
    pytest.param(b'{"ts": "2026-01-01T00:00:00", "speed_mps": 1}', "timezone", id="naive-timestamp"),
    pytest.param(b'{"ts": "2099-01-01T00:00:00Z"}', "in the future", id="far-future"),
    pytest.param(b'{"ts": "1970-01-02T00:00:00Z"}', "too far in the past", id="far-past"),
    pytest.param(b'{"ts": "2026-01-01T00:00:00Z", "speed_mps": NaN}', "malformed JSON", id="nan"),
    pytest.param(b'{"ts": "2026-01-01T00:00:00Z", "trip_count": 99999999999999999999}', "9223372036854775807",
                 id="beyond-bigint"),
    pytest.param(b'{"ts": "2026-01-01T00:00:00Z", "extras": {"note": "a\\u0000b"}}', "NUL", id="nul-character"),
    pytest.param(b'{"ts": "2026-01-01T00:00:00Z", "bogus": 1}', "unknown field", id="unknown-field"),
    pytest.param(b"[" * 100_000, "malformed JSON", id="deep-nesting"),
    pytest.param(b'{"samples": []}', "length >= 1", id="empty-batch"),
    pytest.param(b'{"ts": "2026-01-01T00:00:00Z", "extras": {"x": "' + b"a" * 300_000 + b'"}}', "over the",
                 id="oversize"),
]  # fmt: skip


@pytest.mark.parametrize(("payload", "reason"), BAD_TELEMETRY)
def test_bad_telemetry_is_dead_lettered_with_its_reason(
    ingest: Ingest, publisher: Publisher, database_url: str, now: datetime, payload: bytes, reason: str
) -> None:
    register(database_url, "u1")
    publisher.send("u1", MessageKind.TELEMETRY, payload)
    publisher.send("u1", MessageKind.TELEMETRY, batch_payload(now, 2))  # the consumer keeps going
    wait_until(lambda: ingest.writer.totals.messages == 2, what="both messages handled")
    with psycopg.connect(database_url) as conn:
        rows = conn.execute("SELECT topic, unit_id, reason, payload FROM dead_letters").fetchall()
    assert len(rows) == 1
    topic, unit_id, stored_reason, stored_payload = rows[0]
    assert reason in stored_reason
    assert (topic.endswith("/u1/telemetry"), unit_id, bytes(stored_payload)) == (True, "u1", payload)
    assert count(database_url, "SELECT count(*) FROM telemetry") == 2


@pytest.mark.parametrize(
    ("kind", "payload", "reason"),
    [
        pytest.param(MessageKind.EVENT, b'{"ts": "2026-01-01T00:00:00Z", "code": "made_up"}', "code", id="bad-code"),
        pytest.param(MessageKind.STATUS, b'{"state": "asleep"}', "state", id="bad-state"),
    ],
)
def test_bad_events_and_statuses_are_dead_lettered(
    ingest: Ingest, publisher: Publisher, database_url: str, kind: MessageKind, payload: bytes, reason: str
) -> None:
    register(database_url, "u1")
    publisher.send("u1", kind, payload)
    wait_until(lambda: count(database_url, "SELECT count(*) FROM dead_letters") == 1, what="dead letter")
    with psycopg.connect(database_url) as conn:
        stored = conn.execute("SELECT reason FROM dead_letters").fetchone()
    assert stored is not None
    assert reason in stored[0]


def test_unknown_unit_is_dead_lettered(ingest: Ingest, publisher: Publisher, database_url: str, now: datetime) -> None:
    publisher.send("ghost", MessageKind.TELEMETRY, batch_payload(now, 2))
    wait_until(lambda: count(database_url, "SELECT count(*) FROM dead_letters") == 1, what="dead letter")
    assert count(database_url, "SELECT count(*) FROM dead_letters WHERE reason LIKE 'unknown unit%'") == 1
    assert count(database_url, "SELECT count(*) FROM telemetry") == 0


def test_unit_registered_after_start_is_accepted_at_once(
    ingest: Ingest, publisher: Publisher, database_url: str, now: datetime
) -> None:
    publisher.send("late", MessageKind.TELEMETRY, batch_payload(now, 1))
    wait_until(lambda: count(database_url, "SELECT count(*) FROM dead_letters") == 1, what="dead letter")
    register(database_url, "late")
    publisher.send("late", MessageKind.TELEMETRY, batch_payload(now + timedelta(seconds=10), 1))
    wait_until(lambda: count(database_url, "SELECT count(*) FROM telemetry") == 1, what="row of the late unit")


def test_unknown_topic_kind_is_dead_lettered(ingest: Ingest, publisher: Publisher, database_url: str) -> None:
    publisher.raw(f"{publisher.prefix}/u1/firmware", b"{}")
    wait_until(lambda: count(database_url, "SELECT count(*) FROM dead_letters") == 1, what="dead letter")
    assert count(database_url, "SELECT count(*) FROM dead_letters WHERE reason LIKE 'bad topic%'") == 1


def test_poison_rows_the_database_refuses_are_isolated(
    ingest: Ingest, publisher: Publisher, database_url: str, now: datetime
) -> None:
    """A constraint the contract does not know fails a whole COPY; only the offending message is dead-lettered."""
    register(database_url, "u1")
    with psycopg.connect(database_url) as conn:
        conn.execute("ALTER TABLE telemetry ADD CONSTRAINT no_floor_13 CHECK (floor IS DISTINCT FROM 13)")
    for i in range(40):
        floor = b'","floor":13}' if i == 17 else b'","floor":2}'
        publisher.send("u1", MessageKind.TELEMETRY, batch_payload(now - timedelta(minutes=i), 5).replace(b'"}', floor))
    publisher.flush()
    wait_until(lambda: ingest.writer.totals.messages == 40, what="40 messages handled")
    assert count(database_url, "SELECT count(*) FROM telemetry") == 39 * 5
    with psycopg.connect(database_url) as conn:
        letters = conn.execute("SELECT reason FROM dead_letters").fetchall()
    assert len(letters) == 1
    assert "no_floor_13" in letters[0][0]
