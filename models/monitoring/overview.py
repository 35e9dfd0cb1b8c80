"""What screens show of monitoring at a glance: active alarms counted by severity (per unit and over the fleet),
and the latest health score of each component of a unit. Aggregated in SQL: a page of a 10,000-unit fleet
costs one query, never a row per alarm in Python."""

from __future__ import annotations

from collections.abc import Sequence

from psycopg import sql
from pydantic import BaseModel

from models.access.tenancy import TenantScope
from models.db import Connection
from models.monitoring.health import UNIT_COMPONENT, HealthScore

__all__ = ["SeverityCounts", "active_alarm_totals", "active_alarms_by_unit", "current_health"]

# Active = not cleared and not suppressed: what someone should act on (a suppressed alarm is kept, not shown).
_COUNTS = (
    "count(*) FILTER (WHERE severity = 'critical') AS critical, count(*) FILTER (WHERE severity = 'major') AS major,"
    " count(*) FILTER (WHERE severity = 'minor') AS minor, count(*) FILTER (WHERE severity = 'warning') AS warning"
)
_ACTIVE = "state <> 'cleared' AND NOT suppressed"


class SeverityCounts(BaseModel):
    """Active alarms by severity."""

    critical: int = 0
    major: int = 0
    minor: int = 0
    warning: int = 0

    @property
    def total(self) -> int:
        """All of them."""
        return self.critical + self.major + self.minor + self.warning


def active_alarms_by_unit(
    conn: Connection, *, tenant: TenantScope, unit_ids: Sequence[str]
) -> dict[str, SeverityCounts]:
    """Active alarms by severity of each of `unit_ids` the tenant may see (units without any are left out)."""
    if not unit_ids:
        return {}
    query = sql.SQL(
        "SELECT unit_id, {counts} FROM alarms WHERE unit_id = ANY(%(ids)s) AND {active} AND {visible} GROUP BY unit_id"
    ).format(counts=sql.SQL(_COUNTS), active=sql.SQL(_ACTIVE), visible=tenant.units_predicate("unit_id"))
    rows = conn.execute(query, {"ids": list(unit_ids)}).fetchall()
    return {str(row["unit_id"]): SeverityCounts.model_validate(row) for row in rows}


def active_alarm_totals(conn: Connection, *, tenant: TenantScope) -> SeverityCounts:
    """Active alarms by severity over every unit the tenant may see."""
    query = sql.SQL("SELECT {counts} FROM alarms WHERE {active} AND {visible}").format(
        counts=sql.SQL(_COUNTS), active=sql.SQL(_ACTIVE), visible=tenant.units_predicate("unit_id")
    )
    return SeverityCounts.model_validate(conn.execute(query).fetchone())


def current_health(conn: Connection, *, tenant: TenantScope, unit_id: str) -> list[HealthScore]:
    """The latest score of the unit as a whole and of each component, with its reasons (the unit first, then the
    worst); empty when the tenant may not see the unit or the brain has not scored it yet."""
    query = sql.SQL(
        "SELECT DISTINCT ON (component_type) unit_id, component_type, at, score, reasons, model_id"
        " FROM health_scores WHERE unit_id = %(unit)s AND {visible} ORDER BY component_type, at DESC"
    ).format(visible=tenant.units_predicate("unit_id"))
    scores = [HealthScore.model_validate(row) for row in conn.execute(query, {"unit": unit_id}).fetchall()]
    return sorted(scores, key=lambda s: (s.component_type != UNIT_COMPONENT, s.score if s.score is not None else 101.0))
