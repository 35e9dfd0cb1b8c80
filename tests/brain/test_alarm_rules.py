"""The alarm jobs: each rule fires and clears, suppression in service, offline alarms, re-runs change nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

import pytest
from psycopg import sql

from brain.jobs import alarms as alarm_jobs
from brain.scheduler import Job, run_job
from models.access.tenancy import TenantScope
from models.db import Connection
from models.monitoring import alarm_sources
from models.monitoring.alarm_policies import POLICIES
from models.work import work_orders
from tests.support.fleet import Fleet

T0 = datetime(2026, 11, 1, 8, 0, tzinfo=UTC)
RAISING = sorted(code for code, policy in POLICIES.items() if policy.severity is not None)
SILENCE = timedelta(minutes=15)


def _event(conn: Connection, code: str, *, at: datetime, unit: str = "u1") -> None:
    conn.execute(
        "INSERT INTO events (unit_id, time, received_at, code, category)"
        " VALUES (%s, %s, clock_timestamp(), %s, 'fault')",
        (unit, at, code),
    )


def _rules(conn: Connection) -> None:
    alarm_jobs.run_event_rules(conn, now=datetime.now(UTC))


def _alarms(conn: Connection, **where: Any) -> list[dict[str, Any]]:
    filters = [sql.SQL("{} = {}").format(sql.Identifier(column), sql.Placeholder(column)) for column in where]
    query = sql.SQL(
        "SELECT alarm_type, severity, state, suppressed, count FROM alarms WHERE {} ORDER BY first_seen"
    ).format(sql.SQL(" AND ").join([sql.SQL("true"), *filters]))
    return conn.execute(query, where).fetchall()


@pytest.fixture
def unit(conn: Connection) -> str:
    conn.execute("INSERT INTO units (id) VALUES ('u1')")
    return "u1"


@pytest.mark.parametrize("code", RAISING)
def test_each_rule_fires_and_clears_as_its_policy_says(conn: Connection, unit: str, code: str) -> None:
    policy = POLICIES[code]
    _event(conn, code, at=T0)
    _rules(conn)
    # Entering inspection is itself the service: its own alarm is informational, hence suppressed.
    suppressed = policy.service == "enter"
    assert _alarms(conn) == [
        {"alarm_type": code, "severity": policy.severity, "state": "open", "suppressed": suppressed, "count": 1}
    ]
    _event(conn, "back_to_normal", at=T0 + timedelta(minutes=5))
    _rules(conn)
    expected = "cleared" if policy.auto_clear else "open"
    assert [a["state"] for a in _alarms(conn)] == [expected]


def test_repeats_count_on_one_alarm_and_a_rerun_duplicates_nothing(conn: Connection, unit: str) -> None:
    for minute in range(3):
        _event(conn, "door_close_fault", at=T0 + timedelta(minutes=minute))
    _rules(conn)
    _rules(conn)
    # Rewind the cursor: the overlap re-reads every event, and none counts twice.
    conn.execute("UPDATE alarm_cursors SET received_at = '2000-01-01Z'")
    _rules(conn)
    assert [a["count"] for a in _alarms(conn)] == [3]
    assert conn.execute("SELECT count(*) AS n FROM alarm_history").fetchone() == {"n": 3}


def test_a_backlog_is_worked_off_over_several_passes(
    conn: Connection, unit: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(alarm_sources, "MAX_EVENTS_PER_PASS", 2)
    for minute in range(5):
        _event(conn, "door_close_fault", at=T0 + timedelta(minutes=minute))
    passes = 0
    while alarm_sources.pending_events(conn, cursor=alarm_jobs.CURSOR):
        _rules(conn)
        passes += 1
    assert (passes, [a["count"] for a in _alarms(conn)]) == (3, [5])


def test_a_clearing_event_that_arrived_first_still_clears(conn: Connection, unit: str) -> None:
    _event(conn, "back_to_normal", at=T0 + timedelta(minutes=5))
    _rules(conn)
    _event(conn, "no_restart", at=T0)
    _rules(conn)
    assert [a["state"] for a in _alarms(conn)] == ["cleared"]


def test_inspection_mode_suppresses_door_faults_but_not_entrapment(conn: Connection, unit: str) -> None:
    _event(conn, "inspection_mode", at=T0)
    _event(conn, "door_close_fault", at=T0 + timedelta(minutes=1))
    _event(conn, "alarm_button", at=T0 + timedelta(minutes=2))
    _event(conn, "entrapment", at=T0 + timedelta(minutes=3))
    _rules(conn)
    got = {a["alarm_type"]: (a["severity"], a["suppressed"]) for a in _alarms(conn)}
    assert got == {
        "inspection_mode": ("warning", True),
        "door_close_fault": ("major", True),
        "alarm_button": ("minor", False),
        "entrapment": ("critical", False),
    }
    reasons = conn.execute(
        "SELECT a.alarm_type, h.reason FROM alarm_history h JOIN alarms a ON a.id = h.alarm_id"
        " WHERE h.action IN ('suppressed', 'downgraded') ORDER BY a.alarm_type"
    ).fetchall()
    assert [r["alarm_type"] for r in reasons] == ["alarm_button", "door_close_fault", "inspection_mode"]
    assert all(str(r["reason"]).startswith("unit in inspection mode since") for r in reasons)


def test_a_work_order_in_progress_suppresses_door_faults(conn: Connection, fleet: Fleet) -> None:
    work_orders.update_work_order(
        conn,
        tenant=TenantScope.internal(),
        work_order_id=fleet.ids["wo_a"],
        changes=work_orders.WorkOrderUpdate(status="in_progress"),
        expected_version=work_orders.get_work_order(
            conn, tenant=TenantScope.internal(), work_order_id=fleet.ids["wo_a"]
        ).version,
    )
    _event(conn, "door_open_fault", at=T0, unit=fleet.unit_a1)
    _event(conn, "door_open_fault", at=T0, unit=fleet.unit_b1)
    _rules(conn)
    got = {u: _alarms(conn, unit_id=u)[0]["suppressed"] for u in (fleet.unit_a1, fleet.unit_b1)}
    assert got == {fleet.unit_a1: True, fleet.unit_b1: False}


def test_one_bad_unit_does_not_stop_the_others(conn: Connection, unit: str) -> None:
    # An event of an unregistered unit (alarms reference units) fails that unit alone, and is retried later.
    _event(conn, "door_close_fault", at=T0, unit="ghost")
    _event(conn, "door_close_fault", at=T0)
    _rules(conn)
    assert [a["alarm_type"] for a in _alarms(conn)] == ["door_close_fault"]
    applied = conn.execute("SELECT unit_id FROM alarm_rule_events").fetchall()
    assert applied == [{"unit_id": "u1"}]


def test_offline_alarm_opens_once_and_clears_when_the_unit_returns(conn: Connection) -> None:
    now = datetime.now(UTC)
    conn.execute(
        "INSERT INTO units (id, online, last_seen, status) VALUES ('quiet', false, %(old)s, 'in_service'),"
        " ('chatty', true, %(recent)s, 'in_service'), ('gone', false, %(old)s, 'decommissioned'),"
        " ('never', false, NULL, 'registered')",
        {"old": now - timedelta(hours=1), "recent": now - timedelta(seconds=30)},
    )
    alarm_jobs.run_offline(conn, now=now, silent_for=SILENCE)
    alarm_jobs.run_offline(conn, now=now + timedelta(seconds=30), silent_for=SILENCE)
    opened = conn.execute("SELECT unit_id, severity, state, count FROM alarms").fetchall()
    assert opened == [{"unit_id": "quiet", "severity": "major", "state": "open", "count": 1}]
    conn.execute("UPDATE units SET online = true, last_seen = %s WHERE id = 'quiet'", (now + timedelta(seconds=40),))
    alarm_jobs.run_offline(conn, now=now + timedelta(minutes=1), silent_for=SILENCE)
    assert _alarms(conn, alarm_type="offline")[0]["state"] == "cleared"
    reason = conn.execute("SELECT reason FROM alarm_history WHERE action = 'cleared'").fetchone()
    assert reason is not None
    assert str(reason["reason"]).startswith("heard from again at")


def test_the_rules_job_runs_under_the_scheduler(database_url: str, conn: Connection, unit: str) -> None:
    _event(conn, "entrapment", at=T0)
    conn.commit()
    assert run_job(database_url, Job("alarm_event_rules", alarm_jobs.run_event_rules, every_seconds=1))
    offline = Job("alarm_offline", partial(alarm_jobs.run_offline, silent_for=SILENCE), every_seconds=30)
    assert run_job(database_url, offline)
    conn.rollback()
    assert [a["alarm_type"] for a in _alarms(conn)] == ["entrapment"]


def test_a_backlog_of_many_units_is_applied_in_one_pass_with_every_rule_kept(conn: Connection) -> None:
    units = [f"b{n:03d}" for n in range(30)]
    conn.execute("INSERT INTO units (id) SELECT unnest(%s::text[])", (units,))
    for n, unit in enumerate(units):
        # Every unit: a door fault twice, its end, the fault again; the alarm button pressed twice; an entrapment.
        # Every third unit is in inspection first (the door fault is suppressed there, entrapment never).
        if n % 3 == 0:
            _event(conn, "inspection_mode", at=T0 - timedelta(minutes=1), unit=unit)
        codes = ["door_close_fault", "alarm_button", "door_close_fault", "back_to_normal", "door_close_fault",
                 "alarm_button", "entrapment"]  # fmt: skip
        for minute, code in enumerate(codes):
            _event(conn, code, at=T0 + timedelta(minutes=minute), unit=unit)
    _rules(conn)
    assert alarm_sources.pending_events(conn, cursor=alarm_jobs.CURSOR) == []
    rows = conn.execute(
        "SELECT unit_id, alarm_type, state, count, suppressed FROM alarms ORDER BY unit_id, first_seen, alarm_type"
    ).fetchall()
    # The end was already in the table when the faults before it were applied: each of them is over at once.
    door = [(r["state"], r["count"]) for r in rows if r["alarm_type"] == "door_close_fault"]
    assert door == [("cleared", 1), ("cleared", 1), ("open", 1)] * len(units)
    assert [r["count"] for r in rows if r["alarm_type"] == "alarm_button"] == [2] * len(units)
    assert [r["suppressed"] for r in rows if r["alarm_type"] == "entrapment"] == [False] * len(units)
    suppressed_doors = {r["unit_id"] for r in rows if r["alarm_type"] == "door_close_fault" and r["suppressed"]}
    assert suppressed_doors == {unit for n, unit in enumerate(units) if n % 3 == 0}
    applied = conn.execute("SELECT count(*) AS n FROM alarm_rule_events").fetchone()
    assert applied == {"n": 7 * len(units) + len(units[::3])}


def test_one_event_at_a_time_and_a_whole_batch_leave_the_same_alarms(conn: Connection, unit: str) -> None:
    codes = ["door_close_fault", "no_restart", "door_close_fault", "back_to_normal", "no_restart", "alarm_button"]
    for minute, code in enumerate(codes):
        _event(conn, code, at=T0 + timedelta(minutes=minute))
    events = alarm_sources.pending_events(conn, cursor=alarm_jobs.CURSOR)
    with conn.transaction(force_rollback=True):
        for event in events:
            alarm_jobs.apply_events(conn, [event])
        one_by_one = _alarms(conn), conn.execute("SELECT action, reason FROM alarm_history ORDER BY id").fetchall()
    alarm_jobs.apply_events(conn, events)
    batched = _alarms(conn), conn.execute("SELECT action, reason FROM alarm_history ORDER BY id").fetchall()
    assert batched == one_by_one
    assert [a["state"] for a in batched[0]] == ["cleared", "cleared", "cleared", "open", "open"]


def test_an_alarm_ended_and_raised_again_in_one_pass_opens_its_successor(conn: Connection, unit: str) -> None:
    _event(conn, "door_close_fault", at=T0)
    _rules(conn)
    _event(conn, "back_to_normal", at=T0 + timedelta(minutes=1))
    _event(conn, "door_close_fault", at=T0 + timedelta(minutes=2))
    _rules(conn)
    assert [(a["state"], a["count"]) for a in _alarms(conn)] == [("cleared", 1), ("open", 1)]
    assert alarm_sources.pending_events(conn, cursor=alarm_jobs.CURSOR) == []
