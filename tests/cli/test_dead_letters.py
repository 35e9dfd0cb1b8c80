"""`liftbrain dead-letters list|replay`: replay after a fix accepts what now passes, and is idempotent."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from cli.main import main
from ingest.batch import KnownUnits, write_batch
from ingest.parse import Limits, parse_message
from models.db import connect
from tests.support.ingest import count, register

LIMITS = Limits(topic_prefix="lb/v1", max_payload_bytes=65536, max_future=timedelta(minutes=5),
                max_past=timedelta(days=3650))  # fmt: skip
T = (datetime.now(UTC) - timedelta(minutes=1)).replace(microsecond=0).isoformat().encode()
SAMPLES = b'{"samples": [{"ts": "' + T + b'", "floor": 2}]}'


@pytest.fixture
def refused(database_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """Two dead letters: telemetry of a unit not yet registered, and malformed JSON."""
    monkeypatch.setenv("LIFTBRAIN_DATABASE_URL", database_url)
    messages = [parse_message("lb/v1/late/telemetry", SAMPLES, LIMITS), parse_message("lb/v1/late/event", b"{", LIMITS)]
    with connect(database_url, autocommit=True) as conn:
        write_batch(conn, messages, KnownUnits(auto_register=False))
    return database_url


def test_list_shows_each_letter_with_its_reason(refused: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["dead-letters", "list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 3
    assert any("unknown_unit" in line and "lb/v1/late/telemetry" in line for line in lines)
    assert any("malformed" in line for line in lines)


def test_replay_after_registration_accepts_and_is_idempotent(refused: str) -> None:
    register(refused, "late")
    assert main(["dead-letters", "replay"]) == 0
    assert count(refused, "SELECT count(*) FROM telemetry WHERE unit_id = 'late'") == 1
    assert count(refused, "SELECT count(*) FROM dead_letters WHERE replayed_at IS NOT NULL") == 1
    assert count(refused, "SELECT count(*) FROM dead_letters WHERE replay_reason LIKE 'malformed JSON%'") == 1
    assert main(["dead-letters", "replay"]) == 0
    assert main(["dead-letters", "replay", "--id", "1"]) == 0
    assert count(refused, "SELECT count(*) FROM telemetry") == 1
    assert count(refused, "SELECT count(*) FROM dead_letters") == 2


def test_replay_filters_by_reason(refused: str) -> None:
    register(refused, "late")
    assert main(["dead-letters", "replay", "--reason", "malformed"]) == 0
    assert count(refused, "SELECT count(*) FROM telemetry") == 0
    assert count(refused, "SELECT count(*) FROM dead_letters WHERE replay_reason IS NOT NULL") == 1


def test_naive_time_filter_is_refused(refused: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["dead-letters", "list", "--since", "2026-01-01T00:00:00"])
    assert "no UTC offset" in capsys.readouterr().err
