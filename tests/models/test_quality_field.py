"""The field views: entrapments per 1,000 units and rescue times by maintainer, overdue statutory work, and the
fault Pareto per model, on hand-placed events."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from models.access.tenancy import TenantScope
from models.db import Connection
from models.lifecycle import ledger
from models.quality import field
from models.queries import PageParams
from tests.support.fleet import Fleet

MARCH = datetime(2024, 3, 1, tzinfo=UTC)
APRIL = datetime(2024, 4, 1, tzinfo=UTC)
ALL = TenantScope.internal()
PAGE = PageParams(limit=100)


def _event(conn: Connection, unit_id: str, at: datetime, code: str, category: str = "fault") -> None:
    conn.execute(
        "INSERT INTO events (unit_id, time, received_at, code, category) VALUES (%(u)s, %(t)s, %(t)s, %(c)s, %(k)s)",
        {"u": unit_id, "t": at, "c": code, "k": category},
    )


@pytest.fixture
def field_events(conn: Connection, fleet: Fleet) -> Fleet:
    """A1 (maintainer Mx): trapped twice in March, freed after 20 and 60 minutes; two door faults, one fixed
    after 2 h, one never back to normal. B1 (My): nothing."""
    for at, minutes in ((MARCH + timedelta(days=4, hours=10), 20), (MARCH + timedelta(days=19, hours=8), 60)):
        _event(conn, "A1", at, "entrapment")
        _event(conn, "A1", at + timedelta(minutes=minutes), "back_to_normal", "event")
    _event(conn, "A1", MARCH + timedelta(days=10), "door_close_fault")
    _event(conn, "A1", MARCH + timedelta(days=10, hours=2), "back_to_normal", "event")
    _event(conn, "A1", MARCH + timedelta(days=25), "door_close_fault")
    conn.commit()
    return fleet


def test_entrapments_per_thousand_units_and_rescue_times_by_maintainer(conn: Connection, field_events: Fleet) -> None:
    months = field.entrapments_by_maintainer(conn, tenant=ALL, since=MARCH, until=APRIL, page=PAGE).items
    got = {(m.maintainer_name, m.month.month): m for m in months}
    mx, my = got[("Mx", 3)], got[("My", 3)]
    assert (mx.units, mx.entrapments, mx.per_1000_units, mx.rescued_within_sla) == (1, 2, 2000.0, 1)
    assert mx.rescue_minutes_median == pytest.approx(40.0)
    assert (my.units, my.entrapments, my.per_1000_units, my.rescue_minutes_median) == (1, 0, 0.0, None)


def test_overdue_units_are_those_in_service_without_recent_statutory_work(
    conn: Connection, field_events: Fleet
) -> None:
    for unit_id in ("A1", "B1"):
        ledger.append_record(
            conn, tenant=ALL, unit_id=unit_id, kind="installation", occurred_at=MARCH, data={}, actor="t"
        )
    ledger.append_record(
        conn, tenant=ALL, unit_id="A1", kind="maintenance", occurred_at=MARCH + timedelta(days=25), data={}, actor="t"
    )
    ledger.append_record(conn, tenant=ALL, unit_id="A1", kind="inspection", occurred_at=MARCH, data={}, actor="t")
    overdue = field.overdue_units(conn, tenant=ALL, now=APRIL, page=PAGE).items
    assert [(u.unit_id, u.maintenance_overdue, u.inspection_overdue) for u in overdue] == [("B1", True, True)]
    later = field.overdue_units(conn, tenant=ALL, now=APRIL + timedelta(days=30), page=PAGE).items
    assert [(u.unit_id, u.maintenance_overdue, u.inspection_overdue) for u in later] == [
        ("A1", True, False),
        ("B1", True, True),
    ]


def test_fault_pareto_ranks_codes_by_downtime(conn: Connection, field_events: Fleet) -> None:
    costs = field.fault_pareto(conn, tenant=ALL, since=MARCH, until=APRIL, page=PAGE).items
    assert [(c.code, c.faults, round(c.downtime_hours, 2)) for c in costs] == [
        ("door_close_fault", 2, 2.0),
        ("entrapment", 2, round(80 / 60, 2)),
    ]
