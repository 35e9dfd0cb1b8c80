"""A work order's audit history: every transition, assignment, acceptance or decline, reassignment, completion,
verification and reopening, with who (the principal's actor, or the brain), when (the server's time, and the
crew's own when it sent one) and why.

Appended in the same transaction as the change it describes, never changed; served with the work order's own
tenancy (whoever may see the order sees its history).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from enum import StrEnum
from typing import Any
from uuid import UUID

from psycopg import sql
from psycopg.types.json import Jsonb
from pydantic import BaseModel

from models.access.tenancy import TenantScope
from models.db import Connection
from models.errors import NotFound
from models.queries import Page, PageParams, fetch_page

__all__ = ["SYSTEM_ACTOR", "Action", "HistoryEntry", "record_history", "work_order_history"]

# Who acts when no person does: the brain's jobs and the platform's own processes.
SYSTEM_ACTOR = "brain"


class Action(StrEnum):
    """What happened to the work order (migration 0014 lists the same words)."""

    OPENED = "opened"
    DISPATCHED = "dispatched"
    REASSIGNED = "reassigned"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    UPDATED = "updated"
    COMPLETED = "completed"
    VERIFIED = "verified"
    REOPENED = "reopened"
    SLA_BREACHED = "sla_breached"


class HistoryEntry(BaseModel):
    """One change of a work order."""

    id: int
    work_order_id: UUID
    at: datetime
    client_at: datetime | None
    actor: str
    action: Action
    from_status: str | None
    to_status: str | None
    crew_id: UUID | None
    reason: str | None
    data: dict[str, Any]


_INSERT = (
    "INSERT INTO work_order_history (work_order_id, at, client_at, actor, action, from_status, to_status, crew_id,"
    " reason, data)"
    " SELECT n.id, coalesce(%(at)s::timestamptz, clock_timestamp()), %(client_at)s, %(actor)s, %(action)s,"
    " %(from_status)s, n.to_status, n.crew_id, n.reason, %(data)s"
    " FROM unnest(%(ids)s::uuid[], %(to_status)s::text[], %(crews)s::uuid[], %(reasons)s::text[])"
    " AS n(id, to_status, crew_id, reason)"
)


def record_history(
    conn: Connection,
    *,
    work_order_ids: Sequence[UUID],
    action: Action,
    actor: str,
    at: datetime | None = None,
    reason: str | Sequence[str] | None = None,
    from_status: str | None = None,
    to_status: str | Sequence[str | None] | None = None,
    crew_id: UUID | Sequence[UUID | None] | None = None,
    client_at: datetime | None = None,
    data: dict[str, Any] | None = None,
) -> None:
    """Append one entry per work order in one statement (the new status, crew and reason may be given per order);
    `at` None: the server's time."""
    n = len(work_order_ids)
    if n == 0:
        return
    statuses = [to_status] * n if to_status is None or isinstance(to_status, str) else list(to_status)
    crews = [crew_id] * n if crew_id is None or isinstance(crew_id, UUID) else list(crew_id)
    reasons = [reason] * n if reason is None or isinstance(reason, str) else list(reason)
    params = {
        "ids": list(work_order_ids),
        "to_status": statuses,
        "crews": crews,
        "at": at,
        "client_at": client_at,
        "actor": actor[:200],
        "action": str(action),
        "from_status": from_status,
        "reasons": [r[:2000] if r else None for r in reasons],
        "data": Jsonb(data or {}),
    }
    conn.execute(_INSERT, params)


def work_order_history(
    conn: Connection, *, tenant: TenantScope, work_order_id: UUID, page: PageParams
) -> Page[HistoryEntry]:
    """The history of a work order the tenant may see (else NotFound), oldest first."""
    visible = sql.SQL("SELECT 1 FROM work_orders WHERE id = %(id)s AND {}").format(
        tenant.work_orders_predicate("id", "maintainer_id")
    )
    if conn.execute(visible, {"id": work_order_id}).fetchone() is None:
        raise NotFound("no such work order")
    query = (
        "SELECT id, work_order_id, at, client_at, actor, action, from_status, to_status, crew_id, reason, data"
        " FROM work_order_history WHERE work_order_id = %(id)s ORDER BY id"
    )
    return fetch_page(conn, query, {"id": work_order_id}, model=HistoryEntry, page=page)
