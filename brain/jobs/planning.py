"""Maintenance planning: plans for new units, on-demand interval decisions, due visits with their work orders,
and SLA breaches.

Each pass is idempotent: a unit's open visit absorbs what is already covered and a visit's work order is keyed
by the visit, so running it twice opens nothing twice. Units are isolated (`brain.units.for_each_unit`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from brain.units import for_each_batch
from models.db import Connection
from models.work.intervals import apply_changes, review_intervals
from models.work.orders import flag_sla_breaches
from models.work.schedules import assign_default_plans
from models.work.visits import open_due_visits, units_needing_visits

__all__ = ["LEAD", "PlanningReport", "plan", "run"]

log = logging.getLogger(__name__)

# Open a visit (and its work order) this long before its due date, so dispatch and crews can plan the route.
LEAD = timedelta(days=3)
# Units per set-based statement: large enough that round trips stop mattering, small enough that a failing batch
# redone unit by unit stays cheap.
BATCH = 500


@dataclass
class PlanningReport:
    """What one planning pass did."""

    plans_assigned: int = 0
    intervals_changed: int = 0
    visits_opened: int = 0
    waiting_for_contract: int = 0
    sla_breaches: int = 0
    failed_units: dict[str, str] = field(default_factory=dict)


def plan(conn: Connection, *, now: datetime, ceiling_days: int, lead: timedelta = LEAD) -> PlanningReport:
    """One planning pass as of `now`; writes through `conn` and never commits."""
    report = PlanningReport(plans_assigned=assign_default_plans(conn, starts_on=now.date()))
    changes = {c.unit_id: c for c in review_intervals(conn, now=now, ceiling_days=ceiling_days)}

    def change(c: Connection, unit_ids: list[str]) -> None:
        apply_changes(c, changes=[changes[u] for u in unit_ids], now=now)

    changed = for_each_batch(conn, list(changes), change, job="planning", size=BATCH)
    report.intervals_changed = len(changed.done)
    through = now.date() + lead
    due, report.waiting_for_contract = units_needing_visits(conn, through=through)
    opened: list[str] = []

    def open_visits(c: Connection, unit_ids: list[str]) -> None:
        opened.extend(v.unit_id for v in open_due_visits(c, unit_ids=unit_ids, through=through, now=now))

    visits = for_each_batch(conn, due, open_visits, job="planning", size=BATCH)
    report.visits_opened = len(opened)
    report.failed_units = {**changed.failed, **visits.failed}
    report.sla_breaches = flag_sla_breaches(conn, now=now)
    return report


def run(conn: Connection, *, now: datetime, ceiling_days: int) -> None:
    """The scheduled pass: plan, then log what changed."""
    report = plan(conn, now=now, ceiling_days=ceiling_days)
    log.info(
        "planning: %d plan(s) assigned, %d interval(s) changed, %d visit(s) opened, %d SLA breach(es),"
        " %d unit(s) due without a contract, %d unit(s) failed",
        report.plans_assigned, report.intervals_changed, report.visits_opened, report.sla_breaches,
        report.waiting_for_contract, len(report.failed_units),
    )  # fmt: skip
