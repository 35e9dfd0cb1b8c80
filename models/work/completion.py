"""A crew's completion of a work order, with the parts it used: one transaction or nothing.

Each part used names its position on the unit, the serial taken out and the serial put in. Before anything is
written every part is checked: the removed serial must be the one in that position of this unit, the installed
one must exist, be of the same component type and sit in no unit. Then each swap writes its part replacement
(genealogy and `part_replacement` lifecycle record, under the still-open work order), a corrective order gets
its `repair` record, and the order goes to `done` with the crew's own time beside the server's and an entry in
its history. The idempotency key makes a phone's resend harmless: the same key answers the same completion and
writes nothing; another key, or a cancelled or already finished order, is a 409.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from psycopg import sql
from psycopg.types.json import Jsonb
from pydantic import BaseModel, ConfigDict, Field

from models.access.tenancy import TenantScope
from models.db import Connection
from models.errors import BadRequest, Conflict
from models.lifecycle.ledger import LifecycleKind, LifecycleRecord, append_record
from models.lifecycle.part_replacements import PartReplacement, replace_part
from models.types import LongText, Text, Timestamp
from models.work.history import Action, record_history
from models.work.orders import WorkOrderDetail, get_work_order_detail
from models.work.visits import MAX_CLIENT_CLOCK_AHEAD

__all__ = ["Completed", "PartSwap", "PartUsed", "WorkCompletion", "complete_work_order", "part_swaps"]

# A single repair swaps a handful of parts; this bounds a hostile body.
MAX_PARTS = 20
MAX_EVIDENCE = 20
# A crew completes work it has been given: from these statuses (open work would skip dispatch).
COMPLETABLE = ("assigned", "in_progress")


class PartUsed(BaseModel):
    """One part swap: the serial taken out of the position (None: the position was empty) and the one put in."""

    model_config = ConfigDict(extra="forbid")
    position: Text
    removed_serial: Text | None
    installed_serial: Text


class WorkCompletion(BaseModel):
    """A crew's completion; `completed_at` is its own clock, `idempotency_key` makes a resend harmless."""

    model_config = ConfigDict(extra="forbid")
    idempotency_key: Text
    completed_at: Timestamp | None = None
    note: LongText | None = None
    parts: list[PartUsed] = Field(default_factory=list, max_length=MAX_PARTS)
    evidence: list[Text] = Field(default_factory=list, max_length=MAX_EVIDENCE)


class Completed(BaseModel):
    """The completed work order and the lifecycle records its completion wrote."""

    work_order: WorkOrderDetail
    records: list[LifecycleRecord]


def _records(conn: Connection, tenant: TenantScope, order: WorkOrderDetail) -> Completed:
    query = sql.SQL(
        "SELECT id, unit_id, seq, kind, occurred_at, recorded_at, actor, data, work_order_id, prev_hash, hash"
        " FROM lifecycle_records WHERE work_order_id = %(id)s AND kind = ANY(%(kinds)s) AND {} ORDER BY seq"
    ).format(tenant.units_predicate("unit_id"))
    kinds = [str(LifecycleKind.PART_REPLACEMENT), str(LifecycleKind.REPAIR)]
    rows = conn.execute(query, {"id": order.id, "kinds": kinds}).fetchall()
    return Completed(work_order=order, records=[LifecycleRecord.model_validate(r) for r in rows])


def _check_parts(conn: Connection, unit_id: str, parts: list[PartUsed]) -> None:
    """BadRequest or Conflict for the first part that cannot be swapped as stated; nothing is written."""
    positions = [p.position for p in parts]
    installed = [p.installed_serial for p in parts]
    if len(set(positions)) < len(positions) or len(set(installed)) < len(installed):
        raise BadRequest("each position and each installed serial may appear once in a completion")
    for part in parts:
        row = conn.execute(
            "SELECT c.id, c.component_type,"
            " (SELECT uc.unit_id FROM unit_components uc WHERE uc.component_id = c.id AND uc.removed_at IS NULL)"
            "   AS installed_in,"
            " (SELECT r.serial FROM unit_components uc JOIN components r ON r.id = uc.component_id"
            "   WHERE uc.unit_id = %(u)s AND uc.position = %(p)s AND uc.removed_at IS NULL) AS current_serial,"
            " (SELECT r.component_type FROM unit_components uc JOIN components r ON r.id = uc.component_id"
            "   WHERE uc.unit_id = %(u)s AND uc.position = %(p)s AND uc.removed_at IS NULL) AS current_type"
            " FROM (SELECT 1) one LEFT JOIN components c ON c.serial = %(s)s",
            {"u": unit_id, "p": part.position, "s": part.installed_serial},
        ).fetchone()
        assert row is not None
        if row["id"] is None:
            raise BadRequest(f"no component with serial {part.installed_serial}: register it before installing it")
        if row["installed_in"] is not None:
            raise Conflict(f"component {part.installed_serial} is installed in unit {row['installed_in']}")
        if row["current_serial"] != part.removed_serial:
            where = f"position {part.position} of unit {unit_id}"
            now_there = row["current_serial"] or "nothing"
            raise Conflict(f"{part.removed_serial or 'an empty position'} is not in {where} ({now_there} is)")
        if row["current_type"] is not None and row["current_type"] != row["component_type"]:
            raise BadRequest(
                f"component {part.installed_serial} is a {row['component_type']}, position {part.position}"
                f" holds a {row['current_type']}"
            )


