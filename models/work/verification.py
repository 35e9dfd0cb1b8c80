"""Verification from telemetry: did the repair of an alarm's work order hold?

A completed corrective work order opened for an alarm is watched from its completion. The fault recurs when an
alarm of the same unit, type and component is seen again after the repair: for an event's alarm any sighting
after the completion, for a detector's `degradation` alarm a sighting judged only on days after it (the detector
judges the last few complete days, so it keeps seeing the worn part for that long: `judged_after`). Without a
recurrence for the whole window, and for a degradation with the component's health judged back at baseline on
post-repair days, the order is `verified`; a recurrence sends it back to `in_progress` for its crew with the
evidence, a new due time by its urgency and a history entry. Each pass is idempotent: it only looks at orders
still `done`, and moves each one once.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from psycopg.types.json import Jsonb
from pydantic import BaseModel

from models.db import Connection
from models.work.history import SYSTEM_ACTOR, Action, record_history
from models.work.orders import SLA, Urgency

__all__ = ["DEGRADATION", "Recurrence", "Watched", "awaiting_verification", "judge", "reopen", "verify"]

# The detector's alarm type: its sightings lag the repair by the days it judges together.
DEGRADATION = "degradation"
# A pass looks at this many orders; a backlog drains over a few passes.
MAX_PER_PASS = 1000

_AWAITING = """
SELECT w.id AS work_order_id, w.unit_id, w.crew_id, w.completed_at, w.urgency, a.id AS alarm_id, a.alarm_type,
       a.component_type, a.severity
FROM work_orders w JOIN alarms a ON a.id::text = w.source_ref
WHERE w.status = 'done' AND w.kind = 'corrective' AND w.source = 'alarm' AND w.completed_at IS NOT NULL
ORDER BY w.completed_at, w.id LIMIT %(limit)s
"""


class Watched(BaseModel):
    """A completed corrective work order awaiting verification, with the alarm it answered."""

    work_order_id: UUID
    unit_id: str
    crew_id: UUID | None
    completed_at: datetime
    urgency: Urgency
    alarm_id: UUID
    alarm_type: str
    component_type: str | None
    severity: str


class Recurrence(BaseModel):
    """The alarm that came back after the repair."""

    id: UUID
    state: str
    severity: str
    last_seen: datetime
    count: int


class Health(BaseModel):
    """A component's health score at a time."""

    at: datetime
    score: float


def awaiting_verification(conn: Connection, *, limit: int = MAX_PER_PASS) -> list[Watched]:
    """Completed corrective work orders of alarms that are neither verified nor reopened yet, oldest first."""
    return [Watched.model_validate(row) for row in conn.execute(_AWAITING, {"limit": limit}).fetchall()]


def _recurrence(conn: Connection, order: Watched, after: datetime) -> Recurrence | None:
    row = conn.execute(
        "SELECT id, state, severity, last_seen, count FROM alarms WHERE unit_id = %(u)s AND alarm_type = %(t)s"
        " AND coalesce(component_type, '') = coalesce(%(c)s, '') AND last_seen > %(after)s"
        " ORDER BY last_seen DESC LIMIT 1",
        {"u": order.unit_id, "t": order.alarm_type, "c": order.component_type, "after": after},
    ).fetchone()
    return None if row is None else Recurrence.model_validate(row)


def _health_since(conn: Connection, order: Watched, since: datetime) -> Health | None:
    row = conn.execute(
        "SELECT at, score FROM health_scores WHERE unit_id = %(u)s AND component_type = %(c)s AND at >= %(since)s"
        " AND score IS NOT NULL ORDER BY at DESC LIMIT 1",
        {"u": order.unit_id, "c": order.component_type, "since": since},
    ).fetchone()
    return None if row is None else Health.model_validate(row)


def judge(
    conn: Connection, *, order: Watched, now: datetime, window: timedelta, judged_after: timedelta, baseline: float
) -> tuple[str, dict[str, Any], Recurrence | None]:
    """'verified', 'reopen' or 'wait' for the order as of `now`, with the evidence and the recurring alarm.

    `judged_after`: how long after the repair a degradation sighting stands on post-repair days only;
    `baseline`: the component health score that counts as back to baseline."""
    degradation = order.alarm_type == DEGRADATION
    after = order.completed_at + (judged_after if degradation else timedelta(0))
    evidence: dict[str, Any] = {"alarm_id": str(order.alarm_id), "alarm_type": order.alarm_type,
                                "component": order.component_type, "repaired_at": order.completed_at.isoformat(),
                                "window_days": window / timedelta(days=1)}  # fmt: skip
    recurred = _recurrence(conn, order, after)
    if recurred is not None:
        evidence["recurred"] = {"alarm_id": str(recurred.id), "state": recurred.state,
                                "last_seen": recurred.last_seen.isoformat(), "count": recurred.count}  # fmt: skip
        return "reopen", evidence, recurred
    if now < order.completed_at + window:
        return "wait", evidence, None
    if degradation:
        health = _health_since(conn, order, after)
        if health is None or health.score < baseline:
            return "wait", evidence, None
        evidence["health"] = {"at": health.at.isoformat(), "score": health.score, "baseline": baseline}
    return "verified", evidence, None


def verify(conn: Connection, *, order: Watched, at: datetime, evidence: dict[str, Any]) -> bool:
    """Mark the order verified with its evidence (False: it moved on meanwhile)."""
    verification = {"outcome": "verified", **evidence}
    row = conn.execute(
        "UPDATE work_orders SET status = 'verified', verified_at = %(at)s, verification = %(v)s,"
        " version = version + 1, updated_at = clock_timestamp() WHERE id = %(id)s AND status = 'done' RETURNING id",
        {"at": at, "v": Jsonb(verification), "id": order.work_order_id},
    ).fetchone()
    if row is None:
        return False
    record_history(conn, work_order_ids=[order.work_order_id], action=Action.VERIFIED, actor=SYSTEM_ACTOR, at=at,
                   from_status="done", to_status="verified", crew_id=order.crew_id,
                   reason="the fault did not recur after the repair", data=verification)  # fmt: skip
    return True


def reopen(conn: Connection, *, order: Watched, at: datetime, evidence: dict[str, Any]) -> bool:
    """Send the order back to its crew (in progress, due again by its urgency) with the evidence; False: moved on."""
    within = SLA[order.urgency].within
    due_at = at + within if within is not None else None
    verification = {"outcome": "reopened", **evidence}
    row = conn.execute(
        "UPDATE work_orders SET status = 'in_progress', verification = %(v)s, completion_key = NULL,"
        " completion = NULL, completion_recorded_at = NULL, reopened_count = reopened_count + 1,"
        " due_at = coalesce(%(due)s, due_at), sla_breached_at = NULL, version = version + 1,"
        " updated_at = clock_timestamp() WHERE id = %(id)s AND status = 'done' RETURNING id",
        {"v": Jsonb(verification), "due": due_at, "id": order.work_order_id},
    ).fetchone()
    if row is None:
        return False
    record_history(conn, work_order_ids=[order.work_order_id], action=Action.REOPENED, actor=SYSTEM_ACTOR, at=at,
                   from_status="done", to_status="in_progress", crew_id=order.crew_id,
                   reason=f"{order.alarm_type} recurred after the repair", data=verification)  # fmt: skip
    return True
