"""The console over HTTP: sign-in and its cookie, the API's roles and tenancy, CSRF, and work-order completion."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from models.access import api_keys
from models.access.tenancy import Role, TenantScope
from models.db import Connection
from models.work import crews
from tests.support.console import csrf_token, sign_in
from tests.support.fleet import Fleet

FIELD_ROLES = (Role.ADMIN, Role.MANUFACTURER, Role.MAINTAINER, Role.CREW)


def _order_state(conn: Connection, fleet: Fleet) -> tuple[str, int]:
    row = conn.execute("SELECT status, version FROM work_orders WHERE id = %s", (fleet.ids["wo_a"],)).fetchone()
    conn.commit()
    assert row is not None
    return str(row["status"]), int(str(row["version"]))


@pytest.mark.parametrize(
    ("role", "home"),
    [
        (Role.ADMIN, "/console/fleet"),
        (Role.MANUFACTURER, "/console/fleet"),
        (Role.MAINTAINER, "/console/fleet"),
        (Role.CREW, "/console/work-orders"),
    ],
)
def test_sign_in_gives_a_strict_httponly_cookie_and_each_role_its_home(
    client: TestClient, console_fleet: Fleet, role: Role, home: str
) -> None:
    response = sign_in(client, console_fleet.keys[role])
    assert response.status_code == 303
    cookie = next(v for k, v in response.headers.multi_items() if k == "set-cookie" and v.startswith("lb_console="))
    assert "HttpOnly" in cookie
    assert "SameSite=strict" in cookie
    assert "Path=/console" in cookie
    assert "Secure" not in cookie  # plain HTTP here; see the TLS test
    landing = client.get("/console/", follow_redirects=False)
    assert landing.headers["location"] == home


def test_session_cookie_is_secure_over_tls(client: TestClient, console_fleet: Fleet) -> None:
    client.base_url = client.base_url.copy_with(scheme="https")
    response = sign_in(client, console_fleet.keys[Role.MAINTAINER])
    assert response.status_code == 303
    assert "Secure" in response.headers["set-cookie"]


@pytest.mark.parametrize(("role", "status"), [(Role.DEVICE, 403)])
def test_a_device_key_cannot_sign_in(client: TestClient, console_fleet: Fleet, role: Role, status: int) -> None:
    response = sign_in(client, console_fleet.keys[role])
    assert response.status_code == status
    assert "cannot use the console" in response.text
    assert client.get("/console/fleet", follow_redirects=False).status_code == 303


def test_an_unknown_key_is_refused_with_the_form_again(client: TestClient, console_fleet: Fleet) -> None:
    response = sign_in(client, "lb_not-a-key")
    assert response.status_code == 401
    assert 'name="api_key"' in response.text


def test_sign_in_without_its_form_token_is_refused(client: TestClient, console_fleet: Fleet) -> None:
    client.get("/console/sign-in")
    response = client.post("/console/sign-in", data={"api_key": console_fleet.keys[Role.ADMIN]})
    assert response.status_code == 403
    assert "lb_console=" not in response.headers.get("set-cookie", "")


def test_pages_send_anonymous_callers_to_sign_in(client: TestClient, console_fleet: Fleet) -> None:
    assert client.get("/console/fleet", follow_redirects=False).headers["location"] == "/console/sign-in"
    live = client.get("/console/fleet", headers={"HX-Request": "true"}, follow_redirects=False)
    assert live.headers["HX-Redirect"] == "/console/sign-in"  # a live refresh sends the whole page there


@pytest.mark.parametrize("role", [Role.MANUFACTURER, Role.MAINTAINER, Role.CREW])
def test_another_tenants_unit_answers_not_found(client: TestClient, console_fleet: Fleet, role: Role) -> None:
    sign_in(client, console_fleet.keys[role])
    assert client.get("/console/units/A1").status_code == 200
    other = client.get("/console/units/B1")
    assert other.status_code == 404
    assert "B1" not in other.text.replace("no such unit", "")
    assert client.get("/console/units/B1/positions/brake").status_code == 404


@pytest.mark.parametrize("role", FIELD_ROLES)
def test_fleet_board_lists_only_the_units_the_key_sees(client: TestClient, console_fleet: Fleet, role: Role) -> None:
    sign_in(client, console_fleet.keys[role])
    board = client.get("/console/fleet").text
    assert 'href="/console/units/A1"' in board
    assert ('href="/console/units/B1"' in board) is (role is Role.ADMIN)


def test_fleet_board_filters_and_refreshes_as_a_fragment(client: TestClient, console_fleet: Fleet) -> None:
    sign_in(client, console_fleet.keys[Role.ADMIN])
    offline = client.get("/console/fleet?presence=offline").text
    assert 'href="/console/units/B1"' in offline
    assert 'href="/console/units/A1"' not in offline  # A1 is online
    by_site = client.get(f"/console/fleet?site={console_fleet.ids['site_b']}").text
    assert 'href="/console/units/B1"' in by_site
    assert 'href="/console/units/A1"' not in by_site
    fragment = client.get("/console/fleet?q=B1", headers={"HX-Request": "true"}).text
    assert fragment.lstrip().startswith('<section id="board"')
    assert 'hx-trigger="every 15s"' in fragment
    assert "<html" not in fragment
    assert client.get("/console/fleet?model=not-an-id").status_code == 400


def test_unit_page_draws_telemetry_build_timeline_and_work(client: TestClient, console_fleet: Fleet) -> None:
    sign_in(client, console_fleet.keys[Role.MAINTAINER])
    unit = client.get("/console/units/A1?window=6h").text
    assert unit.count("<svg") == 5
    assert "<polyline" in unit
    assert "door_close_fault" in unit  # the event drawn as a marker
    assert "BR-1" in unit  # the build
    assert "door fault" in unit  # its work order
    life = client.get("/console/units/A1?life=true").text
    assert "factory build" in life
    assert client.get("/console/units/A1?window=2y").status_code == 400


def test_manufacturer_does_not_see_work_orders(client: TestClient, console_fleet: Fleet) -> None:
    sign_in(client, console_fleet.keys[Role.MANUFACTURER])
    unit = client.get("/console/units/A1").text
    assert 'id="orders-heading"' not in unit  # the timeline still lists them, as the API's timeline does
    assert client.get("/console/work-orders").status_code == 403


def test_form_post_without_the_csrf_token_is_refused(
    client: TestClient, conn: Connection, console_fleet: Fleet
) -> None:
    sign_in(client, console_fleet.keys[Role.CREW])
    order = console_fleet.ids["wo_a"]
    response = client.post(f"/console/work-orders/{order}/start", data={"version": "2"})
    assert response.status_code == 403
    forged = client.post(f"/console/work-orders/{order}/start", data={"version": "2", "csrf_token": "guess"})
    assert forged.status_code == 403
    assert _order_state(conn, console_fleet)[0] == "assigned"


def test_crew_starts_and_completes_its_work_order_with_a_part_swap(
    client: TestClient, conn: Connection, console_fleet: Fleet
) -> None:
    sign_in(client, console_fleet.keys[Role.CREW])
    order = console_fleet.ids["wo_a"]
    page = client.get(f"/console/work-orders/{order}").text
    token = csrf_token(page)
    _, version = _order_state(conn, console_fleet)
    started = client.post(f"/console/work-orders/{order}/start", data={"csrf_token": token, "version": str(version)})
    assert started.status_code == 200  # followed the 303 to the order
    assert "Complete this work order" in started.text
    form = {
        "csrf_token": token,
        "version": str(version + 1),
        "checklist": ["doors", "test_run"],
        "notes": "door contact replaced",
        "part_position": "brake",
        "installed_serial": "BR-2",
    }
    done = client.post(f"/console/work-orders/{order}/complete", data=form)
    assert done.status_code == 200
    assert _order_state(conn, console_fleet)[0] == "done"
    records = conn.execute(
        "SELECT kind, data FROM lifecycle_records WHERE work_order_id = %s ORDER BY seq", (order,)
    ).fetchall()
    assert [r["kind"] for r in records] == ["part_replacement", "repair"]
    repair = records[1]["data"]
    assert isinstance(repair, dict)
    assert repair["checklist"] == {
        "safety_circuits": False,
        "doors": True,
        "brake": False,
        "levelling": False,
        "test_run": True,
    }
    build = conn.execute(
        "SELECT c.serial FROM unit_components uc JOIN components c ON c.id = uc.component_id"
        " WHERE uc.unit_id = 'A1' AND uc.position = 'brake' AND uc.removed_at IS NULL"
    ).fetchone()
    assert build is not None
    assert build["serial"] == "BR-2"


def test_maintainer_assigns_a_crew_and_a_crew_may_not(
    client: TestClient, conn: Connection, console_fleet: Fleet
) -> None:
    night = crews.create_crew(
        conn, tenant=TenantScope.internal(), maintainer_id=console_fleet.ids["maint_org_a"], name="night crew"
    )
    conn.commit()
    order = console_fleet.ids["wo_a"]
    sign_in(client, console_fleet.keys[Role.CREW])
    assert "Assign crew" not in client.get(f"/console/work-orders/{order}").text
    sign_in(client, console_fleet.keys[Role.MAINTAINER])
    page = client.get(f"/console/work-orders/{order}").text
    assert "night crew" in page
    assert "b crew" not in page  # another maintainer's crew is never offered
    form = {"csrf_token": csrf_token(page), "version": "2", "crew_id": str(night.id)}
    assert client.post(f"/console/work-orders/{order}/assign", data=form).status_code == 200
    row = conn.execute("SELECT crew_id FROM work_orders WHERE id = %s", (order,)).fetchone()
    assert row is not None
    assert row["crew_id"] == night.id
    stale = client.post(f"/console/work-orders/{order}/assign", data=form)
    assert stale.status_code == 412  # version 2 is gone: someone changed it meanwhile


def test_a_failed_completion_leaves_nothing_behind(client: TestClient, conn: Connection, console_fleet: Fleet) -> None:
    sign_in(client, console_fleet.keys[Role.CREW])
    order = console_fleet.ids["wo_a"]
    token = csrf_token(client.get(f"/console/work-orders/{order}").text)
    client.post(f"/console/work-orders/{order}/start", data={"csrf_token": token, "version": "2"})
    form = {"csrf_token": token, "version": "3", "notes": "swap", "part_position": "brake", "installed_serial": "NOPE"}
    response = client.post(f"/console/work-orders/{order}/complete", data=form)
    assert response.status_code == 404  # no such component: the whole completion is rolled back
    assert "no such component" in response.text
    assert _order_state(conn, console_fleet) == ("in_progress", 3)
    count = conn.execute("SELECT count(*) AS n FROM lifecycle_records WHERE work_order_id = %s", (order,)).fetchone()
    assert count is not None
    assert count["n"] == 0
    stale = client.post(f"/console/work-orders/{order}/complete", data={**form, "version": "2", "installed_serial": ""})
    assert stale.status_code == 400  # a position without a serial


def test_sign_out_ends_the_session_for_good(client: TestClient, console_fleet: Fleet) -> None:
    sign_in(client, console_fleet.keys[Role.MAINTAINER])
    cookie = client.cookies["lb_console"]
    token = csrf_token(client.get("/console/fleet").text)
    assert client.post("/console/sign-out", data={}, follow_redirects=False).status_code == 403  # CSRF here too
    out = client.post("/console/sign-out", data={"csrf_token": token}, follow_redirects=False)
    assert out.headers["location"] == "/console/sign-in"
    client.cookies.set("lb_console", cookie, path="/console")  # a copy of the old cookie is worth nothing
    assert client.get("/console/fleet", follow_redirects=False).headers["location"] == "/console/sign-in"


def test_revoking_the_key_ends_its_sessions(client: TestClient, conn: Connection, console_fleet: Fleet) -> None:
    sign_in(client, console_fleet.keys[Role.MAINTAINER])
    assert client.get("/console/fleet").status_code == 200
    secret = console_fleet.keys[Role.MAINTAINER]
    key = api_keys.resolve_key(conn, secret=secret)
    assert key is not None
    # Revoked through the API, as an admin would: the key cache forgets it at once (another API process: 10 s).
    admin = {"Authorization": f"Bearer {console_fleet.keys[Role.ADMIN]}"}
    assert client.delete(f"/api-keys/{key.key_id}", headers=admin).status_code == 200
    assert client.get("/console/fleet", follow_redirects=False).headers["location"] == "/console/sign-in"


def test_pages_forbid_framing_and_foreign_scripts(client: TestClient, console_fleet: Fleet) -> None:
    response = client.get("/console/sign-in")
    policy = response.headers["content-security-policy"]
    assert "script-src 'self'" in policy
    assert "frame-ancestors 'none'" in policy
    assert client.get("/console/static/htmx-2.0.11.min.js").status_code == 200
    assert client.get("/units").status_code == 401  # the API's own errors stay JSON
    assert client.get("/units").json()["error"] == "unauthorized"
