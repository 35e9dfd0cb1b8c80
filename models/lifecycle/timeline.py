"""A unit's full timeline: lifecycle records, controller events, work orders, build changes and online/offline
status, merged into one ordered, paginated stream.

The timeline shows no more than the resources it merges: work orders only those the tenant may open, and
other organisations' lifecycle records with their private fields redacted (as `/records` does)."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from enum import StrEnum
from typing import Any

from psycopg import sql
from pydantic import BaseModel

from models.access.tenancy import TenantScope
from models.db import Connection
from models.lifecycle.ledger import redacted_columns
from models.queries import Page, PageParams, fetch_page
from models.registry.units import require_visible_unit

__all__ = ["TimelineEntry", "TimelineSource", "unit_timeline"]


class TimelineSource(StrEnum):
    """Where a timeline entry comes from."""

    LIFECYCLE = "lifecycle"
    EVENT = "event"
    WORK_ORDER = "work_order"
    BUILD = "build"
    STATUS = "status"


class TimelineEntry(BaseModel):
    """One thing that happened to the unit; `ref` identifies it within its source (seq, work order id...)."""

    time: datetime
    source: TimelineSource
    kind: str
    ref: str | None
    detail: dict[str, Any]


# Each branch yields named (time, source, kind, ref, detail) columns, since any branch may come first in the
# UNION, for unit %(u)s within {window} on its time column; {actor}, {data}, {work_order} are a record's columns
# as the tenant may read them, {work_orders_visible} the tenant's work order predicate.
_BRANCHES: dict[TimelineSource, tuple[str, str]] = {
    TimelineSource.LIFECYCLE: (
        "r.occurred_at",
        "SELECT r.occurred_at AS time, 'lifecycle' AS source, r.kind, r.seq::text AS ref,"
        " jsonb_build_object('actor', {actor}, 'data', {data}, 'work_order_id', {work_order}) AS detail"
        " FROM lifecycle_records r WHERE r.unit_id = %(u)s AND {window}",
    ),
    TimelineSource.EVENT: (
        "time",
        "SELECT time, 'event' AS source, code AS kind, NULL AS ref,"
        " jsonb_build_object('category', category, 'gb_code', gb_code, 'floor', floor, 'details', details) AS detail"
        " FROM events WHERE unit_id = %(u)s AND {window}",
    ),
    TimelineSource.WORK_ORDER: (
        "x.time",
        "SELECT x.time, 'work_order' AS source, x.kind, w.id::text AS ref,"
        " jsonb_build_object('title', w.title, 'kind', w.kind, 'status', w.status, 'crew_id', w.crew_id) AS detail"
        " FROM work_orders w CROSS JOIN LATERAL (VALUES (w.created_at, 'work_order_opened'),"
        " (w.completed_at, 'work_order_completed'), (w.verified_at, 'work_order_verified')) AS x (time, kind)"
        " WHERE w.unit_id = %(u)s AND x.time IS NOT NULL AND {work_orders_visible} AND {window}",
    ),
    TimelineSource.BUILD: (
        "x.time",
        "SELECT x.time, 'build' AS source, x.kind, uc.id::text AS ref,"
        " jsonb_build_object('position', uc.position, 'serial', c.serial, 'component_type', c.component_type)"
        " AS detail"
        " FROM unit_components uc JOIN components c ON c.id = uc.component_id"
        " CROSS JOIN LATERAL (VALUES (uc.installed_at, 'component_installed'),"
        " (uc.removed_at, 'component_removed')) AS x (time, kind)"
        " WHERE uc.unit_id = %(u)s AND x.time IS NOT NULL AND {window}",
    ),
    TimelineSource.STATUS: (
        "time",
        "SELECT time, 'status' AS source, state AS kind, NULL AS ref, '{{}}'::jsonb AS detail"
        " FROM unit_status_changes WHERE unit_id = %(u)s AND {window}",
    ),
}


def _window(column: str) -> sql.Composable:
    col = sql.Identifier(*column.split("."))
    return sql.SQL(
        "(%(since)s::timestamptz IS NULL OR {col} >= %(since)s)"
        " AND (%(until)s::timestamptz IS NULL OR {col} < %(until)s)"
    ).format(col=col)


def unit_timeline(
    conn: Connection,
    *,
    tenant: TenantScope,
    unit_id: str,
    page: PageParams,
    since: datetime | None = None,
    until: datetime | None = None,
    sources: Collection[TimelineSource] = tuple(TimelineSource),
) -> Page[TimelineEntry]:
    """Everything that happened to the unit in [since, until), oldest first, from the chosen sources."""
    require_visible_unit(conn, tenant=tenant, unit_id=unit_id)
    chosen = [source for source in TimelineSource if source in sources] or list(TimelineSource)
    actor, data, work_order = redacted_columns(tenant, "r")
    visible = tenant.work_orders_predicate("w.id", "w.maintainer_id")
    branches = [
        sql.SQL(_BRANCHES[s][1]).format(
            window=_window(_BRANCHES[s][0]), actor=actor, data=data, work_order=work_order, work_orders_visible=visible
        )
        for s in chosen
    ]
    query = sql.SQL("SELECT * FROM ({}) AS t ORDER BY time, source, ref, kind").format(
        sql.SQL(" UNION ALL ").join(branches)
    )
    params = {"u": unit_id, "since": since, "until": until}
    return fetch_page(conn, query, params, model=TimelineEntry, page=page)
