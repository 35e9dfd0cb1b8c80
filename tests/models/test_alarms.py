"""The alarm aggregate: policies cover the catalogue, one active alarm per key, suppression, people's actions."""

from __future__ import annotations

import json
import threading
import time
from datetime import UTC, datetime, timedelta
from importlib import resources
from uuid import UUID

import pytest

from models.access.tenancy import TenantScope
from models.db import Connection, connect
from models.errors import Conflict, NotFound, PreconditionFailed
from models.monitoring import alarm_actions
from models.monitoring.alarm_policies import POLICIES, PolicyError, Severity, load_policies
from models.monitoring.alarms import AlarmState, alarm_history, clear_alarms, get_alarm, list_alarms, raise_alarm
from models.queries import PageParams
from models.telemetry.contract import EVENT_CATALOGUE
from models.work import work_orders
from tests.support.fleet import Fleet

T0 = datetime(2026, 11, 1, 8, 0, tzinfo=UTC)
ALL = TenantScope.internal()


def _policy_text() -> str:
    return resources.files("models.monitoring").joinpath("alarm_policies.json").read_text(encoding="utf-8")


def _raise(
    conn: Connection,
    alarm_type: str = "door_close_fault",
    *,
    at: datetime = T0,
    unit: str = "u1",
    severity: Severity = Severity.MAJOR,
    component: str | None = "door_operator",
) -> UUID:
    alarm = raise_alarm(
        conn,
        unit_id=unit,
        alarm_type=alarm_type,
        severity=severity,
        component_type=component,
        source="test",
        reason="seen",
        evidence={"n": 1},
        at=at,
    )
    return alarm.id


def _actions(conn: Connection, alarm_id: UUID) -> list[str]:
    return [c.action for c in alarm_history(conn, tenant=ALL, alarm_id=alarm_id, page=PageParams()).history.items]


@pytest.fixture
def unit(conn: Connection) -> str:
    conn.execute("INSERT INTO units (id) VALUES ('u1'), ('u2')")
    return "u1"


def test_every_catalogue_code_has_a_policy() -> None:
    assert set(POLICIES) == set(EVENT_CATALOGUE)


def test_a_catalogue_code_without_a_policy_is_refused() -> None:
    document = json.loads(_policy_text())
    del document["policies"]["entrapment"]
    with pytest.raises(PolicyError, match="no policy for event code\\(s\\) entrapment"):
        load_policies(json.dumps(document))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"severity": "major"}, "safety fault is critical"),
        ({"during_service": "suppress"}, "never suppressed"),
        ({"cleared_by": ["no_such_code"], "auto_clear": True}, "unknown code"),
        ({"severity": "urgent"}, "severity"),
    ],
)
def test_inconsistent_policies_are_refused(change: dict[str, object], message: str) -> None:
    document = json.loads(_policy_text())
    document["policies"]["entrapment"].update(change)
    with pytest.raises(PolicyError, match=message):
        load_policies(json.dumps(document))


def test_entrapment_and_safety_chain_faults_are_critical_and_never_suppressed() -> None:
    for code in ("entrapment", "safety_circuit_broken"):
        assert POLICIES[code].safety
        assert POLICIES[code].severity is Severity.CRITICAL
        assert POLICIES[code].during_service == "keep"


def test_a_repeat_counts_on_the_one_active_alarm(conn: Connection, unit: str) -> None:
    first = _raise(conn)
    assert _raise(conn, at=T0 + timedelta(minutes=5)) == first
    other_component = _raise(conn, component="controller")
    assert other_component != first
    alarm = get_alarm(conn, tenant=ALL, alarm_id=first)
    assert (alarm.count, alarm.first_seen, alarm.last_seen) == (2, T0, T0 + timedelta(minutes=5))
    assert _actions(conn, first) == ["opened", "repeated"]


