"""The lifecycle record of a unit: append-only, hash-chained per unit, from factory build to decommission.

The database links the chain (migration 0004: a trigger assigns `seq`, `prev_hash` and `hash` under a per-unit
lock, and refuses UPDATE, DELETE and TRUNCATE). `verify_chain` recomputes every hash, so a record altered or
removed behind the trigger's back shows up as the first broken link.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any
from uuid import UUID

from psycopg import sql
from psycopg.types.json import Jsonb
from pydantic import BaseModel, field_serializer

from models.db import Connection
from models.errors import Conflict
from models.queries import Page, PageParams, fetch_one, fetch_page
from models.sqlerrors import translate_errors
from models.tenancy import TenantScope
from models.types import check_json, check_text
from models.units import require_visible_unit

__all__ = [
    "STATUS_AFTER",
    "ChainReport",
    "LifecycleKind",
    "LifecycleRecord",
    "append_record",
    "list_records",
    "verify_chain",
]


class LifecycleKind(StrEnum):
    """What happened to the unit."""

    FACTORY_BUILD = "factory_build"
    FACTORY_TEST = "factory_test"
    SHIPMENT = "shipment"
    INSTALLATION = "installation"
    COMMISSIONING = "commissioning"
    INSPECTION = "inspection"
    SELF_TEST = "self_test"
    MAINTENANCE = "maintenance"
    FAULT = "fault"
    REPAIR = "repair"
    PART_REPLACEMENT = "part_replacement"
    MODERNIZATION = "modernization"
    DECOMMISSION = "decommission"


# The unit's status after a record of this kind (kinds not listed leave it as it was).
STATUS_AFTER: dict[LifecycleKind, str] = {
    LifecycleKind.FACTORY_BUILD: "built",
    LifecycleKind.SHIPMENT: "shipped",
    LifecycleKind.INSTALLATION: "installed",
    LifecycleKind.COMMISSIONING: "in_service",
    LifecycleKind.DECOMMISSION: "decommissioned",
}

_COLUMNS = "id, unit_id, seq, kind, occurred_at, recorded_at, actor, data, work_order_id, prev_hash, hash"


class LifecycleRecord(BaseModel):
    """One stored record; `hash` covers every field and `prev_hash`."""

    id: int
    unit_id: str
    seq: int
    kind: LifecycleKind
    occurred_at: datetime
    recorded_at: datetime
    actor: str
    data: dict[str, Any]
    work_order_id: UUID | None
    prev_hash: bytes | None
    hash: bytes

    @field_serializer("prev_hash", "hash")
    def _hex(self, value: bytes | None) -> str | None:
        return value.hex() if value is not None else None


class ChainReport(BaseModel):
    """The outcome of verifying a unit's chain: intact, or where it first breaks and why."""

    unit_id: str
    records: int
    intact: bool
    first_broken_seq: int | None = None
    reason: str | None = None


def append_record(
    conn: Connection,
    *,
    unit_id: str,
    kind: LifecycleKind | str,
    occurred_at: datetime,
    data: dict[str, Any],
    actor: str,
    work_order_id: UUID | None = None,
) -> LifecycleRecord:
    """Append a record to the unit's chain and move the unit's status on; Conflict once it is decommissioned."""
    kind = LifecycleKind(kind)
    check_json(data)
    check_text(actor)
    # The unit's append lock (the one the chain trigger takes) orders this check before any concurrent
    # decommission, without a row lock on units that would queue behind ingest's last_seen updates.
    conn.execute("SELECT pg_advisory_xact_lock(hashtextextended('lifecycle:' || %(id)s, 0))", {"id": unit_id})
    row = conn.execute("SELECT status FROM units WHERE id = %(id)s", {"id": unit_id}).fetchone()
    if row is not None and row["status"] == "decommissioned":
        raise Conflict(f"unit {unit_id} is decommissioned; its record is closed")
    query = (
        "INSERT INTO lifecycle_records (unit_id, seq, kind, occurred_at, actor, data, work_order_id, hash)"
        " VALUES (%(unit_id)s, 0, %(kind)s, %(occurred_at)s, %(actor)s, %(data)s, %(work_order_id)s, '')"
        f" RETURNING {_COLUMNS}"
    )
    params = {
        "unit_id": unit_id,
        "kind": str(kind),
        "occurred_at": occurred_at,
        "actor": actor,
        "data": Jsonb(data),
        "work_order_id": work_order_id,
    }
    with translate_errors():
        record = fetch_one(conn, query, params, model=LifecycleRecord, what="lifecycle record")
        if kind in STATUS_AFTER:
            conn.execute(
                "UPDATE units SET status = %(status)s, updated_at = clock_timestamp() WHERE id = %(id)s",
                {"status": STATUS_AFTER[kind], "id": unit_id},
            )
    return record


def list_records(
    conn: Connection, *, scope: TenantScope, unit_id: str, page: PageParams, kind: LifecycleKind | None = None
) -> Page[LifecycleRecord]:
    """The unit's records in chain order, optionally of one kind."""
    require_visible_unit(conn, scope=scope, unit_id=unit_id)
    query = (
        f"SELECT {_COLUMNS} FROM lifecycle_records WHERE unit_id = %(u)s"
        " AND (%(kind)s::text IS NULL OR kind = %(kind)s) ORDER BY seq"
    )
    return fetch_page(conn, query, {"u": unit_id, "kind": kind}, model=LifecycleRecord, page=page)


_VERIFY = sql.SQL("""
SELECT seq,
       hash = lifecycle_record_hash(r) AS hash_ok,
       prev_hash IS NOT DISTINCT FROM lag(hash) OVER w AS link_ok,
       seq = row_number() OVER w AS seq_ok
FROM lifecycle_records r WHERE unit_id = %(u)s
WINDOW w AS (ORDER BY seq)
ORDER BY seq
""")


def verify_chain(conn: Connection, *, scope: TenantScope, unit_id: str) -> ChainReport:
    """Recompute every hash and link of the unit's chain; report the first record that does not match."""
    require_visible_unit(conn, scope=scope, unit_id=unit_id)
    rows = conn.execute(_VERIFY, {"u": unit_id}).fetchall()
    for row in rows:
        reason = None
        if not row["seq_ok"]:
            reason = "a record before this one is missing"
        elif not row["hash_ok"]:
            reason = "the record's content does not match its hash"
        elif not row["link_ok"]:
            reason = "the record does not link to the previous record's hash"
        if reason is not None:
            seq = row["seq"]
            assert isinstance(seq, int)
            return ChainReport(unit_id=unit_id, records=len(rows), intact=False, first_broken_seq=seq, reason=reason)
    return ChainReport(unit_id=unit_id, records=len(rows), intact=True)
