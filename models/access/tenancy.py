"""Tenancy as a type: which units a caller may see, required by every query that reads tenant data.

A `TenantScope` comes only from API-key resolution (`models.api_keys.resolve_key`) or, for the platform's
own jobs (brain, simulators, CLI), from `TenantScope.internal()`. Queries turn it into a SQL predicate on a
unit id column; a unit outside the predicate does not exist for that caller (the API answers 404).

Adding a role (supplier, regulator...) means adding a `Role`, its `Visibility` and, if new, that
visibility's predicate below; nothing else changes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from uuid import UUID

from psycopg import sql

# A maintenance contract in force today: what gives a maintainer (and its crews) sight of a unit.
CURRENT_CONTRACT = sql.SQL("starts_on <= current_date AND (ends_on IS NULL OR ends_on >= current_date)")
# Work order statuses after which the work is over.
CLOSED_STATUSES = sql.SQL("('done', 'verified', 'cancelled')")
# A crew keeps read-only sight of a work order and its unit this long after the work order closed: to look at
# the unit's telemetry after a repair and finish its report. Writing needs an open work order.
CREW_READ_GRACE = sql.SQL("interval '24 hours'")
# The work orders a crew sees: its own, open or closed within the grace, on a unit whose contract with the
# work order's maintainer is in force today.
_CREW_WORK_ORDERS = sql.SQL(
    "SELECT w.id, w.unit_id FROM work_orders w WHERE w.crew_id = {crew}"
    " AND (w.status NOT IN {closed} OR w.updated_at > now() - {grace})"
    " AND EXISTS (SELECT 1 FROM maintenance_contracts c WHERE c.unit_id = w.unit_id"
    " AND c.maintainer_id = w.maintainer_id AND c.starts_on <= current_date"
    " AND (c.ends_on IS NULL OR c.ends_on >= current_date))"
)

__all__ = [
    "CLOSED_STATUSES",
    "CREW_READ_GRACE",
    "CURRENT_CONTRACT",
    "ROLE_ORG_KIND",
    "ROLE_VISIBILITY",
    "Role",
    "TenantScope",
    "Visibility",
]


class Role(StrEnum):
    """What an API key is for."""

    ADMIN = "admin"
    MANUFACTURER = "manufacturer"
    MAINTAINER = "maintainer"
    CREW = "crew"
    DEVICE = "device"
    SUPPLIER = "supplier"
    REGULATOR = "regulator"


class Visibility(StrEnum):
    """Which units a role's organisation sees."""

    ALL = "all"
    MAKE = "make"  # units whose manufacturer belongs to the organisation
    CONTRACT = "contract"  # units the organisation holds a current maintenance contract for
    CREW = "crew"  # units of the crew's own open work orders under a current contract (plus CREW_READ_GRACE)
    NONE = "none"
    SUPPLY = "supply"  # units that carry (or carried) components of the organisation's batches
    REGION = "region"  # units at the sites of the organisation's region


ROLE_VISIBILITY: dict[Role, Visibility] = {
    Role.ADMIN: Visibility.ALL,
    Role.MANUFACTURER: Visibility.MAKE,
    Role.MAINTAINER: Visibility.CONTRACT,
    Role.CREW: Visibility.CREW,
    Role.DEVICE: Visibility.NONE,
    Role.SUPPLIER: Visibility.SUPPLY,
    Role.REGULATOR: Visibility.REGION,
}

# The organisation kind a key of each role must belong to (None: any).
ROLE_ORG_KIND: dict[Role, str | None] = {
    Role.ADMIN: "platform",
    Role.MANUFACTURER: "manufacturer",
    Role.MAINTAINER: "maintainer",
    Role.CREW: "maintainer",
    Role.DEVICE: None,
    Role.SUPPLIER: "supplier",
    Role.REGULATOR: "regulator",
}

_ISSUER = object()


