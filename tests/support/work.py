"""Helpers for the maintenance tests: full checklists and completed visits."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Any

from models.access.tenancy import TenantScope
from models.db import Connection
from models.work.checklists import ItemResult, Outcome, VisitCompletion
from models.work.plans import Judged, PlanItem, load_plan
from models.work.visits import Visit, complete_visit, open_due_visits


def passing(item: PlanItem) -> dict[str, Any]:
    """A result that passes `item` (a value inside its limits where it is measured; evidence where required)."""
    result: dict[str, Any] = {"item": item.code}
    if item.judged is Judged.QUALITATIVE:
        result["outcome"] = "pass"
    else:
        result["value"] = item.min if item.min is not None else (item.max or 1.0) / 2
        result["unit"] = item.unit
        if item.judged is Judged.MANUFACTURER_LIMIT:
            result["outcome"] = "pass"
    if item.evidence_required:
        result["evidence"] = ["photo:test-report.jpg"]
    return result


def checklist(visit: Visit, **replace: dict[str, Any]) -> list[dict[str, Any]]:
    """Every item of the visit passing, except those given in `replace` (by item code with dots as underscores)."""
    items = load_plan(visit.plan_code).items_for(visit.intervals)
    return [replace.get(code.replace(".", "_"), passing(item)) for code, item in items.items()]


def at(day: date, hour: int = 9) -> datetime:
    """`day` at `hour` UTC."""
    return datetime.combine(day, time(hour), tzinfo=UTC)


def open_due_visit(conn: Connection, *, unit_id: str, through: date, now: datetime) -> Visit | None:
    """The one unit's visit opened or extended by `open_due_visits`, or None when nothing new was due."""
    visits = open_due_visits(conn, unit_ids=[unit_id], through=through, now=now)
    assert len(visits) <= 1
    return visits[0] if visits else None


def clean_visit(conn: Connection, *, unit_id: str, day: date) -> Visit:
    """Open the unit's visit due by `day` and complete it on `day` with every item passing."""
    visit = open_due_visit(conn, unit_id=unit_id, through=day, now=at(day, 8))
    assert visit is not None
    results = [ItemResult.model_validate(r) for r in checklist(visit)]
    done = complete_visit(
        conn, tenant=TenantScope.internal(), visit_id=visit.id, completion=VisitCompletion(results=results),
        actor="test", now=at(day),
    )  # fmt: skip
    assert all(r.outcome is Outcome.PASS for r in done.results)
    return visit
