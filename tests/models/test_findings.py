"""Degradation findings, detector model versions and health scores: idempotent writes, one open finding each."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from models.db import connect
from models.monitoring.detector_models import latest_model, save_model
from models.monitoring.findings import close_finding, list_findings, open_findings, upsert_finding
from models.monitoring.health import HealthRow, health_history, record_health

T0 = datetime(2026, 3, 20, tzinfo=UTC)


def _finding(**overrides: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "unit_id": "U1", "component_type": "door_rollers", "severity": "warning", "score": 7.5,
        "reason": "door_rollers: door_close_s 3.9 vs baseline 3 (+7.5 spreads)",
        "evidence": [{"feature": "door_close_s", "deviation": 7.5}], "window_start": T0 - timedelta(days=3),
        "window_end": T0, "source": "detector:test", "model_id": None, "at": T0,
    }  # fmt: skip
    return values | overrides


def test_one_open_finding_per_unit_and_component_repeats_update_it(database_url: str) -> None:
    with connect(database_url) as conn:
        first = upsert_finding(conn, **_finding())
        assert upsert_finding(conn, **_finding()) == first  # the same pass again
        assert upsert_finding(conn, **_finding(score=12.0, severity="minor", at=T0 + timedelta(days=1))) == first
        other = upsert_finding(conn, **_finding(component_type="brake"))
        [door, brake] = open_findings(conn, unit_id="U1")
    assert other != first
    assert (door.component_type, door.seen_count, door.score, door.severity) == ("door_rollers", 2, 12.0, "minor")
    assert door.last_seen == T0 + timedelta(days=1)
    assert door.opened_at == T0
    assert brake.component_type == "brake"


def test_a_closed_finding_stays_closed_and_a_new_episode_opens_a_new_one(database_url: str) -> None:
    with connect(database_url) as conn:
        first = upsert_finding(conn, **_finding())
        assert close_finding(conn, unit_id="U1", component_type="door_rollers", at=T0 + timedelta(days=2),
                             reason="features back within baseline")  # fmt: skip
        assert not close_finding(conn, unit_id="U1", component_type="door_rollers", at=T0, reason="again")
        second = upsert_finding(conn, **_finding(at=T0 + timedelta(days=9)))
        states = [(f.id, f.state) for f in list_findings(conn, unit_id="U1")]
    assert states == [(first, "closed"), (second, "open")]


def test_model_versions_count_up_per_family(database_url: str) -> None:
    with connect(database_url) as conn:
        assert latest_model(conn, family="m1") is None
        for _ in range(2):
            save_model(conn, family="m1", trained_from=T0 - timedelta(days=28), trained_until=T0,
                       features=["door_close_s"], metrics={"units": 9}, artifact=b'{"x": 1}',
                       created_at=T0)  # fmt: skip
        save_model(conn, family="m2", trained_from=T0, trained_until=T0, features=[], metrics={}, artifact=b"{}",
                   created_at=T0)  # fmt: skip
        latest = latest_model(conn, family="m1")
    assert latest is not None
    assert (latest.version, latest.features, latest.metrics, latest.artifact) == (2, ["door_close_s"], {"units": 9},
                                                                                  b'{"x": 1}')  # fmt: skip


def test_recording_health_again_replaces_the_same_time(database_url: str) -> None:
    with connect(database_url) as conn:
        record_health(conn, unit_id="U1", at=T0, rows=[HealthRow("unit", 80.0, [{"feature": "a"}])], model_id=None)
        record_health(conn, unit_id="U1", at=T0, rows=[HealthRow("unit", 60.0, [{"feature": "b"}])], model_id=None)
        record_health(conn, unit_id="U1", at=T0 + timedelta(days=1), rows=[HealthRow("unit", None, [{"reason": "r"}])],
                      model_id=None)  # fmt: skip
        history = health_history(conn, unit_id="U1")
    assert [(h.score, h.reasons) for h in history] == [(60.0, [{"feature": "b"}]), (None, [{"reason": "r"}])]
