"""The console's fleet (a build, spare parts, telemetry, an event, alarms and health scores on A1, a critical alarm
on B1), and signing in through its form."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx2
import pytest
from fastapi.testclient import TestClient

from models.access.tenancy import TenantScope
from models.db import Connection
from models.monitoring.alarms import Severity, raise_alarm
from models.monitoring.health import HealthRow, record_health
from models.registry import components, units
from tests.support.fleet import FLEET_T0, Fleet, seed_fleet

# Where the browser tests saved their screenshots (set by their fixture, printed at the end of the run).
SCREENSHOTS = pytest.StashKey[Path]()
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
# Minutes of telemetry seeded on A1, ending now: enough for a line in every chart.
TELEMETRY_MINUTES = 30


def csrf_token(html: str) -> str:
    """The CSRF token a page's forms carry."""
    found = CSRF.search(html)
    assert found is not None, "no form with a CSRF token on the page"
    return found.group(1)


def sign_in(client: TestClient, key: str) -> httpx2.Response:
    """Sign in through the form (its own token first), without following the redirect."""
    client.cookies.clear()
    token = csrf_token(client.get("/console/sign-in").text)
    return client.post("/console/sign-in", data={"api_key": key, "csrf_token": token}, follow_redirects=False)


def seed_console(conn: Connection) -> Fleet:
    """The shared fleet plus what the unit page and a part swap need on A1."""
    fleet = seed_fleet(conn)
    brake = components.create_component(conn, serial="BR-1", component_type="brake", batch_id=fleet.ids["batch"])
    units.install_component(
        conn, tenant=TenantScope.internal(), unit_id="A1", position="brake", component_id=brake.id, at=FLEET_T0
    )
    components.create_component(conn, serial="BR-2", component_type="brake", batch_id=fleet.ids["batch"])
    now = datetime.now(UTC)
    for minute in range(TELEMETRY_MINUTES):
        at = now - timedelta(minutes=TELEMETRY_MINUTES - minute)
        conn.execute(
            "INSERT INTO telemetry (unit_id, time, received_at, motor_current_a, motor_temp_c, vibration_z,"
            " levelling_error_mm, trip_count) VALUES ('A1', %s, %s, %s, %s, %s, %s, %s)",
            (at, at, 20.0 + minute % 5, 45.0 + minute / 10, 0.05, 1.5, 1000 + minute),
        )
    conn.execute(
        "INSERT INTO events (unit_id, time, received_at, code, category) VALUES ('A1', %s, %s, 'door_close_fault',"
        " 'fault')",
        (now - timedelta(minutes=10), now),
    )
    conn.execute("UPDATE units SET online = true, last_seen = %s WHERE id = 'A1'", (now,))
    for unit_id, alarm_type, severity, minutes_ago in (
        ("A1", "door_close_fault", Severity.MAJOR, 10),
        ("A1", "levelling_drift", Severity.WARNING, 20),
        ("B1", "overspeed", Severity.CRITICAL, 5),
    ):
        raise_alarm(
            conn, unit_id=unit_id, alarm_type=alarm_type, severity=severity, component_type=None, source="test",
            reason=f"{alarm_type} seen", evidence={}, at=now - timedelta(minutes=minutes_ago),
        )  # fmt: skip
    health = [
        HealthRow("unit", 62.0, [{"component": "door_operator", "score": 41}]),
        HealthRow("door_operator", 41.0, [{"feature": "door_close_s_p90", "z": 3.2, "direction": "up"}]),
    ]
    record_health(conn, unit_id="A1", at=now - timedelta(hours=1), rows=health, model_id=None)
    return fleet


def alarm_id(conn: Connection, unit_id: str, alarm_type: str) -> str:
    """The id of the unit's alarm of that type (committed by the caller's fixture)."""
    row = conn.execute("SELECT id FROM alarms WHERE unit_id = %s AND alarm_type = %s", (unit_id, alarm_type)).fetchone()
    conn.commit()
    assert row is not None
    return str(row["id"])
