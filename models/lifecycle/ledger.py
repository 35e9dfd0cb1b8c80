"""The lifecycle record of a unit: append-only, hash-chained per unit, from factory build to decommission.

The database links the chain (migration 0004: a trigger assigns `seq`, `prev_hash` and `hash` under a per-unit
lock, and refuses UPDATE, DELETE and TRUNCATE). `verify_chain` recomputes every hash, so a record altered or
removed behind the trigger's back shows up as the first broken link; models.lifecycle.checkpoints anchors the heads
outside the database against a rewrite of the whole tail.

Who may append which kind is WRITERS. Each record carries the organisation whose key wrote it; other
organisations see its `data` and `actor` redacted (the platform sees everything).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any
from uuid import UUID

from psycopg import sql
from psycopg.types.json import Jsonb
from pydantic import BaseModel, Field, field_serializer

from models.access.tenancy import TenantScope, Visibility
from models.db import Connection
from models.errors import Conflict, Forbidden
from models.lifecycle.checkpoints import Checkpoint, checkpoint_head, latest_checkpoint
from models.queries import Page, PageParams, fetch_one, fetch_page
from models.registry.units import require_visible_unit
from models.sqlerrors import translate_errors
from models.types import check_json, check_text
from models.work.work_orders import require_open_crew_work_order, require_unit_work_order

__all__ = [
    "STATUS_AFTER",
    "WRITERS",
    "ChainReport",
    "LifecycleKind",
    "LifecycleRecord",
    "append_record",
    "list_records",
    "redacted_columns",
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

_MAKER = frozenset({Visibility.MAKE})
_FIELD = frozenset({Visibility.CONTRACT, Visibility.CREW})
# Who may append each kind, besides the platform (admin keys and the platform's own jobs append any). A
# manufacturer's own units (Visibility.MAKE) get the factory's kinds; the current contract holder
# (Visibility.CONTRACT) and its crews, on their own open work orders of the unit, the field's; closing the
# record for good is the owner's decision, taken through the platform (there is no owner role yet).
WRITERS: dict[LifecycleKind, frozenset[Visibility]] = {
    LifecycleKind.FACTORY_BUILD: _MAKER,
    LifecycleKind.FACTORY_TEST: _MAKER,
    LifecycleKind.SHIPMENT: _MAKER,
    LifecycleKind.INSTALLATION: _FIELD,
    LifecycleKind.COMMISSIONING: _FIELD,
    LifecycleKind.INSPECTION: _FIELD,
    LifecycleKind.SELF_TEST: _FIELD,
    LifecycleKind.MAINTENANCE: _FIELD,
    LifecycleKind.FAULT: _FIELD,
    LifecycleKind.REPAIR: _FIELD,
    LifecycleKind.PART_REPLACEMENT: _FIELD,
    LifecycleKind.MODERNIZATION: _FIELD,
    LifecycleKind.DECOMMISSION: frozenset(),
}
_WHO = {
    Visibility.MAKE: "the unit's manufacturer",
    Visibility.CONTRACT: "the contract holder",
    Visibility.CREW: "its crews",
}

_COLUMNS = sql.SQL("id, unit_id, seq, kind, occurred_at, recorded_at, actor, data, work_order_id, prev_hash, hash")


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
    checkpoint_id: int | None = Field(
        None, description="The signed checkpoint the chain was checked against (null: none, or no operator key)"
    )


def redacted_columns(tenant: TenantScope, alias: str) -> tuple[sql.Composable, sql.Composable, sql.Composable]:
    """SQL for a record's actor, data and work order id as `tenant` may read them: whole when the record is
    the tenant's organisation's or the platform's, else redacted."""
    own: sql.Composable = sql.SQL("TRUE")
    if tenant.visibility is not Visibility.ALL:
        own = sql.SQL("({a}.organization_id IS NULL OR {a}.organization_id = {org})").format(
            a=sql.Identifier(alias), org=sql.Literal(tenant.organization_id)
        )

    def pick(column: str, redacted: str) -> sql.Composable:
        return sql.SQL("CASE WHEN {own} THEN {a}.{c} ELSE {r} END").format(
            own=own, a=sql.Identifier(alias), c=sql.Identifier(column), r=sql.SQL(redacted)
        )

    return pick("actor", "'another organisation'"), pick("data", "'{}'::jsonb"), pick("work_order_id", "NULL::uuid")


def _check_writer(
    conn: Connection, tenant: TenantScope, unit_id: str, kind: LifecycleKind, work_order_id: UUID | None
) -> None:
    require_visible_unit(conn, tenant=tenant, unit_id=unit_id)
    if tenant.visibility is not Visibility.ALL and tenant.visibility not in WRITERS[kind]:
        who = " or ".join(_WHO[v] for v in sorted(WRITERS[kind])) or "the owner, through the platform"
        raise Forbidden(f"{kind} records are written by {who}")
    if tenant.visibility is Visibility.CREW:
        require_open_crew_work_order(conn, tenant=tenant, work_order_id=work_order_id, unit_id=unit_id)
    elif work_order_id is not None:
        require_unit_work_order(conn, tenant=tenant, work_order_id=work_order_id, unit_id=unit_id)


