"""The console's quality and compliance pages: a supplier sees only its own batches (another's answers 404, plots
included), manufacturers compare suppliers and see the fault Pareto, a regulator reads its region's compliance
tables and their CSV and changes nothing."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from brain.jobs import quality
from models.access.tenancy import Role
from models.db import Connection
from tests.support.console import alarm_id, csrf_token, seed_console, sign_in
from tests.support.fleet import Fleet
from tests.support.quality import AS_OF, COUNTERS_SINCE, QualityFleet, seed_brakes


@pytest.fixture
def brakes(conn: Connection) -> tuple[Fleet, QualityFleet]:
    """The console's fleet plus the brake fleet, with the quality job run over it."""
    fleet = seed_console(conn)
    seeded = seed_brakes(conn, fleet)
    quality.run(conn, now=AS_OF, counters_since=COUNTERS_SINCE)
    conn.commit()
    return fleet, seeded


def test_supplier_signs_in_to_its_own_batches_only(client: TestClient, brakes: tuple[Fleet, QualityFleet]) -> None:
    _, seeded = brakes
    assert sign_in(client, seeded.keys["BAD"]).status_code == 303
    assert client.get("/console/", follow_redirects=False).headers["location"] == "/console/quality"
    page = client.get("/console/quality").text
    assert f'href="/console/quality/batches/{seeded.batches["BAD"]}"' in page
    assert str(seeded.batches["GOOD"]) not in page
    assert "Fault Pareto" not in page  # a supplier sees parts, not the units' fault history
    assert 'href="/console/fleet"' not in page  # nor the fleet
    own = client.get(f"/console/quality/batches/{seeded.batches['BAD']}")
    assert own.status_code == 200
    assert "Weibull" in own.text
    plot = client.get(f"/console/quality/plots/weibull/batch/{seeded.batches['BAD']}")
    assert plot.headers["content-type"] == "image/svg+xml"
    assert plot.content.lstrip().startswith(b"<?xml")
    assert client.get(f"/console/quality/batches/{seeded.batches['GOOD']}").status_code == 404
    assert client.get(f"/console/quality/plots/weibull/batch/{seeded.batches['GOOD']}").status_code == 404
    assert client.get("/console/fleet").status_code == 403


def test_manufacturer_compares_suppliers_and_sees_the_pareto(
    client: TestClient, brakes: tuple[Fleet, QualityFleet]
) -> None:
    fleet, _ = brakes
    sign_in(client, fleet.keys[Role.MANUFACTURER])
    page = client.get("/console/quality").text
    assert "Bad Brakes (brake)" in page
    assert "Good Brakes (brake)" in page
    assert 'src="/console/quality/plots/rates?group=supplier&amp;component_type=brake&amp;basis=usage"' in page
    assert "Fault Pareto" in page
    rates = client.get("/console/quality/plots/rates?group=supplier&component_type=brake&basis=usage")
    assert rates.status_code == 200
    assert rates.headers["content-type"] == "image/svg+xml"
    assert "nosniff" in rates.headers["x-content-type-options"]
    assert "default-src 'self'" in rates.headers["content-security-policy"]


def test_regulator_reads_compliance_tables_and_csv(
    client: TestClient, conn: Connection, brakes: tuple[Fleet, QualityFleet]
) -> None:
    _, seeded = brakes
    conn.execute("UPDATE units SET status = 'in_service' WHERE id LIKE 'U%' OR id = 'B1'")
    trapped = datetime.now(UTC).replace(day=1, hour=10) - timedelta(days=1)  # last month: the rescue is over
    conn.execute(
        "INSERT INTO events (unit_id, time, received_at, code, category) VALUES ('U03', %(t)s, %(t)s, 'entrapment',"
        " 'fault'), ('U03', %(t)s + interval '20 minutes', %(t)s, 'back_to_normal', 'event')",
        {"t": trapped},
    )
    conn.commit()
    sign_in(client, seeded.keys["regulator"])
    assert client.get("/console/", follow_redirects=False).headers["location"] == "/console/compliance"
    page = client.get("/console/compliance").text
    overdue = page.split('id="overdue-heading"', 1)[1].split("</section>", 1)[0]
    assert 'href="/console/units/U01"' in overdue  # no maintenance recorded: overdue
    assert "maintenance, inspection" in overdue
    assert "B1" not in overdue  # outside the region
    rows = page.split('id="entrapments-heading"', 1)[1].split("<tbody>", 1)[1].split("</tbody>", 1)[0].split("<tr>")
    last_month = next(row for row in rows if trapped.strftime("%Y-%m") in row)
    assert '<th scope="row">Mx</th>' in last_month  # Acme's maintainer
    assert "1 of 1" in last_month  # rescued within the SLA
    exported = client.get("/console/compliance/overdue.csv")
    assert exported.headers["content-type"].startswith("text/csv")
    overdue_rows = list(csv.DictReader(io.StringIO(exported.text)))
    assert {row["unit_id"] for row in overdue_rows} == {f"U{n:02d}" for n in range(1, 11)}
    months = list(csv.DictReader(io.StringIO(client.get("/console/compliance/entrapments.csv").text)))
    assert len(months) == 12
    assert {row["maintainer_name"] for row in months} == {"Mx"}


def test_regulator_is_read_only(client: TestClient, conn: Connection, brakes: tuple[Fleet, QualityFleet]) -> None:
    _, seeded = brakes
    alarm = alarm_id(conn, "A1", "door_close_fault")
    sign_in(client, seeded.keys["regulator"])
    unit = client.get("/console/units/A1").text
    token = csrf_token(unit)
    assert client.get(f"/console/alarms/{alarm}").status_code == 403  # monitoring is not the regulator's
    answer = client.post(f"/console/alarms/{alarm}/acknowledge", data={"csrf_token": token, "version": "1"})
    assert answer.status_code == 403
    assert client.get("/console/work-orders").status_code == 403
    for page in (unit, client.get("/console/compliance").text, client.get("/console/quality").text):
        assert 'method="post"' not in page.split("</header>", 1)[1]  # only sign-out posts
