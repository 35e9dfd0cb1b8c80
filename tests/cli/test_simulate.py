"""`liftbrain simulate`: the flags `liftbrain up --simulate N` relies on, and a short replay end to end."""

from __future__ import annotations

from pathlib import Path

import pytest

from cli.main import build_parser, main
from models.db import connect
from models.telemetry.simulation_labels import unit_labels
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


def test_simulate_with_a_database_seeds_and_loads_labels(
    mosquitto: LocalMosquitto, database_url: str, topic_prefix: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LIFTBRAIN_MQTT_URL", mosquitto.url)
    monkeypatch.setenv("LIFTBRAIN_MQTT_TOPIC_PREFIX", topic_prefix)
    monkeypatch.setenv("LIFTBRAIN_DATABASE_URL", database_url)
    labels = tmp_path / "run-a.jsonl"
    argv = ["simulate", "--units", "3", "--days", "1", "--start", "2026-01-05T00:00:00+00:00", "--labels", str(labels),
            "--hazard-scale", "50", "--sample-period", "120"]  # fmt: skip
    assert main(argv) == 0
    assert main(argv) == 0  # a second run of the same name replaces its labels
    written = read_labels(labels)
    with connect(database_url) as conn:
        stored = [
            label
            for unit in sorted({w.unit_id for w in written})
            for label in unit_labels(conn, run_id="run-a", unit_id=unit)
        ]
        units = conn.execute("SELECT count(*) AS n FROM units").fetchone()
    assert units == {"n": 3}
    assert len(stored) == len(written)
    assert sorted((s.unit_id, s.kind, s.cause, s.onset_at) for s in stored) == sorted(
        (w.unit_id, w.kind, w.cause, w.onset_at) for w in written
    )