def append_record(
    conn: Connection,
    *,
    tenant: TenantScope,
    unit_id: str,
    kind: LifecycleKind | str,
    occurred_at: datetime,
    data: dict[str, Any],
    actor: str,
    work_order_id: UUID | None = None,
) -> LifecycleRecord:
    """Append a record to the unit's chain and move the unit's status on, if the tenant may write this kind
    (WRITERS: else Forbidden; a unit it cannot see: NotFound). Conflict once the unit is decommissioned."""
    kind = LifecycleKind(kind)
    check_json(data)
    check_text(actor)
    _check_writer(conn, tenant, unit_id, kind, work_order_id)
    # The unit's append lock (the one the chain trigger takes) orders this check before any concurrent
    # decommission, without a row lock on units that would queue behind ingest's last_seen updates.
    conn.execute("SELECT pg_advisory_xact_lock(hashtextextended('lifecycle:' || %(id)s, 0))", {"id": unit_id})
    row = conn.execute("SELECT status FROM units WHERE id = %(id)s", {"id": unit_id}).fetchone()
    if row is not None and row["status"] == "decommissioned":
        raise Conflict(f"unit {unit_id} is decommissioned; its record is closed")
    query = sql.SQL(
        "INSERT INTO lifecycle_records (unit_id, seq, kind, occurred_at, actor, data, work_order_id, organization_id,"
        " hash) VALUES (%(unit_id)s, 0, %(kind)s, %(occurred_at)s, %(actor)s, %(data)s, %(work_order_id)s, %(org)s,"
        " '') RETURNING {}"
    ).format(_COLUMNS)
    params = {
        "unit_id": unit_id,
        "kind": str(kind),
        "occurred_at": occurred_at,
        "actor": actor,
        "data": Jsonb(data),
        "work_order_id": work_order_id,
        "org": None if tenant.visibility is Visibility.ALL else tenant.organization_id,
    }
    with translate_errors():
        record = fetch_one(conn, query, params, model=LifecycleRecord, what="lifecycle record")
        if kind in STATUS_AFTER:
            conn.execute(
                "UPDATE units SET status = %(status)s, version = version + 1, updated_at = clock_timestamp()"
                " WHERE id = %(id)s",
                {"status": STATUS_AFTER[kind], "id": unit_id},
            )
    return record


def list_records(
    conn: Connection, *, tenant: TenantScope, unit_id: str, page: PageParams, kind: LifecycleKind | None = None
) -> Page[LifecycleRecord]:
    """The unit's records in chain order, optionally of one kind; other organisations' records redacted."""
    require_visible_unit(conn, tenant=tenant, unit_id=unit_id)
    actor, data, work_order = redacted_columns(tenant, "r")
    query = sql.SQL(
        "SELECT r.id, r.unit_id, r.seq, r.kind, r.occurred_at, r.recorded_at, {actor} AS actor, {data} AS data,"
        " {work_order} AS work_order_id, r.prev_hash, r.hash FROM lifecycle_records r WHERE r.unit_id = %(u)s"
        " AND (%(kind)s::text IS NULL OR r.kind = %(kind)s) ORDER BY r.seq"
    ).format(actor=actor, data=data, work_order=work_order)
    return fetch_page(conn, query, {"u": unit_id, "kind": kind}, model=LifecycleRecord, page=page)


_VERIFY = sql.SQL("""
SELECT seq, hash,
       hash = lifecycle_record_hash(r) AS hash_ok,
       prev_hash IS NOT DISTINCT FROM lag(hash) OVER w AS link_ok,
       seq = row_number() OVER w AS seq_ok
FROM lifecycle_records r WHERE unit_id = %(u)s
WINDOW w AS (ORDER BY seq)
ORDER BY seq
""")


def _against_checkpoint(unit_id: str, rows: list[dict[str, Any]], checkpoint: Checkpoint, key: bytes) -> str | None:
    """Why the chain does not hold the head the checkpoint signed (None: it does)."""
    try:
        head = checkpoint_head(checkpoint, trusted_key=key, unit_id=unit_id)
    except ValueError as exc:
        return str(exc)
    if head is None:
        return None
    held = next((row for row in rows if row["seq"] == head.seq), None)
    if held is None:
        return f"checkpoint {checkpoint.id} signed record {head.seq}; the chain ends at {len(rows)} (records removed)"
    if bytes(held["hash"]).hex() != head.hash:
        return f"record {head.seq} is not the one checkpoint {checkpoint.id} signed (the chain was rewritten)"
    return None


def verify_chain(conn: Connection, *, tenant: TenantScope, unit_id: str, trusted_key: bytes | None) -> ChainReport:
    """Recompute every hash and link of the unit's chain; report the first record that does not match. With the
    operator's public key, the chain must also still hold the head the latest signed checkpoint names."""
    require_visible_unit(conn, tenant=tenant, unit_id=unit_id)
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
    checkpoint = latest_checkpoint(conn) if trusted_key is not None else None
    if checkpoint is None or trusted_key is None:
        return ChainReport(unit_id=unit_id, records=len(rows), intact=True)
    reason = _against_checkpoint(unit_id, rows, checkpoint, trusted_key)
    return ChainReport(
        unit_id=unit_id, records=len(rows), intact=reason is None, reason=reason, checkpoint_id=checkpoint.id
    )
