"""Batch alerts and field verification: two bad lots of one type do not hide each other, and a corrective action
is verified only when the corrected batches' rate is back at the fleet rate with enough exposure to tell."""

from __future__ import annotations

from datetime import date
from uuid import UUID, uuid4

import psycopg
import pytest

from brain.quality.alerts import flag_batches, raise_alerts, verify_corrective_actions
from models.access.tenancy import TenantScope
from models.db import Connection
from models.quality import issues
from models.quality.issues import IssueStatus, IssueStep
from models.quality.lives import BatchTotals
from models.queries import PageParams
from tests.support.fleet import Fleet
from tests.support.quality import AS_OF, QualityFleet, seed_brakes

ALL = TenantScope.internal()


def _totals(batch_id: UUID, failures: int, hours: float, *, supplier: UUID | None = None,
            produced_on: date | None = None) -> BatchTotals:  # fmt: skip
    return BatchTotals(batch_id=batch_id, component_type="brake", supplier_id=supplier or uuid4(), failures=failures,
                       exposure_hours=hours, current_units=10, produced_on=produced_on)  # fmt: skip


def test_two_bad_lots_of_a_type_are_both_flagged() -> None:
    bad = [_totals(uuid4(), 40, 100_000), _totals(uuid4(), 38, 100_000)]
    healthy = [_totals(uuid4(), 5, 100_000) for _ in range(4)]
    flagged = {f.batch_id for f in flag_batches(bad + healthy)}
    assert flagged == {b.batch_id for b in bad}


def test_a_lot_twice_as_bad_but_on_few_failures_is_not_flagged() -> None:
    assert flag_batches([_totals(uuid4(), 3, 100_000), *(_totals(uuid4(), 15, 1_000_000) for _ in range(5))]) == []


@pytest.fixture
def corrective_issue(conn: Connection, fleet: Fleet) -> tuple[QualityFleet, UUID]:
    """BAD's alert turned into an issue whose corrective action covers lots produced from 2024-02-01."""
    brakes = seed_brakes(conn, fleet)
    raise_alerts(conn, now=AS_OF)
    alert = conn.execute("SELECT id FROM quality_alerts").fetchone()
    assert alert is not None
    assert isinstance(alert["id"], UUID)
    issue = issues.open_issue(conn, tenant=ALL, alert_id=alert["id"], manufacturer_id=fleet.ids["manufacturer_a"],
                              title="BAD brakes", actor="test")  # fmt: skip
    for step, data in ((IssueStep.ACKNOWLEDGED, {}), (IssueStep.ROOT_CAUSE, {"analysis": "resin"})):
        issues.advance_issue(conn, tenant=ALL, issue_id=issue.id, step=step, data=data, actor="test")
    issues.advance_issue(conn, tenant=ALL, issue_id=issue.id, step=IssueStep.CORRECTIVE_ACTION, data={"change": "oven"},
                         actor="test", corrected_from=date(2024, 2, 1))  # fmt: skip
    conn.commit()
    return brakes, issue.id


def _field(brakes: QualityFleet, corrected_failures: int, corrected_hours: float) -> list[BatchTotals]:
    supplier = brakes.suppliers["BAD"]
    return [
        _totals(brakes.batches["BAD"], 3, 1_600, supplier=supplier, produced_on=date(2023, 6, 1)),
        _totals(uuid4(), corrected_failures, corrected_hours, supplier=supplier, produced_on=date(2024, 3, 1)),
        _totals(brakes.batches["GOOD"], 20, 100_000, produced_on=date(2023, 6, 1)),
    ]


def test_corrective_action_is_not_verified_while_corrected_lots_still_fail(
    conn: Connection, corrective_issue: tuple[QualityFleet, UUID]
) -> None:
    brakes, issue_id = corrective_issue
    assert verify_corrective_actions(conn, totals=_field(brakes, 2, 2_000)) == []  # too little exposure to tell
    assert verify_corrective_actions(conn, totals=_field(brakes, 60, 100_000)) == []  # still three times the fleet
    assert issues.get_issue(conn, tenant=ALL, issue_id=issue_id).status is IssueStatus.CORRECTIVE_ACTION


def test_corrective_action_is_verified_when_corrected_lots_are_back_at_fleet_rate(
    conn: Connection, corrective_issue: tuple[QualityFleet, UUID]
) -> None:
    brakes, issue_id = corrective_issue
    assert verify_corrective_actions(conn, totals=_field(brakes, 18, 100_000)) == [issue_id]
    assert issues.get_issue(conn, tenant=ALL, issue_id=issue_id).status is IssueStatus.VERIFIED
    records = issues.list_issue_records(conn, tenant=ALL, issue_id=issue_id, page=PageParams()).items
    assert (records[-1].step, records[-1].actor, records[-1].data["failures"]) == ("verified", "brain:quality", 18)


def test_issue_records_refuse_changes(conn: Connection, corrective_issue: tuple[QualityFleet, UUID]) -> None:
    with pytest.raises(psycopg.errors.RestrictViolation):
        conn.execute("DELETE FROM quality_issue_records WHERE issue_id = %(i)s", {"i": corrective_issue[1]})
