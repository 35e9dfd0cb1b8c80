"""Dispatch: give work orders to their maintainer's crews, by region first and then by current workload.

The rule, for each work order: the crews of its maintainer that have not declined it; those of the unit's region
(a site's city) if there are any, else all of them; the least loaded first (active work orders), then by name.
Only the crews in the running are listed as candidates (declined ones last, to show who said no).
Several work orders of one region dispatched together go round that list in turn, so a burst of due visits is
spread over the region's crews instead of piling onto the least loaded one. Every choice is written beside the
work order (`dispatch`) with the best candidates it weighed, so a person can see why and override it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from psycopg import sql
from psycopg.types.json import Jsonb

from models.access.tenancy import TenantScope, Visibility
from models.db import Connection
from models.errors import NotFound
from models.work.history import SYSTEM_ACTOR, Action, record_history

__all__ = ["RULE", "assign_crew", "dispatch_work_orders", "set_crew_region"]

# A crew's workload: the work orders it holds that are not finished yet (the partial index
# work_orders_crew_active_idx of migration 0011 names the same statuses, so they stay literal in the query).
ACTIVE = sql.SQL("('assigned', 'in_progress')")
RULE = (
    "crews of the contract holder that have not declined; those of the unit's region if any, else all;"
    " fewest active work orders, then name; a burst in one region goes round its crews in turn"
)
# The explanation keeps the best few candidates: enough to see why, bounded for maintainers with many crews.
EXPLAINED_CANDIDATES = 5

_DISPATCH = sql.SQL("""
WITH orders AS (
    SELECT w.id, w.maintainer_id, s.city AS region,
           row_number() OVER (PARTITION BY w.maintainer_id, s.city ORDER BY w.due_at NULLS LAST, w.id) - 1 AS turn,
           EXISTS (SELECT 1 FROM crews c WHERE c.maintainer_id = w.maintainer_id AND c.region = s.city
                   AND NOT EXISTS (SELECT 1 FROM work_order_declines d WHERE d.work_order_id = w.id
                                   AND d.crew_id = c.id)) AS regional
    FROM work_orders w JOIN units u ON u.id = w.unit_id LEFT JOIN sites s ON s.id = u.site_id
    WHERE w.id = ANY(%(ids)s)
), load AS MATERIALIZED (  -- once per crew, not once per (order, crew)
    SELECT c.id, c.maintainer_id, c.name, c.region,
           (SELECT count(*) FROM work_orders a WHERE a.crew_id = c.id AND a.status IN {}) AS workload
    FROM crews c WHERE c.maintainer_id IN (SELECT maintainer_id FROM orders)
), candidates AS (
    SELECT o.id AS order_id, o.turn, l.id AS crew_id, l.name, l.region, l.workload,
           l.region IS NOT DISTINCT FROM o.region AS same_region,
           EXISTS (SELECT 1 FROM work_order_declines d WHERE d.work_order_id = o.id AND d.crew_id = l.id) AS declined
    FROM orders o JOIN load l ON l.maintainer_id = o.maintainer_id
    -- with a crew of its own region still available, the others are not in the running
    WHERE NOT o.regional OR l.region IS NOT DISTINCT FROM o.region
), ranked AS (
    SELECT c.*, row_number() OVER (PARTITION BY order_id ORDER BY declined, same_region DESC, workload, name, crew_id)
               AS rank,
           coalesce(nullif(count(*) FILTER (WHERE NOT declined AND same_region) OVER (PARTITION BY order_id), 0),
                    count(*) FILTER (WHERE NOT declined) OVER (PARTITION BY order_id)) AS tier
    FROM candidates c
), explained AS (
    SELECT order_id, jsonb_agg(jsonb_build_object('crew_id', crew_id, 'name', name, 'region', region,
                               'workload', workload, 'same_region', same_region, 'declined', declined) ORDER BY rank)
               AS candidates
    FROM ranked WHERE rank <= %(explained)s GROUP BY order_id
), decided AS (
    SELECT o.id, o.region, r.crew_id AS chosen, coalesce(e.candidates, '[]') AS candidates
    FROM orders o
    LEFT JOIN ranked r ON r.order_id = o.id AND r.tier > 0 AND r.rank = o.turn %% r.tier + 1
    LEFT JOIN explained e ON e.order_id = o.id
)
UPDATE work_orders w SET crew_id = d.chosen, accepted_at = NULL,
       status = CASE WHEN d.chosen IS NULL THEN 'open' ELSE 'assigned' END,
       dispatch = jsonb_build_object('rule', %(rule)s::text, 'unit_region', d.region, 'candidates', d.candidates,
                                     'chosen', d.chosen,
                                     'reason', CASE WHEN d.chosen IS NULL THEN 'no crew of the maintainer is left'
                                                    ELSE 'best ranked in its turn' END),
       version = w.version + 1, updated_at = clock_timestamp()
FROM decided d WHERE w.id = d.id
RETURNING w.id, w.crew_id, w.status
""").format(ACTIVE)


def dispatch_work_orders(
    conn: Connection, *, work_order_ids: list[UUID], at: datetime | None = None
) -> dict[UUID, UUID | None]:
    """Assign each work order to a crew by the rule above; the chosen crew per work order (None: nobody left).

    Each choice goes into the order's history at `at` (None: the server's time)."""
    params = {"ids": work_order_ids, "rule": RULE, "explained": EXPLAINED_CANDIDATES}
    rows = conn.execute(_DISPATCH, params).fetchall()
    chosen = {
        r["id"]: r["crew_id"] for r in rows if isinstance(r["id"], UUID) and isinstance(r["crew_id"], UUID | None)
    }
    statuses = [str(r["status"]) for r in rows if r["id"] in chosen]
    record_history(conn, work_order_ids=list(chosen), action=Action.DISPATCHED, actor=SYSTEM_ACTOR, at=at,
                   to_status=statuses, crew_id=list(chosen.values()), reason=RULE)  # fmt: skip
    return chosen


def assign_crew(conn: Connection, *, work_order_id: UUID, crew_id: UUID, dispatch: dict[str, Any]) -> None:
    """Give the work order to `crew_id` by a person's decision, recording why."""
    conn.execute(
        "UPDATE work_orders SET crew_id = %(crew)s, accepted_at = NULL, dispatch = %(dispatch)s, status = 'assigned',"
        " version = version + 1, updated_at = clock_timestamp() WHERE id = %(id)s",
        {"id": work_order_id, "crew": crew_id, "dispatch": Jsonb(dispatch)},
    )


def set_crew_region(conn: Connection, *, tenant: TenantScope, crew_id: UUID, region: str | None) -> None:
    """Say where a crew works (a site's city); a maintainer sets it for its own crews only (else NotFound)."""
    if tenant.visibility not in (Visibility.ALL, Visibility.CONTRACT):
        raise NotFound("no such crew")
    query = sql.SQL("UPDATE crews SET region = %(r)s WHERE id = %(id)s AND {} RETURNING id").format(
        tenant.maintainer_predicate("maintainer_id", "id")
    )
    if conn.execute(query, {"r": region, "id": crew_id}).fetchone() is None:
        raise NotFound("no such crew")
