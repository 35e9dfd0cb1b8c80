"""Health scores and the detection job end to end: features -> detector -> health and findings in the database."""

from __future__ import annotations

from datetime import timedelta

from brain.detection.baselines import Assessment
from brain.detection.health import health_rows
from brain.jobs import detection, features
from models.db import connect
from models.monitoring.detector_models import latest_model
from models.monitoring.findings import list_findings
from models.monitoring.health import health_history
from tests.brain.synthetic import START, load_units, unit_rows

DAYS = 26


def test_health_is_100_at_baseline_and_falls_with_deviation_with_reasons() -> None:
    base = {"door_close_s": 3.0, "vibration_hf_p50": 0.02}
    healthy = Assessment("U", START, judged=True, reason="", values=base, baseline=base,
                         spread={"door_close_s": 0.1, "vibration_hf_p50": 0.002},
                         deviations={"door_close_s": 0.0, "vibration_hf_p50": -1.0})  # fmt: skip
    worn = Assessment("U", START, judged=True, reason="", values={**base, "door_close_s": 3.9}, baseline=base,
                      spread=healthy.spread, deviations={"door_close_s": 9.0, "vibration_hf_p50": 0.5})  # fmt: skip
    scores = {row.component_type: row.score for row in health_rows(healthy)}
    assert scores == {"door_rollers": 100.0, "bearing": 100.0, "unit": 100.0}
    rows = {row.component_type: row for row in health_rows(worn)}
    assert rows["door_rollers"].score == 25.0
    assert rows["unit"].score == 25.0
    assert rows["door_rollers"].reasons[0]["feature"] == "door_close_s"
    assert rows["door_rollers"].reasons[0]["deviation"] == 9.0


def test_detection_job_flags_the_worn_unit_names_the_component_and_reruns_duplicate_nothing(
    database_url: str,
) -> None:
    units = {
        "WORN": unit_rows("WORN", days=DAYS, seed=1, wear_from_day=16),
        "TWIN": unit_rows("TWIN", days=DAYS, seed=1),
        "NEW": unit_rows("NEW", days=DAYS, seed=2)[-150:],  # one day of history
    }
    now = START + timedelta(days=DAYS, minutes=5)
    with connect(database_url) as conn:
        load_units(conn, units)
        features.refresh_windows(conn, unit_ids=sorted(units), since=START, until=now, window_hours=24, now=now)
        for _ in range(2):
            detection.run(conn, now=now)
        conn.commit()
        findings = list_findings(conn)
        assert [(f.unit_id, f.component_type, f.state) for f in findings] == [("WORN", "door_rollers", "open")]
        assert findings[0].seen_count == 1
        assert findings[0].evidence[0]["deviation"] >= 6
        assert findings[0].source == detection.SOURCE
        alarms = conn.execute(
            "SELECT unit_id, component_type, state FROM alarms WHERE alarm_type = %s", (detection.ALARM_TYPE,)
        ).fetchall()
        assert alarms == [{"unit_id": "WORN", "component_type": "door_rollers", "state": "open"}]
        worn = health_history(conn, unit_id="WORN", component_type="door_rollers")
        twin = health_history(conn, unit_id="TWIN")
        new = health_history(conn, unit_id="NEW")
        assert len(worn) == len(twin) == len(new) == 1
        assert worn[0].score is not None
        assert worn[0].score < 50
        assert twin[0].score is not None
        assert twin[0].score > 50
        assert twin[0].reasons[-1]["reason"].endswith("no family spread floor (too few units)")
        assert new[0].score is None
        assert "not enough history" in new[0].reasons[0]["reason"]
        # The registry knows no model family for these units: the fleet-wide model would need five units.
        assert latest_model(conn, family=detection.FLEET_FAMILY) is None


def test_a_finding_closes_when_the_component_is_back_within_baseline(database_url: str) -> None:
    rows = unit_rows("U", days=DAYS, seed=3, wear_from_day=16)
    healthy_again = unit_rows("U", days=DAYS + 4, seed=4)[DAYS * 144 :]
    now = START + timedelta(days=DAYS, minutes=5)
    later = now + timedelta(days=4)
    with connect(database_url) as conn:
        load_units(conn, {"U": rows})
        features.refresh_windows(conn, unit_ids=["U"], since=START, until=now, window_hours=24, now=now)
        detection.run(conn, now=now)
        load_units(conn, {"U": healthy_again})
        features.refresh_windows(conn, unit_ids=["U"], since=now, until=later, window_hours=24, now=later)
        detection.run(conn, now=later)
        findings = list_findings(conn, unit_id="U")
        alarm_states = conn.execute(
            "SELECT state FROM alarms WHERE unit_id = 'U' AND alarm_type = %s", (detection.ALARM_TYPE,)
        ).fetchall()
    assert alarm_states == [{"state": "cleared"}]
    assert [(f.component_type, f.state, f.close_reason) for f in findings] == [
        ("door_rollers", "closed", "features back within baseline")
    ]
