"""The contract: topics, decoding, and the JSON Schema files kept in step with the types."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from models.telemetry.contract import (
    EVENT_CATALOGUE,
    ContractError,
    EventCategory,
    MessageKind,
    check_time_window,
    decode_telemetry,
    parse_topic,
    topic_for,
)
from models.telemetry.contract_schemas import SCHEMA_DIR, render_schemas


def test_schema_files_match_the_contract_types() -> None:
    rendered = render_schemas()
    on_disk = {path.name: path.read_text() for path in SCHEMA_DIR.glob("*.schema.json")}
    assert on_disk == rendered, "run `liftbrain contract schemas` after changing models/telemetry/contract.py"


def test_topic_round_trip() -> None:
    topic = topic_for("LB-0001", MessageKind.EVENT, prefix="lb/v1")
    assert topic == "lb/v1/LB-0001/event"
    parsed = parse_topic(topic, prefix="lb/v1")
    assert (parsed.unit_id, parsed.kind) == ("LB-0001", MessageKind.EVENT)


@pytest.mark.parametrize(
    "topic", ["other/v1/u1/telemetry", "lb/v1/u 1/telemetry", "lb/v1/u1/firmware", "lb/v1/u1", "xlb/v1/u1/status"]
)
def test_bad_topics_are_refused(topic: str) -> None:
    with pytest.raises(ContractError):
        parse_topic(topic, prefix="lb/v1")


def test_single_sample_and_batch_decode_alike() -> None:
    single = decode_telemetry(b'{"ts": "2026-01-01T08:00:00+08:00", "speed_mps": 1.0}')
    batch = decode_telemetry(b'{"samples": [{"ts": "2026-01-01T00:00:00Z", "speed_mps": 1.0}]}')
    assert single == batch  # the +08:00 controller clock lands on the same instant


def test_door_and_brake_signals_in_extras_move_to_their_fields() -> None:
    old = b'{"ts": "2026-01-01T00:00:00Z", "extras": {"door_open_s": 2.5, "door_reopens": 1, "stop_distance_mm": 9,'
    (sample,) = decode_telemetry(old + b' "site_note": "x"}}')
    (typed,) = decode_telemetry(b'{"ts": "2026-01-01T00:00:00Z", "door_open_s": 2.5, "door_reopens": 1,'
                                b' "stop_distance_mm": 9, "extras": {"site_note": "x"}}')  # fmt: skip
    assert sample == typed
    assert sample.door_open_s == 2.5
    assert sample.extras == {"site_note": "x"}
    (only,) = decode_telemetry(b'{"ts": "2026-01-01T00:00:00Z", "extras": {"vibration_hf_rms": 0.02}}')
    assert only.vibration_hf_rms == 0.02
    assert only.extras is None


@pytest.mark.parametrize("extras", [b'{"door_open_s": -1}', b'{"door_reopens": 1.5}', b'{"door_open_s": "2"}'])
def test_a_lifted_signal_the_field_refuses_stays_in_extras(extras: bytes) -> None:
    (sample,) = decode_telemetry(b'{"ts": "2026-01-01T00:00:00Z", "extras": ' + extras + b"}")
    assert sample.door_open_s is None
    assert sample.door_reopens is None
    assert sample.extras


def test_a_typed_field_wins_over_the_same_key_in_extras() -> None:
    (sample,) = decode_telemetry(b'{"ts": "2026-01-01T00:00:00Z", "door_open_s": 3.0, "extras": {"door_open_s": 2.0}}')
    assert sample.door_open_s == 3.0
    assert sample.extras == {"door_open_s": 2.0}


def test_gb_t_24476_codes_are_in_the_catalogue() -> None:
    gb = {spec.gb_code: code for code, spec in EVENT_CATALOGUE.items() if spec.gb_code is not None}
    assert set(gb) == {1, 2, 3, 4, 5, 6, 7, 8, 40, 41, 42, 43, 44, 45, 46, 47, 90}
    assert EVENT_CATALOGUE[gb[90]].category is EventCategory.ALARM


def test_time_window_refuses_far_timestamps() -> None:
    now = datetime(2026, 11, 26, tzinfo=UTC)
    window = {"now": now, "max_future": timedelta(minutes=5), "max_past": timedelta(days=30)}
    check_time_window(now + timedelta(minutes=4), **window)  # type: ignore[arg-type]
    with pytest.raises(ContractError, match="future"):
        check_time_window(now + timedelta(minutes=6), **window)  # type: ignore[arg-type]
    with pytest.raises(ContractError, match="past"):
        check_time_window(now - timedelta(days=31), **window)  # type: ignore[arg-type]
