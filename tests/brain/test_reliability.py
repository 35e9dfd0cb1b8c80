"""Reliability figures: the Weibull fit against a textbook example, rates and MTBF on a hand-computed fleet,
censoring, and the batch test (a defective batch flagged, a healthy one not)."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pytest

from brain.jobs import quality
from brain.quality.alerts import flag_batches
from brain.quality.reliability import compute_stats, lives_frame
from brain.quality.stats import fit_weibull, poisson_interval
from models.db import Connection
from models.monitoring.alarm_policies import Severity
from models.monitoring.alarms import raise_alarm
from models.quality.lives import batch_totals, component_lives, group_labels
from models.quality.reliability import GroupKind, ReliabilityStat
from tests.support.fleet import Fleet
from tests.support.quality import AS_OF, COUNTERS_SINCE, T0, QualityFleet, seed_brakes

# Meeker & Escobar, Statistical Methods for Reliability Data, the bearing-cage fracture data (from Abernethy):
# 6 failures among 1,703 engines, the rest still running at the given hours. Weibull ML: beta 2.035, eta 11,792 h.
BEARING_CAGE_FAILURES = (230, 334, 423, 990, 1009, 1510)
BEARING_CAGE_RUNNING = {50: 288, 150: 148, 250: 124, 350: 111, 450: 106, 550: 99, 650: 110, 750: 114, 850: 119,
                        950: 127, 1050: 123, 1150: 93, 1250: 47, 1350: 41, 1450: 27, 1550: 11, 1650: 6, 1850: 1,
                        2050: 2}  # fmt: skip


def test_weibull_fit_with_censoring_matches_the_textbook_bearing_cage_example() -> None:
    running = [hours for hours, count in BEARING_CAGE_RUNNING.items() for _ in range(count)]
    hours = np.array([*BEARING_CAGE_FAILURES, *running], dtype=float)
    failed = np.arange(hours.size) < len(BEARING_CAGE_FAILURES)
    fit = fit_weibull(hours, failed)
    assert fit is not None
    assert fit.shape == pytest.approx(2.035, rel=2e-3)
    assert fit.scale == pytest.approx(11_792, rel=2e-3)
    assert fit.shape_lower < fit.shape < fit.shape_upper
    assert 0 < fit.scale_lower < fit.scale < fit.scale_upper


def test_weibull_fit_ignoring_censoring_would_be_far_off() -> None:
    hours = np.array(BEARING_CAGE_FAILURES, dtype=float)
    fit = fit_weibull(hours, np.ones(hours.size, dtype=bool))
    assert fit is not None
    assert fit.scale < 2_000  # the running engines are what push eta to ~11,800 h


def test_exact_poisson_interval_of_one_failure() -> None:
    lower, upper = poisson_interval(1, 5500.0)
    assert lower * 1e6 == pytest.approx(4.603, rel=1e-3)
    assert upper * 1e6 == pytest.approx(1013.0, rel=1e-3)


@pytest.fixture
def brakes(conn: Connection, fleet: Fleet) -> QualityFleet:
    seeded = seed_brakes(conn, fleet)
    conn.commit()
    return seeded


def _stats(conn: Connection) -> dict[tuple[GroupKind, str], ReliabilityStat]:
    lives = lives_frame(component_lives(conn, as_of=AS_OF))
    return {(s.group_kind, s.group_key): s for s in compute_stats(lives, labels=group_labels(conn), now=AS_OF)}


def test_rates_and_mtbf_match_the_hand_computed_fleet(conn: Connection, brakes: QualityFleet) -> None:
    stats = _stats(conn)
    brake = stats[(GroupKind.COMPONENT_TYPE, "brake")]
    assert (brake.failures, brake.lives) == (4, 15)
    assert brake.exposure_hours == pytest.approx(10_000)
    assert brake.rate_per_mh == pytest.approx(400.0)
    assert brake.mtbf_hours == pytest.approx(2_500.0)
    bad = stats[(GroupKind.BATCH, str(brakes.batches["BAD"]))]
    assert (bad.label, bad.failures) == ("BAD", 3)
    assert bad.exposure_hours == pytest.approx(1_600)
    assert bad.rate_per_mh == pytest.approx(1_875.0)
    assert bad.fleet_rate_per_mh == pytest.approx(1 / 8_400 * 1e6)
    good = stats[(GroupKind.BATCH, str(brakes.batches["GOOD"]))]
    assert good.failures == 1
    assert good.exposure_hours == pytest.approx(5_100)
    assert good.rate_lower == pytest.approx(4.964, rel=1e-3)
    assert good.rate_upper == pytest.approx(1092.5, rel=1e-3)
    supplier = stats[(GroupKind.SUPPLIER, f"{brakes.suppliers['BAD']}/brake")]
    assert (supplier.failures, supplier.label) == (3, "Bad Brakes (brake)")


def test_planned_swap_is_censored_not_a_failure(conn: Connection, brakes: QualityFleet) -> None:
    lives = lives_frame(component_lives(conn, as_of=AS_OF))
    u05 = lives.filter(lives["unit_id"] == "U05").sort("hours")
    assert u05["failed"].to_list() == [False, False]
    assert u05["hours"].to_list() == [pytest.approx(500), pytest.approx(500)]


def test_failures_after_the_moment_are_not_seen(conn: Connection, brakes: QualityFleet) -> None:
    early = {t.batch_id: t for t in batch_totals(conn, as_of=T0 + timedelta(hours=150))}
    assert early[brakes.batches["BAD"]].failures == 1  # only U01's, at 100 h, by 150 h


def test_defective_batch_is_flagged_and_healthy_one_is_not(conn: Connection, brakes: QualityFleet) -> None:
    flagged = {f.batch_id: f for f in flag_batches(batch_totals(conn, as_of=AS_OF))}
    assert set(flagged) == {brakes.batches["BAD"]}
    assert flagged[brakes.batches["BAD"]].affected_units == 1  # U04 still carries it


def test_quality_job_stores_stats_and_raises_the_alert_once(conn: Connection, brakes: QualityFleet) -> None:
    quality.run(conn, now=AS_OF, counters_since=COUNTERS_SINCE)
    quality.run(conn, now=AS_OF, counters_since=COUNTERS_SINCE)
    conn.commit()
    alerts = conn.execute("SELECT batch_id, failures FROM quality_alerts").fetchall()
    assert alerts == [{"batch_id": brakes.batches["BAD"], "failures": 3}]
    rows = conn.execute("SELECT count(*) AS n FROM reliability_stats WHERE group_kind = 'batch'").fetchone()
    assert rows == {"n": 2}


def test_failures_per_million_trips_over_the_counted_lives(conn: Connection, brakes: QualityFleet) -> None:
    quality.run(conn, now=AS_OF, counters_since=COUNTERS_SINCE)
    stats = _stats(conn)
    brake = stats[(GroupKind.COMPONENT_TYPE, "brake")]
    assert (brake.usage_unit, brake.usage_failures) == ("trips", 4)
    assert brake.usage is not None
    assert 90_000 < brake.usage < 100_000  # 10 trips an hour for 10,000 hours, less the days between readings
    assert brake.rate_per_m_usage == pytest.approx(4 / brake.usage * 1e6)
    assert brake.usage_rate_lower is not None
    assert brake.usage_rate_upper is not None
    assert brake.rate_per_m_usage is not None
    assert brake.usage_rate_lower < brake.rate_per_m_usage < brake.usage_rate_upper


def test_mttr_runs_from_the_alarm_to_done_and_to_verified(conn: Connection, brakes: QualityFleet) -> None:
    alarm = raise_alarm(
        conn, unit_id="U01", alarm_type="brake_fault", severity=Severity.MAJOR, component_type="brake",
        source="test", reason="brake", evidence={}, at=T0 + timedelta(hours=99),
    )  # fmt: skip
    conn.execute(
        "UPDATE work_orders SET source = 'alarm', source_ref = %(alarm)s, completed_at = %(done)s,"
        " verified_at = %(verified)s WHERE unit_id = 'U01' AND kind = 'corrective'",
        {"alarm": str(alarm.id), "done": T0 + timedelta(hours=103), "verified": T0 + timedelta(hours=127)},
    )  # 4 h from the alarm to done, 28 h to verified
    conn.execute(
        "UPDATE work_orders SET completed_at = created_at + interval '2 hours'"
        " WHERE unit_id = 'U02' AND kind = 'corrective'"
    )  # no alarm: 2 h from the order to done, never verified
    brake = _stats(conn)[(GroupKind.COMPONENT_TYPE, "brake")]
    assert brake.repairs == 2
    assert brake.mttr_hours == pytest.approx(3.0)
    assert brake.mttr_verified_hours == pytest.approx(28.0)
    assert brake.availability == pytest.approx(2_500 / 2_503)
