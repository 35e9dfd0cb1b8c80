"""Verify repairs from telemetry: each completed alarm work order is verified once its fault stayed away (and
a worn component is judged back at baseline), or reopened with the evidence when the fault came back.

A recurring alarm that has been cleared meanwhile is raised again, so the reopened order has an active alarm
beside it (models.work.alarm_orders sends no second crew for it). Orders are isolated (`brain.units`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from brain.detection.baselines import RECENT_DAYS
from brain.detection.health import CLOSE_THRESHOLD, OPEN_THRESHOLD
from brain.units import for_each_unit
from models.db import Connection
from models.monitoring.alarm_policies import Severity
from models.monitoring.alarms import raise_alarm
from models.work.verification import Watched, awaiting_verification, judge, reopen, verify

__all__ = ["BASELINE_HEALTH", "JUDGED_AFTER", "SOURCE", "VerificationReport", "run", "verify_repairs"]

log = logging.getLogger(__name__)

SOURCE = "verification"
# The detector judges the last RECENT_DAYS complete days: only after that long are its sightings of a worn part
# made on post-repair days (plus the day boundary it works on).
JUDGED_AFTER = timedelta(days=RECENT_DAYS + 1)
# A component is back at baseline at the health score a finding closes at (deviation below CLOSE_THRESHOLD;
# brain.detection.health scores 100 at no deviation and 0 at twice OPEN_THRESHOLD).
BASELINE_HEALTH = 100.0 * (1.0 - CLOSE_THRESHOLD / (2 * OPEN_THRESHOLD))


@dataclass
class VerificationReport:
    """What one pass did."""

    watched: int = 0
    verified: int = 0
    reopened: int = 0
    alarms_raised: int = 0
    failed: int = 0


def _apply(conn: Connection, order: Watched, *, now: datetime, window: timedelta, report: VerificationReport) -> None:
    outcome, evidence, recurred = judge(
        conn, order=order, now=now, window=window, judged_after=JUDGED_AFTER, baseline=BASELINE_HEALTH
    )
    if outcome == "verified":
        report.verified += verify(conn, order=order, at=now, evidence=evidence)
    elif outcome == "reopen" and reopen(conn, order=order, at=now, evidence=evidence):
        report.reopened += 1
        if recurred is not None and recurred.state == "cleared":
            reason = f"{order.alarm_type} recurred after the repair of work order {order.work_order_id}"
            raise_alarm(conn, unit_id=order.unit_id, alarm_type=order.alarm_type, severity=Severity(order.severity),
                        component_type=order.component_type, source=SOURCE, reason=reason, evidence=evidence,
                        at=now)  # fmt: skip
            report.alarms_raised += 1


def verify_repairs(conn: Connection, *, now: datetime, window: timedelta) -> VerificationReport:
    """One pass over the completed alarm work orders as of `now`; writes through `conn` and never commits."""
    watched = {str(order.work_order_id): order for order in awaiting_verification(conn)}
    report = VerificationReport(watched=len(watched))

    def apply(c: Connection, key: str) -> None:
        _apply(c, watched[key], now=now, window=window, report=report)

    report.failed = len(for_each_unit(conn, list(watched), apply, job=SOURCE).failed)
    return report


def run(conn: Connection, *, now: datetime, window: timedelta) -> None:
    """The scheduled pass: verify or reopen, then log what changed."""
    report = verify_repairs(conn, now=now, window=window)
    if report.verified or report.reopened or report.failed:
        log.info(
            "verification: %d watched, %d verified, %d reopened (%d alarm(s) raised again), %d failed",
            report.watched, report.verified, report.reopened, report.alarms_raised, report.failed,
        )  # fmt: skip