def complete_work_order(
    conn: Connection,
    *,
    tenant: TenantScope,
    work_order_id: UUID,
    completion: WorkCompletion,
    actor: str,
    now: datetime,
) -> Completed:
    """Complete the work order with the parts used (all written, or a 4xx and nothing); a resend with the same
    idempotency key answers the same completion."""
    order = get_work_order_detail(conn, tenant=tenant, work_order_id=work_order_id)
    locked = conn.execute(
        "SELECT status, completion_key FROM work_orders WHERE id = %(id)s FOR UPDATE", {"id": work_order_id}
    ).fetchone()
    assert locked is not None  # visible a moment ago, and work orders are never deleted
    if locked["completion_key"] is not None:
        if locked["completion_key"] == completion.idempotency_key:
            return _records(conn, tenant, get_work_order_detail(conn, tenant=tenant, work_order_id=work_order_id))
        raise Conflict("this work order was already completed (another idempotency key)")
    status = str(locked["status"])
    if status == "cancelled":
        raise Conflict("this work order was cancelled")
    if status not in COMPLETABLE:
        raise Conflict(f"a work order that is {status} cannot be completed")
    completed_at = completion.completed_at or now
    if completed_at > now + MAX_CLIENT_CLOCK_AHEAD:
        raise BadRequest("completed_at is in the future")
    if completed_at < order.created_at:
        raise BadRequest("completed_at is before the work order was opened")
    _check_parts(conn, order.unit_id, completion.parts)
    swaps: list[dict[str, Any]] = []
    for part in completion.parts:
        replacement = PartReplacement(position=part.position, installed_serial=part.installed_serial,
                                      occurred_at=completed_at, work_order_id=work_order_id,
                                      reason=f"work order {work_order_id}: {order.title}")  # fmt: skip
        record = replace_part(conn, tenant=tenant, unit_id=order.unit_id, replacement=replacement, actor=actor)
        swaps.append({**part.model_dump(), "record_seq": record.seq})
    report = {"note": completion.note, "parts": swaps, "evidence": completion.evidence}
    if order.kind == "corrective":
        append_record(conn, tenant=tenant, unit_id=order.unit_id, kind=LifecycleKind.REPAIR, occurred_at=completed_at,
                      data={"work_order_id": str(work_order_id), "title": order.title, **report}, actor=actor,
                      work_order_id=work_order_id)  # fmt: skip
    conn.execute(
        "UPDATE work_orders SET status = 'done', completed_at = %(at)s, completion_key = %(key)s,"
        " completion_recorded_at = %(now)s, completion = %(report)s, version = version + 1,"
        " updated_at = clock_timestamp() WHERE id = %(id)s",
        {"at": completed_at, "key": completion.idempotency_key, "now": now, "report": Jsonb(report),
         "id": work_order_id},
    )  # fmt: skip
    record_history(conn, work_order_ids=[work_order_id], action=Action.COMPLETED, actor=actor, at=now,
                   client_at=completion.completed_at, from_status=status, to_status="done", crew_id=order.crew_id,
                   reason=completion.note, data=report)  # fmt: skip
    return _records(conn, tenant, get_work_order_detail(conn, tenant=tenant, work_order_id=work_order_id))


class PartSwap(BaseModel):
    """A part put in by a completed work order: which unit, which component type, when (the crew's time)."""

    work_order_id: UUID
    unit_id: str
    position: str
    component_type: str
    at: datetime


def part_swaps(conn: Connection, *, after: datetime, until: datetime) -> list[PartSwap]:
    """Parts installed by work orders completed in (after, until], by completion time (the simulator follows them)."""
    rows = conn.execute(
        "SELECT w.id AS work_order_id, w.unit_id, p ->> 'position' AS position, c.component_type,"
        " w.completed_at AS at"
        " FROM work_orders w CROSS JOIN LATERAL jsonb_array_elements(w.completion -> 'parts') AS p"
        " JOIN components c ON c.serial = p ->> 'installed_serial'"
        " WHERE w.completion IS NOT NULL AND w.completed_at > %(after)s AND w.completed_at <= %(until)s"
        " ORDER BY w.completed_at, w.id",
        {"after": after, "until": until},
    ).fetchall()
    return [PartSwap.model_validate(row) for row in rows]
