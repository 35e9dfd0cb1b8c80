"""Energy performance: ISO 25745-2 classes on a hand-computed month, drift against a unit's own history (a
dragging brake flagged, doubled traffic and a noisy history not), and the job's monthly pass with its alarm."""

from __future__ import annotations

from datetime import date

import polars as pl
import pytest

from brain.quality.energy import DRIFT_ALARM, TOO_LITTLE_HISTORY, classify, judge_drift, run_energy
from models.db import Connection
from tests.support.fleet import Fleet
from tests.support.quality import ENERGY_LAST_MONTH, ENERGY_NOW, ENERGY_T0, QualityFleet, seed_brakes, seed_energy


def _month(**values: float) -> pl.DataFrame:
    row = {"unit_id": "U", "month": date(2024, 2, 1), "hours": 696.0, "trips": 8700, "energy_kwh": 278.4,
           "standby_power_w": 150.0, "capacity_kg": 1000.0, "floors": 10.0} | values  # fmt: skip
    return classify(pl.DataFrame([row]))


def test_a_hand_computed_month_gets_its_classes() -> None:
    month = _month().row(0, named=True)
    # Running: 278.4 kWh less 150 W over 696 h = 174 kWh over 8,700 trips; average travel 9 floors x 3 m x 49 %.
    assert month["running_kwh_per_trip"] == pytest.approx(0.02)
    assert month["specific_running_mwh"] == pytest.approx(0.02e6 / (1000 * 13.23))
    assert month["usage_category"] == 3  # 300 trips a day
    # At category 3's nominal 300 trips and 22.5 idle hours a day: 1.512 x 3.969 + 0.15 x 22.5 kWh.
    assert month["daily_kwh"] == pytest.approx(1.5117 * 3.969 + 3.375, rel=1e-3)
    assert (month["running_class"], month["standby_class"], month["energy_class"]) == ("C", "C", "C")


def test_class_bounds_and_thin_months() -> None:
    assert _month(standby_power_w=40.0).row(0, named=True)["standby_class"] == "A"
    assert _month(standby_power_w=2000.0).row(0, named=True)["standby_class"] == "G"
    thin = _month(hours=100.0).row(0, named=True)  # four days of readings say nothing about a month
    assert (thin["energy_class"], thin["specific_running_mwh"], thin["usage_category"]) == (None, None, None)


def _history(unit: str, values: list[float]) -> list[dict[str, object]]:
    """Monthly figures ending in June 2024."""
    first = 7 - len(values)
    return [{"unit_id": unit, "month": date(2024, first + m, 1), "specific_running_mwh": v, "standby_power_w": 150.0,
             "running_class": "C", "drift": None} for m, v in enumerate(values)]  # fmt: skip


def test_drift_is_a_significant_rise_over_the_units_own_history() -> None:
    rows = [
        *_history("steady-then-up", [1.50, 1.52, 1.49, 1.51, 1.50, 2.10]),
        *_history("noisy", [1.0, 1.6, 1.2, 1.5, 1.1, 1.75]),
        *_history("new", [1.5, 2.5]),
    ]
    verdicts = {r["unit_id"]: r for r in judge_drift(pl.DataFrame(rows), month=date(2024, 6, 1)).to_dicts()}
    assert verdicts["steady-then-up"]["drift"] is True
    assert "40% above its 5-month median" in verdicts["steady-then-up"]["drift_reason"]
    assert verdicts["noisy"]["drift"] is False  # 46 % above its median, but within its own spread
    assert (verdicts["new"]["drift"], verdicts["new"]["drift_reason"]) == (None, TOO_LITTLE_HISTORY)


@pytest.fixture
def energy_fleet(conn: Connection, fleet: Fleet) -> QualityFleet:
    seeded = seed_brakes(conn, fleet)
    seed_energy(conn)
    conn.commit()
    return seeded


def test_the_monthly_pass_flags_the_dragging_brake_once(conn: Connection, energy_fleet: QualityFleet) -> None:
    stored, drifting = run_energy(conn, since=ENERGY_T0, now=ENERGY_NOW)
    assert (stored, drifting) == (13, 1)  # U01 and U02 for six months, U03 for one
    rows = conn.execute(
        "SELECT unit_id, running_class, usage_category, drift, drift_reason FROM unit_energy_months"
        " WHERE month = %(m)s ORDER BY unit_id", {"m": ENERGY_LAST_MONTH}
    ).fetchall()  # fmt: skip
    assert [(r["unit_id"], r["running_class"], r["usage_category"], r["drift"]) for r in rows] == [
        ("U01", "D", 3, True), ("U02", "C", 4, False), ("U03", "C", 3, None)
    ]  # fmt: skip
    reason = rows[0]["drift_reason"]
    assert isinstance(reason, str)
    assert "running class C -> D" in reason
    assert run_energy(conn, since=ENERGY_LAST_MONTH, now=ENERGY_NOW)[1] == 0  # judged once
    alarms = conn.execute("SELECT unit_id, severity, count FROM alarms WHERE alarm_type = %s", (DRIFT_ALARM,))
    assert alarms.fetchall() == [{"unit_id": "U01", "severity": "minor", "count": 1}]
