"""The console's alarms: the list (filters, pages, live refresh, tenancy), the actions through the JSON API's
models functions and scopes (CSRF, stale versions), active alarms on the fleet board and on the unit page."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from api.console import alarms as alarm_views
from models.access.tenancy import Role
from models.db import Connection
from tests.support.console import alarm_id, csrf_token, sign_in
from tests.support.fleet import Fleet


def _alarm(conn: Connection, alarm: str) -> dict[str, object]:
    row = conn.execute(
        "SELECT state, assignee_crew_id, version, (SELECT array_agg(action || ':' || coalesce(reason, '') ORDER BY id)"
        " FROM alarm_history h WHERE h.alarm_id = a.id) AS history FROM alarms a WHERE id = %s",
        (alarm,),
    ).fetchone()
    conn.commit()
    assert row is not None
    return dict(row)


def test_alarm_list_shows_the_callers_alarms_and_filters_them(client: TestClient, console_fleet: Fleet) -> None:
    sign_in(client, console_fleet.keys[Role.MAINTAINER])
    page = client.get("/console/alarms").text
    assert "door close fault" in page
    assert "levelling drift" in page
    assert "overspeed" not in page  # B1 is another maintainer's unit
    totals = page.split('id="alarms-heading"', 1)[1].split("</p>", 1)[0]
    assert "1 major" in totals
    assert "1 warning" in totals
    assert "critical" not in totals
    major = client.get("/console/alarms?severity=major").text
    assert "door close fault" in major
    assert "levelling drift" not in major
    typed = client.get("/console/alarms?type=levelling_drift&unit=A1").text
    assert "levelling drift" in typed
    assert "door close fault" not in typed
    assert "No alarms match" in client.get("/console/alarms?state=cleared").text
    assert client.get("/console/alarms?state=closed").status_code == 400
    assert client.get("/console/alarms?unit=A1;drop").status_code == 400


def test_alarm_list_pages_in_sql_and_refreshes_as_a_fragment(
    client: TestClient, console_fleet: Fleet, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(alarm_views, "PAGE_SIZE", 1)
    sign_in(client, console_fleet.keys[Role.ADMIN])
    first = client.get("/console/alarms").text
    assert "overspeed" in first  # the most recently seen
    assert "door close fault" not in first
    assert 'href="/console/alarms?offset=1"' in first
    second = client.get("/console/alarms?offset=1", headers={"HX-Request": "true"}).text
    assert second.lstrip().startswith('<section id="alarm-list"')
    assert "<html" not in second
    assert 'hx-trigger="every 15s"' in second
    assert "door close fault" in second


def test_acknowledge_assign_comment_and_clear(client: TestClient, conn: Connection, console_fleet: Fleet) -> None:
    alarm = alarm_id(conn, "A1", "door_close_fault")
    sign_in(client, console_fleet.keys[Role.MAINTAINER])
    page = client.get(f"/console/alarms/{alarm}").text
    token = csrf_token(page)
    assert "a crew" in page  # the unit's maintainer's crew is offered
    assert "b crew" not in page
    acked = client.post(
        f"/console/alarms/{alarm}/acknowledge", data={"csrf_token": token, "version": "1", "reason": "on it"}
    )
    assert acked.status_code == 200  # followed the 303 back to the alarm
    assert re.search(r'id="alarm-state">acknowledged<', acked.text)
    crew = str(console_fleet.ids["crew_a"])
    assign = {"csrf_token": token, "version": "2", "crew_id": crew}
    assert client.post(f"/console/alarms/{alarm}/assign", data=assign).status_code == 200
    note = {"csrf_token": token, "text": "door contact dirty"}
    assert client.post(f"/console/alarms/{alarm}/comment", data=note).status_code == 200
    cleared = client.post(
        f"/console/alarms/{alarm}/clear", data={"csrf_token": token, "version": "4", "reason": "contact cleaned"}
    )
    assert "door contact dirty" in cleared.text  # the history on the page
    stored = _alarm(conn, alarm)
    assert stored["state"] == "cleared"
    assert str(stored["assignee_crew_id"]) == crew
    assert stored["history"] == [
        "opened:door_close_fault seen",
        "acknowledged:on it",
        "assigned:",
        "commented:door contact dirty",
        "cleared:contact cleaned",
    ]


def test_alarm_actions_need_the_csrf_token_a_current_version_and_valid_input(
    client: TestClient, conn: Connection, console_fleet: Fleet
) -> None:
    alarm = alarm_id(conn, "A1", "door_close_fault")
    sign_in(client, console_fleet.keys[Role.CREW])
    token = csrf_token(client.get(f"/console/alarms/{alarm}").text)
    assert client.post(f"/console/alarms/{alarm}/acknowledge", data={"version": "1"}).status_code == 403
    stale = {"csrf_token": token, "version": "7"}
    assert client.post(f"/console/alarms/{alarm}/acknowledge", data=stale).status_code == 412
    assert client.post(f"/console/alarms/{alarm}/clear", data={"csrf_token": token, "version": "1"}).status_code == 400
    other_crew = {"csrf_token": token, "version": "1", "crew_id": str(console_fleet.ids["crew_b"])}
    assert client.post(f"/console/alarms/{alarm}/assign", data=other_crew).status_code == 404
    assert client.post(f"/console/alarms/{alarm}/assign", data={**other_crew, "crew_id": "x"}).status_code == 400
    assert _alarm(conn, alarm)["state"] == "open"
    assert _alarm(conn, alarm)["version"] == 1


@pytest.mark.parametrize("role", [Role.MANUFACTURER, Role.MAINTAINER, Role.CREW])
def test_another_tenants_alarm_answers_not_found(
    client: TestClient, conn: Connection, console_fleet: Fleet, role: Role
) -> None:
    other = alarm_id(conn, "B1", "overspeed")
    sign_in(client, console_fleet.keys[role])
    assert client.get(f"/console/alarms/{other}").status_code == 404
    if role is not Role.MANUFACTURER:
        token = csrf_token(client.get("/console/alarms").text)
        answer = client.post(f"/console/alarms/{other}/acknowledge", data={"csrf_token": token, "version": "1"})
        assert answer.status_code == 404
    assert _alarm(conn, other)["state"] == "open"


def test_manufacturer_reads_alarms_without_acting_on_them(
    client: TestClient, conn: Connection, console_fleet: Fleet
) -> None:
    alarm = alarm_id(conn, "A1", "door_close_fault")
    sign_in(client, console_fleet.keys[Role.MANUFACTURER])
    page = client.get(f"/console/alarms/{alarm}").text
    assert "Door close fault" in page
    assert "Acknowledge alarm" not in page
    token = csrf_token(page)  # the sign-out form's
    form = {"csrf_token": token, "version": "1"}
    assert client.post(f"/console/alarms/{alarm}/acknowledge", data=form).status_code == 403
    assert _alarm(conn, alarm)["state"] == "open"


def test_fleet_board_shows_active_alarms_by_severity_per_unit(client: TestClient, console_fleet: Fleet) -> None:
    sign_in(client, console_fleet.keys[Role.ADMIN])
    board = client.get("/console/fleet").text
    a1 = board.split('id="unit-A1"', 1)[1].split("</tr>", 1)[0]
    b1 = board.split('id="unit-B1"', 1)[1].split("</tr>", 1)[0]
    assert "1 major" in a1
    assert "1 warning" in a1
    assert "critical" not in a1
    assert "1 critical" in b1
    assert 'href="/console/alarms?unit=A1"' in a1
    summary = board.split('class="summary"', 1)[1].split("</dl>", 1)[0]
    assert "Active alarms" in summary
    assert ">3 <" in summary


def test_unit_page_shows_health_with_reasons_and_alarms_on_the_charts(client: TestClient, console_fleet: Fleet) -> None:
    sign_in(client, console_fleet.keys[Role.MAINTAINER])
    unit = client.get("/console/units/A1?window=6h").text
    health = unit.split('id="health-heading"', 1)[1].split("</section>", 1)[0]
    assert health.index(">unit<") < health.index(">door operator<")  # the unit first
    assert ">62<" in health
    assert ">41<" in health
    assert "door_close_s_p90" in health  # the reason
    assert unit.count('class="span sev-major"') == 5  # one band per chart
    assert unit.count('class="span sev-warning"') == 5
    assert "2 alarms shaded" in unit
    sign_in(client, console_fleet.keys[Role.ADMIN])
    silent = client.get("/console/units/B1?window=6h").text  # no telemetry: no chart, the alarm is still listed
    listed = silent.split('id="window-alarms-heading"', 1)[1].split("</ul>", 1)[0]
    assert "critical" in listed
    assert "overspeed" in listed
