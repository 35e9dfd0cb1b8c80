"""A part replacement: swap the component in a position and record it on the unit's chain, in one transaction."""

from __future__ import annotations

from uuid import UUID

from pydantic import BaseModel, ConfigDict

from models.access.tenancy import TenantScope
from models.db import Connection
from models.lifecycle.ledger import LifecycleKind, LifecycleRecord, append_record
from models.registry.components import get_component_by_serial
from models.registry.units import install_component
from models.types import LongText, PastTimestamp, Text

__all__ = ["PartReplacement", "replace_part"]


class PartReplacement(BaseModel):
    """Which serial goes into which position, when, and under which work order."""

    model_config = ConfigDict(extra="forbid")
    position: Text
    installed_serial: Text
    occurred_at: PastTimestamp
    work_order_id: UUID | None = None
    reason: LongText | None = None


def replace_part(
    conn: Connection, *, tenant: TenantScope, unit_id: str, replacement: PartReplacement, actor: str
) -> LifecycleRecord:
    """Append a part_replacement record (if the tenant may: see lifecycle.WRITERS) and install `installed_serial`
    in the position, closing the previous one; both or neither, as the caller's transaction commits."""
    component = get_component_by_serial(conn, serial=replacement.installed_serial)
    removed = conn.execute(
        "SELECT c.serial FROM unit_components uc JOIN components c ON c.id = uc.component_id"
        " WHERE uc.unit_id = %(u)s AND uc.position = %(p)s AND uc.removed_at IS NULL",
        {"u": unit_id, "p": replacement.position},
    ).fetchone()
    data = {
        "position": replacement.position,
        "removed_serial": removed["serial"] if removed else None,
        "installed_serial": component.serial,
        "reason": replacement.reason,
    }
    record = append_record(
        conn,
        tenant=tenant,
        unit_id=unit_id,
        kind=LifecycleKind.PART_REPLACEMENT,
        occurred_at=replacement.occurred_at,
        data=data,
        actor=actor,
        work_order_id=replacement.work_order_id,
    )
    install_component(
        conn,
        tenant=tenant,
        unit_id=unit_id,
        position=replacement.position,
        component_id=component.id,
        at=replacement.occurred_at,
    )
    return record
