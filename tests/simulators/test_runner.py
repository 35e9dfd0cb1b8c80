"""Replays are deterministic, per unit independent of the fleet size, and publish the contract."""

from __future__ import annotations

from pathlib import Path

from models.telemetry.contract import decode_event, decode_status, decode_telemetry, parse_topic
from tests.simulators.support import replay


def test_same_seed_gives_identical_messages(tmp_path: Path) -> None:
    first = replay(tmp_path / "a", units=8, days=0.5, seed=3, hazard_scale=50)
    second = replay(tmp_path / "b", units=8, days=0.5, seed=3, hazard_scale=50)
    assert first.recorder.messages == second.recorder.messages
    assert first.labels.read_bytes() == second.labels.read_bytes()
    assert first.summary.events > 0


def test_another_seed_gives_another_fleet(tmp_path: Path) -> None:
    first = replay(tmp_path / "a", units=4, days=0.05, seed=3)
    second = replay(tmp_path / "b", units=4, days=0.05, seed=4)
    assert first.recorder.of_kind("telemetry") != second.recorder.of_kind("telemetry")


def test_unit_stream_does_not_depend_on_fleet_size(tmp_path: Path) -> None:
    small = replay(tmp_path / "a", units=3, days=0.5, hazard_scale=50)
    large = replay(tmp_path / "b", units=12, days=0.5, hazard_scale=50)
    for unit in ("sim-00000", "sim-00002"):
        assert [m for m in small.recorder.messages if f"/{unit}/" in m[0]] == [
            m for m in large.recorder.messages if f"/{unit}/" in m[0]
        ]


def test_every_message_decodes_with_the_contract(tmp_path: Path) -> None:
    result = replay(tmp_path, units=10, days=1, hazard_scale=30)
    samples = 0
    for topic, payload, retain in result.recorder.messages:
        kind = parse_topic(topic).kind.value
        if kind == "telemetry":
            batch = decode_telemetry(payload)
            assert 1 <= len(batch) <= 20
            assert all(sample.ts.utcoffset() is not None for sample in batch)
            samples += len(batch)
        elif kind == "event":
            assert not retain
            decode_event(payload)
        else:
            assert retain
            decode_status(payload)
    assert samples == result.summary.samples
    assert len(result.recorder.messages) == result.summary.messages


def test_statuses_open_online_and_close_offline(tmp_path: Path) -> None:
    result = replay(tmp_path, units=3, days=0.05)
    statuses = [decode_status(payload).state for _, payload in result.recorder.of_kind("status")]
    assert statuses[:3] == ["online"] * 3
    assert statuses[-3:] == ["offline"] * 3
