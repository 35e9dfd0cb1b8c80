"""`liftbrain simulate`: the flags `liftbrain up --simulate N` relies on, and a short replay end to end."""

from __future__ import annotations

from pathlib import Path

import pytest

from cli.main import build_parser, main
from simulators.labels import read_labels
from stack.mosquitto import LocalMosquitto


def test_up_simulate_arguments_parse() -> None:
    args = build_parser().parse_args(["simulate", "--units", "7", "--realtime"])
    assert (args.units, args.realtime, args.seed_db) == (7, True, None)


def test_simulate_replays_and_writes_labels(
    mosquitto: LocalMosquitto, topic_prefix: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LIFTBRAIN_MQTT_URL", mosquitto.url)
    monkeypatch.setenv("LIFTBRAIN_MQTT_TOPIC_PREFIX", topic_prefix)
    monkeypatch.delenv("LIFTBRAIN_DATABASE_URL", raising=False)
    labels = tmp_path / "labels.jsonl"
    argv = ["simulate", "--units", "4", "--days", "1", "--start", "2026-01-05T00:00:00+00:00", "--labels", str(labels),
            "--hazard-scale", "50", "--sample-period", "120"]  # fmt: skip
    assert main(argv) == 0
    assert read_labels(labels)


def test_simulate_refuses_a_start_without_offset(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LIFTBRAIN_MQTT_URL", "mqtt://127.0.0.1:1")
    assert main(["simulate", "--start", "2026-01-05T00:00:00", "--no-seed-db"]) == 1