def test_a_cleared_alarm_is_not_reopened_by_the_next_occurrence(conn: Connection, unit: str) -> None:
    first = _raise(conn)
    assert (
        clear_alarms(
            conn,
            unit_id=unit,
            alarm_type="door_close_fault",
            component_type="door_operator",
            reason="back to normal",
            at=T0 + timedelta(minutes=1),
        )
        == 1
    )
    second = _raise(conn, at=T0 + timedelta(minutes=2))
    assert second != first
    assert get_alarm(conn, tenant=ALL, alarm_id=first).state is AlarmState.CLEARED
    assert _actions(conn, first) == ["opened", "cleared"]


def test_a_clear_older_than_the_last_occurrence_leaves_the_alarm_open(conn: Connection, unit: str) -> None:
    alarm_id = _raise(conn, at=T0 + timedelta(minutes=10))
    cleared = clear_alarms(
        conn, unit_id=unit, alarm_type="door_close_fault", component_type="door_operator", reason="late", at=T0
    )
    assert cleared == 0
    assert get_alarm(conn, tenant=ALL, alarm_id=alarm_id).state is AlarmState.OPEN


def test_inspection_mode_suppresses_and_the_history_says_so(conn: Connection, unit: str) -> None:
    conn.execute(
        "INSERT INTO events (unit_id, time, received_at, code, category) VALUES"
        " ('u1', %s, now(), 'inspection_mode', 'event')",
        (T0,),
    )
    alarm = get_alarm(conn, tenant=ALL, alarm_id=_raise(conn, at=T0 + timedelta(minutes=1)))
    assert alarm.suppressed
    assert alarm.severity is Severity.MAJOR
    history = alarm_history(conn, tenant=ALL, alarm_id=alarm.id, page=PageParams()).history.items
    assert [c.action for c in history] == ["opened", "suppressed"]
    assert history[1].reason is not None
    assert "inspection mode" in history[1].reason
    # Back in service, the next occurrence makes the alarm active again.
    conn.execute(
        "INSERT INTO events (unit_id, time, received_at, code, category) VALUES"
        " ('u1', %s, now(), 'back_to_normal', 'event')",
        (T0 + timedelta(minutes=2),),
    )
    again = get_alarm(conn, tenant=ALL, alarm_id=_raise(conn, at=T0 + timedelta(minutes=3)))
    assert not again.suppressed
    assert _actions(conn, alarm.id)[-1] == "escalated"


def test_critical_alarms_are_never_suppressed(conn: Connection, unit: str) -> None:
    conn.execute(
        "INSERT INTO events (unit_id, time, received_at, code, category) VALUES"
        " ('u1', %s, now(), 'inspection_mode', 'event')",
        (T0,),
    )
    alarm_id = _raise(conn, "entrapment", at=T0 + timedelta(minutes=1), severity=Severity.CRITICAL, component=None)
    alarm = get_alarm(conn, tenant=ALL, alarm_id=alarm_id)
    assert (alarm.severity, alarm.suppressed) == (Severity.CRITICAL, False)
    assert _actions(conn, alarm_id) == ["opened"]


def test_a_work_order_in_progress_downgrades(conn: Connection, fleet: Fleet) -> None:
    work_orders.update_work_order(
        conn,
        tenant=ALL,
        work_order_id=fleet.ids["wo_a"],
        changes=work_orders.WorkOrderUpdate(status="in_progress"),
        expected_version=work_orders.get_work_order(conn, tenant=ALL, work_order_id=fleet.ids["wo_a"]).version,
    )
    alarm_id = _raise(conn, "motor_runtime_limiter", unit=fleet.unit_a1, component="traction_machine")
    alarm = get_alarm(conn, tenant=ALL, alarm_id=alarm_id)
    assert (alarm.severity, alarm.suppressed) == (Severity.MINOR, False)
    history = alarm_history(conn, tenant=ALL, alarm_id=alarm_id, page=PageParams()).history.items
    assert history[-1].action == "downgraded"
    assert history[-1].data == {"from": "major", "to": "minor"}
    assert f"work order {fleet.ids['wo_a']} in progress" == history[-1].reason