@dataclass(frozen=True)
class TenantScope:
    """The units one caller may see. Build with `internal()` or get one from `resolve_key`."""

    visibility: Visibility
    organization_id: UUID | None = None
    crew_id: UUID | None = None
    issuer: object = field(default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.issuer is not _ISSUER:
            raise TypeError("a TenantScope comes from API-key resolution or TenantScope.internal()")

    @classmethod
    def internal(cls) -> TenantScope:
        """The platform's own view (jobs, CLI, simulators): every unit."""
        return cls(Visibility.ALL, issuer=_ISSUER)

    @classmethod
    def _issue(cls, role: Role, organization_id: UUID, crew_id: UUID | None) -> TenantScope:
        """For models.access.api_keys only: the tenant of a resolved key."""
        return cls(ROLE_VISIBILITY[role], organization_id, crew_id, issuer=_ISSUER)

    def units_predicate(self, unit_column: str) -> sql.Composable:
        """A SQL condition true for the rows whose `unit_column` names a unit this tenant may see."""
        column = sql.Identifier(*unit_column.split("."))
        org = sql.Literal(self.organization_id)
        match self.visibility:
            case Visibility.ALL:
                return sql.SQL("TRUE")
            case Visibility.MAKE:
                query = (
                    "{col} IN (SELECT u.id FROM units u JOIN manufacturers m ON m.id = u.manufacturer_id"
                    " WHERE m.organization_id = {org})"
                )
                return sql.SQL(query).format(col=column, org=org)
            case Visibility.CONTRACT:
                query = "{col} IN (SELECT unit_id FROM maintenance_contracts WHERE maintainer_id = {org} AND {current})"
                return sql.SQL(query).format(col=column, org=org, current=CURRENT_CONTRACT)
            case Visibility.CREW:
                crew = sql.SQL("{col} IN (SELECT unit_id FROM ({orders}) AS crew_orders)")
                return crew.format(col=column, orders=self._crew_work_orders())
            case Visibility.SUPPLY:
                query = (
                    "{col} IN (SELECT uc.unit_id FROM unit_components uc JOIN components c ON c.id = uc.component_id"
                    " JOIN component_batches b ON b.id = c.batch_id JOIN suppliers s ON s.id = b.supplier_id"
                    " WHERE s.organization_id = {org})"
                )
                return sql.SQL(query).format(col=column, org=org)
            case Visibility.REGION:
                query = (
                    "{col} IN (SELECT u.id FROM units u JOIN sites s ON s.id = u.site_id"
                    " JOIN organizations o ON o.region = s.region WHERE o.id = {org})"
                )
                return sql.SQL(query).format(col=column, org=org)
            case Visibility.NONE:
                return sql.SQL("FALSE")

    def _crew_work_orders(self) -> sql.Composable:
        """The work orders (id, unit_id) this crew sees."""
        return _CREW_WORK_ORDERS.format(crew=sql.Literal(self.crew_id), closed=CLOSED_STATUSES, grace=CREW_READ_GRACE)

    def work_orders_predicate(self, id_column: str, maintainer_column: str) -> sql.Composable:
        """A SQL condition true for the work orders this tenant may see: a maintainer its own, a crew its own
        open ones under a current contract (plus the read-only grace), the platform all."""
        match self.visibility:
            case Visibility.ALL:
                return sql.SQL("TRUE")
            case Visibility.CONTRACT:
                return sql.SQL("{} = {}").format(
                    sql.Identifier(*maintainer_column.split(".")), sql.Literal(self.organization_id)
                )
            case Visibility.CREW:
                query = sql.SQL("{col} IN (SELECT id FROM ({orders}) AS crew_orders)")
                return query.format(col=sql.Identifier(*id_column.split(".")), orders=self._crew_work_orders())
            case _:
                return sql.SQL("FALSE")

    def suppliers_predicate(self, supplier_column: str) -> sql.Composable:
        """A SQL condition true when `supplier_column` names a supplier this scope may see the batches of.

        A supplier sees only its own; the platform, manufacturers (who compare their suppliers) and regulators
        see every supplier's fleet figures, which hold no unit or customer data.
        """
        if self.visibility in (Visibility.ALL, Visibility.MAKE, Visibility.REGION):
            return sql.SQL("TRUE")
        if self.visibility is not Visibility.SUPPLY:
            return sql.SQL("FALSE")
        query = "{col} IN (SELECT s.id FROM suppliers s WHERE s.organization_id = {org})"
        return sql.SQL(query).format(
            col=sql.Identifier(*supplier_column.split(".")), org=sql.Literal(self.organization_id)
        )

    def maintainer_predicate(self, maintainer_column: str, crew_column: str) -> sql.Composable:
        """A SQL condition true for a maintainer's rows (its crews) this tenant may see.

        A maintainer sees its own (`maintainer_column`), a crew only its own (`crew_column` names the crew).
        """
        match self.visibility:
            case Visibility.ALL:
                return sql.SQL("TRUE")
            case Visibility.CONTRACT:
                column, value = maintainer_column, self.organization_id
            case Visibility.CREW:
                column, value = crew_column, self.crew_id
            case _:
                return sql.SQL("FALSE")
        return sql.SQL("{} = {}").format(sql.Identifier(*column.split(".")), sql.Literal(value))

    def manufacturers_predicate(self, manufacturer_column: str) -> sql.Composable:
        """A SQL condition true when `manufacturer_column` names a manufacturer this tenant may build for."""
        if self.visibility is Visibility.ALL:
            return sql.SQL("TRUE")
        if self.visibility is not Visibility.MAKE:
            return sql.SQL("FALSE")
        query = "{col} IN (SELECT m.id FROM manufacturers m WHERE m.organization_id = {org})"
        return sql.SQL(query).format(
            col=sql.Identifier(*manufacturer_column.split(".")), org=sql.Literal(self.organization_id)
        )
