"""`parse_message` as a table: payload in, decoded contract objects or a dead letter's reason out (no servers)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from ingest.parse import Accepted, Limits, parse_message
from models.telemetry.contract import MessageKind
from models.telemetry.dead_letters import DeadLetter, Reason

LIMITS = Limits(topic_prefix="lb/v1", max_payload_bytes=4096, max_future=timedelta(minutes=5),
                max_past=timedelta(days=3650))  # fmt: skip
NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
TS = b'"2026-06-01T11:59:00Z"'
TELEMETRY = "lb/v1/u1/telemetry"

REFUSED = [
    ("lb/v2/u1/telemetry", b"{}", Reason.BAD_TOPIC, "outside lb/v1/"),
    ("lb/v1/u 1/telemetry", b"{}", Reason.BAD_TOPIC, "unit id"),
    ("lb/v1/u1/firmware", b"{}", Reason.BAD_TOPIC, "unknown message kind"),
    (TELEMETRY, b'{"ts": ' + TS + b', "x": "' + b"a" * 5000 + b'"}', Reason.OVERSIZE, "over the 4096-byte limit"),
    (TELEMETRY, b"{not json", Reason.MALFORMED, "malformed JSON"),
    (TELEMETRY, b"[1, 2]", Reason.MALFORMED, "is a JSON object"),
    (TELEMETRY, b"\xff\xfe", Reason.MALFORMED, "malformed JSON"),
    (TELEMETRY, b'{"ts": ' + TS + b', "speed_mps": NaN}', Reason.MALFORMED, "malformed JSON"),
    (TELEMETRY, b'{"ts": ' + TS + b', "floor": 1, "floor": 2}', Reason.DUPLICATE_KEY, "duplicate key 'floor'"),
    (TELEMETRY, b'{"ts": ' + TS + b', "floor" : 1, "floor": 1}', Reason.DUPLICATE_KEY, "duplicate key 'floor'"),
    (TELEMETRY, b'{"samples": [{"ts": ' + TS + b', "ts": ' + TS + b"}]}", Reason.DUPLICATE_KEY, "'ts'"),
    (TELEMETRY, b'{"ts": ' + TS + b', "extras": {"a": 1, "a": 2}}', Reason.DUPLICATE_KEY, "duplicate key 'a'"),
    (TELEMETRY, b'{"ts": ' + TS + b', "speed_mps": "1.5"}', Reason.INVALID, "got `str`"),
    (TELEMETRY, b'{"ts": ' + TS + b', "load_pct": 9000}', Reason.INVALID, "load_pct"),
    (TELEMETRY, b'{"ts": ' + TS + b', "bogus": 1}', Reason.INVALID, "unknown field `bogus`"),
    (TELEMETRY, b'{"ts": ' + TS + b', "a\\u0000b": 1}', Reason.INVALID, "unknown field `a\x00b`"),
    (TELEMETRY, b'{"ts": ' + TS + b', "extras": {"note": "a\\u0000b"}}', Reason.INVALID, "NUL"),
    (TELEMETRY, b'{"ts": ' + TS + b', "trip_count": 99999999999999999999}', Reason.INVALID, "9223372036854775807"),
    (TELEMETRY, b'{"samples": []}', Reason.INVALID, "length >= 1"),
    (TELEMETRY, b'{"samples": [{"ts": ' + TS + b"}], " + b'"floor": 2}', Reason.INVALID, "unknown field `floor`"),
    (TELEMETRY, b'{"ts": "2026-06-01T11:59:00", "floor": 1}', Reason.INVALID, "timezone"),
    (TELEMETRY, b'{"ts": "2026-06-01T13:00:00Z"}', Reason.OUT_OF_WINDOW, "in the future"),
    (TELEMETRY, b'{"ts": "1990-01-01T00:00:00Z"}', Reason.OUT_OF_WINDOW, "too far in the past"),
    ("lb/v1/u1/event", b'{"ts": ' + TS + b', "code": "made_up"}', Reason.INVALID, "code"),
    ("lb/v1/u1/event", b'{"ts": ' + TS + b', "code": "overspeed", "code": "fire_recall"}', Reason.DUPLICATE_KEY,
     "'code'"),
    ("lb/v1/u1/status", b'{"state": "asleep"}', Reason.INVALID, "state"),
    ("lb/v1/u1/status", b'{"state": "online", "state": "offline"}', Reason.DUPLICATE_KEY, "'state'"),
]  # fmt: skip


@pytest.mark.parametrize(("topic", "payload", "code", "reason"), REFUSED)
def test_refused_payload_names_its_reason(topic: str, payload: bytes, code: Reason, reason: str) -> None:
    parsed = parse_message(topic, payload, LIMITS, received_at=NOW)
    assert isinstance(parsed, DeadLetter), parsed
    assert (parsed.code, parsed.payload, parsed.received_at) == (code, payload, NOW)
    assert reason in parsed.reason


ACCEPTED = [
    (b'{"ts": ' + TS + b', "extras": {"samples": 1}}', 1),
    (b'{"ts": ' + TS + b', "extras": {"note": "samples"}}', 1),
    (b'{"samples": [{"ts": ' + TS + b', "extras": {"samples": 2}}]}', 1),
    (b'{"ts": ' + TS + b', "floor": null, "speed_mps": 1.0}', 1),
    (b'{"ts": ' + TS + b', "extras": {"note": "x\\":y"}}', 1),
    (b'{\n  "samples" : [ {"ts" : ' + TS + b'}, {"ts": ' + TS + b"} ]\n}", 2),
]


@pytest.mark.parametrize(("payload", "samples"), ACCEPTED)
def test_top_level_shape_decides_between_sample_and_batch(payload: bytes, samples: int) -> None:
    parsed = parse_message(TELEMETRY, payload, LIMITS, received_at=NOW)
    assert isinstance(parsed, Accepted), parsed
    assert (parsed.kind, parsed.unit_id, len(parsed.samples)) == (MessageKind.TELEMETRY, "u1", samples)


def test_status_without_ts_is_accepted_without_a_time_of_its_own() -> None:
    parsed = parse_message("lb/v1/u1/status", b'{"state": "offline"}', LIMITS, received_at=NOW, retained=True)
    assert isinstance(parsed, Accepted)
    assert parsed.status is not None
    assert (parsed.status.state, parsed.status.ts, parsed.retained) == ("offline", None, True)


def test_event_decodes_to_the_contract_object() -> None:
    parsed = parse_message("lb/v1/u1/event", b'{"ts": ' + TS + b', "code": "overspeed", "floor": 4}', LIMITS,
                           received_at=NOW)  # fmt: skip
    assert isinstance(parsed, Accepted)
    assert parsed.event is not None
    assert (parsed.event.code, parsed.event.floor, parsed.samples) == ("overspeed", 4, [])