def test_people_acknowledge_comment_and_clear(conn: Connection, unit: str) -> None:
    alarm_id = _raise(conn)
    acked = alarm_actions.acknowledge(
        conn, tenant=ALL, alarm_id=alarm_id, actor="admin:k", reason=None, expected_version=1
    )
    assert (acked.state, acked.acknowledged_by, acked.version) == (AlarmState.ACKNOWLEDGED, "admin:k", 2)
    with pytest.raises(Conflict):
        alarm_actions.acknowledge(
            conn, tenant=ALL, alarm_id=alarm_id, actor="admin:k", reason=None, expected_version=None
        )
    with pytest.raises(PreconditionFailed):
        alarm_actions.clear(conn, tenant=ALL, alarm_id=alarm_id, actor="admin:k", reason="fixed", expected_version=1)
    alarm_actions.comment(conn, tenant=ALL, alarm_id=alarm_id, actor="admin:k", text="rollers worn")
    cleared = alarm_actions.clear(
        conn, tenant=ALL, alarm_id=alarm_id, actor="admin:k", reason="rollers replaced", expected_version=None
    )
    assert (cleared.state, cleared.cleared_by) == (AlarmState.CLEARED, "admin:k")
    history = alarm_history(conn, tenant=ALL, alarm_id=alarm_id, page=PageParams()).history.items
    assert [(c.action, c.actor, c.reason) for c in history[1:]] == [
        ("acknowledged", "admin:k", None),
        ("commented", "admin:k", "rollers worn"),
        ("cleared", "admin:k", "rollers replaced"),
    ]


def test_assignment_goes_only_to_the_units_maintainer_crews(conn: Connection, fleet: Fleet) -> None:
    alarm_id = _raise(conn, unit=fleet.unit_a1)
    assigned = alarm_actions.assign(
        conn,
        tenant=ALL,
        alarm_id=alarm_id,
        actor="admin:k",
        crew_id=fleet.ids["crew_a"],
        reason="nearest",
        expected_version=None,
    )
    assert assigned.assignee_crew_id == fleet.ids["crew_a"]
    with pytest.raises(NotFound):
        alarm_actions.assign(
            conn,
            tenant=ALL,
            alarm_id=alarm_id,
            actor="admin:k",
            crew_id=fleet.ids["crew_b"],
            reason=None,
            expected_version=None,
        )


def test_filters_narrow_the_list(conn: Connection, unit: str) -> None:
    _raise(conn)
    _raise(conn, "entrapment", severity=Severity.CRITICAL, component=None, unit="u2", at=T0 + timedelta(hours=1))
    found = list_alarms(conn, tenant=ALL, page=PageParams(), severity=Severity.CRITICAL)
    assert [a.unit_id for a in found.items] == ["u2"]
    assert [a.alarm_type for a in list_alarms(conn, tenant=ALL, page=PageParams(), unit_id="u1").items] == [
        "door_close_fault"
    ]
    assert len(list_alarms(conn, tenant=ALL, page=PageParams(), since=T0 + timedelta(minutes=30)).items) == 1
    assert len(list_alarms(conn, tenant=ALL, page=PageParams(), state=AlarmState.OPEN).items) == 2
    assert list_alarms(conn, tenant=ALL, page=PageParams(), state=AlarmState.CLEARED).items == []


def _wait_until_blocked(watcher: Connection, pid: int) -> None:
    for _ in range(200):
        row = watcher.execute("SELECT wait_event_type FROM pg_stat_activity WHERE pid = %s", (pid,)).fetchone()
        if row is not None and row["wait_event_type"] == "Lock":
            return
        time.sleep(0.05)
    raise AssertionError("the second raiser never waited on the first")


def test_two_raisers_at_once_share_one_alarm(database_url: str, conn: Connection, unit: str) -> None:
    conn.commit()
    first = _raise(conn)  # holds the new row until commit; the second raiser waits on the unique index
    with connect(database_url) as other, connect(database_url, autocommit=True) as watcher:

        def race() -> None:
            _raise(other, at=T0 + timedelta(minutes=1))
            other.commit()

        racing = threading.Thread(target=race)
        racing.start()
        _wait_until_blocked(watcher, other.info.backend_pid)
        conn.commit()
        racing.join(10)
    assert [(a.id, a.count) for a in list_alarms(conn, tenant=ALL, page=PageParams()).items] == [(first, 2)]
