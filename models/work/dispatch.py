"""Dispatch: give a work order to one of its maintainer's crews, by region first and then by current workload.

Every choice is written beside the work order (`dispatch`) with the candidates it weighed, so a person can see
why and override it.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from psycopg import sql
from psycopg.types.json import Jsonb

from models.db import Connection
from models.errors import NotFound
from models.tenancy import TenantScope, Visibility

__all__ = ["ACTIVE_STATUSES", "assign_crew", "dispatch_work_order", "rank_crews", "set_crew_region"]

# A crew's workload: the work orders it holds that are not finished yet.
ACTIVE_STATUSES = ("assigned", "in_progress")
RULE = "crews of the contract holder; same region as the unit first, then the fewest active work orders, then name"

_CANDIDATES = """
SELECT c.id AS crew_id, c.name, c.region, (c.region IS NOT DISTINCT FROM s.city) AS same_region,
       (SELECT count(*) FROM work_orders a WHERE a.crew_id = c.id AND a.status = ANY(%(active)s)) AS workload,
       EXISTS (SELECT 1 FROM work_order_declines d WHERE d.work_order_id = w.id AND d.crew_id = c.id) AS declined,
       s.city AS unit_region
FROM work_orders w
JOIN crews c ON c.maintainer_id = w.maintainer_id
JOIN units u ON u.id = w.unit_id
LEFT JOIN sites s ON s.id = u.site_id
WHERE w.id = %(id)s
ORDER BY declined, same_region DESC, workload, c.name, c.id
"""


def rank_crews(conn: Connection, *, work_order_id: UUID) -> list[dict[str, Any]]:
    """The maintainer's crews for a work order, best first, with what ranked them (crews that declined last)."""
    rows = conn.execute(_CANDIDATES, {"id": work_order_id, "active": list(ACTIVE_STATUSES)}).fetchall()
    return [dict(r) for r in rows]


def assign_crew(conn: Connection, *, work_order_id: UUID, crew_id: UUID | None, dispatch: dict[str, Any]) -> None:
    """Give the work order to `crew_id` (None: back to open, nobody holds it), recording why."""
    conn.execute(
        "UPDATE work_orders SET crew_id = %(crew)s, accepted_at = NULL, dispatch = %(dispatch)s,"
        " status = CASE WHEN %(crew)s::uuid IS NULL THEN 'open' ELSE 'assigned' END,"
        " version = version + 1, updated_at = clock_timestamp() WHERE id = %(id)s",
        {"id": work_order_id, "crew": crew_id, "dispatch": Jsonb(dispatch)},
    )


def dispatch_work_order(conn: Connection, *, work_order_id: UUID) -> UUID | None:
    """Assign the best crew that has not declined the work order; the chosen crew, or None when none is left."""
    ranked = rank_crews(conn, work_order_id=work_order_id)
    eligible = [c for c in ranked if not c["declined"]]
    chosen = eligible[0]["crew_id"] if eligible else None
    explanation = {
        "rule": RULE,
        "unit_region": ranked[0]["unit_region"] if ranked else None,
        "candidates": [
            {k: str(v) if isinstance(v, UUID) else v for k, v in c.items() if k != "unit_region"} for c in ranked
        ],
        "chosen": None if chosen is None else str(chosen),
        "reason": "no crew of the maintainer is left to take it" if chosen is None else "best ranked",
    }
    assign_crew(conn, work_order_id=work_order_id, crew_id=chosen, dispatch=explanation)
    return chosen if isinstance(chosen, UUID) else None


def set_crew_region(conn: Connection, *, scope: TenantScope, crew_id: UUID, region: str | None) -> None:
    """Say where a crew works (a site's city); a maintainer sets it for its own crews only (else NotFound)."""
    if scope.visibility not in (Visibility.ALL, Visibility.CONTRACT):
        raise NotFound("no such crew")
    query = sql.SQL("UPDATE crews SET region = %(r)s WHERE id = %(id)s AND {} RETURNING id").format(
        scope.maintainer_predicate("maintainer_id", "id")
    )
    if conn.execute(query, {"r": region, "id": crew_id}).fetchone() is None:
        raise NotFound("no such crew")
