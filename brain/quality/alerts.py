"""Batch alerts and the field verification of corrective actions, both a Poisson test against the fleet rate.

A batch is flagged when it has at least MIN_FAILURES field failures, its rate is at least MIN_RATE_RATIO times
the rest of its component type's, and the chance of that many failures at the fleet rate is below
FAMILY_ALPHA shared among every batch tested (Bonferroni: the job tests the whole catalogue at every pass).
"""

from __future__ import annotations

import logging
from collections import defaultdict
from datetime import datetime
from uuid import UUID

from brain.quality.stats import excess_p_value
from models.db import Connection
from models.quality.alerts import AlertFigures, raise_alert
from models.quality.issues import issues_awaiting_verification, record_verification
from models.quality.lives import BatchTotals, batch_totals

__all__ = ["flag_batches", "raise_alerts", "verify_corrective_actions"]

log = logging.getLogger(__name__)

# The issue's goal is a flag soon after a batch's third field failure; fewer is indistinguishable from bad luck.
MIN_FAILURES = 3
# Twice the fleet rate: a smaller excess on a large batch is significant but not worth a recall letter.
MIN_RATE_RATIO = 2.0
# Chance per pass of flagging any healthy batch at all, shared among the batches tested.
FAMILY_ALPHA = 0.01
# Rounds of leaving flagged batches out of the reference; the set settles in two or three.
MAX_ROUNDS = 5
# A type with no other failures yet has a fleet rate of zero; count half a failure so one bad draw is not a flag.
ZERO_FLOOR_FAILURES = 0.5
# Field verification needs enough corrected exposure that the fleet rate predicts this many failures...
MIN_EXPECTED_FAILURES = 3.0
# ...and a corrected rate not significantly above the fleet's at this level.
VERIFY_ALPHA = 0.05
ACTOR = "brain:quality"
PER_MILLION = 1e6


def _type_totals(totals: list[BatchTotals]) -> dict[str, tuple[int, float]]:
    by_type: dict[str, tuple[int, float]] = defaultdict(lambda: (0, 0.0))
    for batch in totals:
        failures, exposure = by_type[batch.component_type]
        by_type[batch.component_type] = (failures + batch.failures, exposure + batch.exposure_hours)
    return by_type


def _reference_rate(failures: int, exposure: float) -> float:
    """Failures per hour of a reference group, with the zero floor."""
    return max(failures, ZERO_FLOOR_FAILURES) / exposure


def _test(batch: BatchTotals, fleet_failures: int, fleet_exposure: float, alpha: float) -> AlertFigures | None:
    """The batch's alert figures when it is significantly worse than the fleet given, else None."""
    if batch.failures < MIN_FAILURES or fleet_exposure <= 0:
        return None
    fleet_rate = _reference_rate(fleet_failures, fleet_exposure)
    rate = batch.failures / batch.exposure_hours
    p_value = excess_p_value(batch.failures, fleet_rate * batch.exposure_hours)
    if rate < MIN_RATE_RATIO * fleet_rate or p_value >= alpha:
        return None
    return AlertFigures(
        batch_id=batch.batch_id, failures=batch.failures, exposure_hours=batch.exposure_hours,
        rate_per_mh=rate * PER_MILLION, fleet_rate_per_mh=fleet_rate * PER_MILLION, rate_ratio=rate / fleet_rate,
        p_value=p_value, affected_units=batch.current_units,
    )  # fmt: skip


def flag_batches(totals: list[BatchTotals]) -> list[AlertFigures]:
    """The batches significantly worse than the rest of their component type.

    The reference leaves out the batches flagged in the previous round, so that two bad lots of one type do not
    hide each other by raising the fleet rate; rounds repeat until the flagged set settles.
    """
    tested = [batch for batch in totals if batch.exposure_hours > 0]
    alpha = FAMILY_ALPHA / max(len(tested), 1)
    excluded: set[UUID] = set()
    flagged: dict[UUID, AlertFigures] = {}
    for _ in range(MAX_ROUNDS):
        by_type = _type_totals([b for b in tested if b.batch_id not in excluded])
        flagged = {}
        for batch in tested:
            fleet_failures, fleet_exposure = by_type[batch.component_type]
            if batch.batch_id not in excluded:
                fleet_failures, fleet_exposure = fleet_failures - batch.failures, fleet_exposure - batch.exposure_hours
            figures = _test(batch, fleet_failures, fleet_exposure, alpha)
            if figures is not None:
                flagged[batch.batch_id] = figures
        if set(flagged) == excluded:
            break
        excluded = set(flagged)
    return list(flagged.values())


def raise_alerts(conn: Connection, *, now: datetime) -> list[UUID]:
    """Test every batch as of `now`, store or refresh its alert; the batches newly flagged."""
    totals = batch_totals(conn, as_of=now)
    new = [figures.batch_id for figures in flag_batches(totals) if raise_alert(conn, figures=figures, now=now)]
    if new:
        log.info("quality alert raised for %d batch(es): %s", len(new), ", ".join(map(str, new)))
    verify_corrective_actions(conn, totals=totals)
    return new


def verify_corrective_actions(conn: Connection, *, totals: list[BatchTotals]) -> list[UUID]:
    """Record `verified` on issues whose corrected batches' rate is back at the fleet rate; their ids."""
    by_type = _type_totals(totals)
    verified = []
    for issue in issues_awaiting_verification(conn):
        bad = next((b for b in totals if b.batch_id == issue.batch_id), None)
        if bad is None or issue.corrected_from is None:
            continue
        corrected = [
            b for b in totals
            if b.supplier_id == issue.supplier_id and b.component_type == bad.component_type
            and b.produced_on is not None and b.produced_on >= issue.corrected_from
        ]  # fmt: skip
        failures = sum(b.failures for b in corrected)
        exposure = sum(b.exposure_hours for b in corrected)
        type_failures, type_exposure = by_type[bad.component_type]
        rest_exposure = type_exposure - exposure - bad.exposure_hours
        if rest_exposure <= 0:
            continue
        fleet_rate = _reference_rate(type_failures - failures - bad.failures, rest_exposure)
        expected = fleet_rate * exposure
        p_value = excess_p_value(failures, expected)
        if expected < MIN_EXPECTED_FAILURES or p_value < VERIFY_ALPHA:
            continue
        data = {
            "corrected_batches": len(corrected), "failures": failures, "exposure_hours": round(exposure, 1),
            "rate_per_mh": round(failures / exposure * PER_MILLION, 3),
            "fleet_rate_per_mh": round(fleet_rate * PER_MILLION, 3), "p_value": round(p_value, 4),
        }  # fmt: skip
        record_verification(conn, issue_id=issue.id, data=data, actor=ACTOR)
        verified.append(issue.id)
    return verified
