"""Quality issues: a batch alert addressed to its supplier and a manufacturer, worked through to closure.

reported -> acknowledged -> root_cause -> corrective_action -> verified -> closed, and reopened (back to
reported) when the fix did not hold. The supplier acknowledges, finds the root cause and names the corrective
action (from which production date on its batches are corrected); the brain verifies it from field data (the
corrected batches' hazard back at the fleet rate); the manufacturer closes or reopens. Every step is a record
in a hash-chained ledger per issue (migration 0012), verifiable like the units' lifecycle records.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Any
from uuid import UUID

from psycopg import sql
from psycopg.types.json import Jsonb
from pydantic import BaseModel, field_serializer

from models.access.tenancy import TenantScope, Visibility
from models.db import Connection
from models.errors import BadRequest, Conflict, Forbidden, NotFound
from models.quality.alerts import AlertStatus, get_alert
from models.queries import Page, PageParams, fetch_one, fetch_page
from models.sqlerrors import translate_errors
from models.types import check_json, check_text

__all__ = [
    "ISSUE_STEPS",
    "IssueChainReport",
    "IssueRecord",
    "IssueStatus",
    "IssueStep",
    "QualityIssue",
    "advance_issue",
    "get_issue",
    "issues_awaiting_verification",
    "list_issue_records",
    "list_issues",
    "open_issue",
    "record_verification",
    "verify_issue_chain",
]


class IssueStatus(StrEnum):
    """Where the issue stands."""

    REPORTED = "reported"
    ACKNOWLEDGED = "acknowledged"
    ROOT_CAUSE = "root_cause"
    CORRECTIVE_ACTION = "corrective_action"
    VERIFIED = "verified"
    CLOSED = "closed"


class IssueStep(StrEnum):
    """A step recorded on the ledger."""

    REPORTED = "reported"
    ACKNOWLEDGED = "acknowledged"
    ROOT_CAUSE = "root_cause"
    CORRECTIVE_ACTION = "corrective_action"
    VERIFIED = "verified"
    CLOSED = "closed"
    REOPENED = "reopened"


class Party(StrEnum):
    """Who takes a step: the supplier, the manufacturer, or the brain from field data."""

    SUPPLIER = "supplier"
    MANUFACTURER = "manufacturer"
    FIELD_DATA = "field_data"


@dataclass(frozen=True)
class StepRule:
    """From which statuses a step may be taken, the status it leads to, and who takes it."""

    after: frozenset[IssueStatus]
    leads_to: IssueStatus
    party: Party


S = IssueStatus
ISSUE_STEPS: dict[IssueStep, StepRule] = {
    IssueStep.ACKNOWLEDGED: StepRule(frozenset({S.REPORTED}), S.ACKNOWLEDGED, Party.SUPPLIER),
    IssueStep.ROOT_CAUSE: StepRule(frozenset({S.ACKNOWLEDGED}), S.ROOT_CAUSE, Party.SUPPLIER),
    IssueStep.CORRECTIVE_ACTION: StepRule(frozenset({S.ROOT_CAUSE}), S.CORRECTIVE_ACTION, Party.SUPPLIER),
    IssueStep.VERIFIED: StepRule(frozenset({S.CORRECTIVE_ACTION}), S.VERIFIED, Party.FIELD_DATA),
    IssueStep.CLOSED: StepRule(frozenset({S.VERIFIED}), S.CLOSED, Party.MANUFACTURER),
    IssueStep.REOPENED: StepRule(frozenset({S.CORRECTIVE_ACTION, S.VERIFIED, S.CLOSED}), S.REPORTED,
                                 Party.MANUFACTURER),
}  # fmt: skip
_PARTY_OF: dict[Visibility, Party] = {Visibility.SUPPLY: Party.SUPPLIER, Visibility.MAKE: Party.MANUFACTURER}


class QualityIssue(BaseModel):
    """A stored issue."""

    id: UUID
    alert_id: UUID | None
    batch_id: UUID
    supplier_id: UUID
    manufacturer_id: UUID
    title: str
    status: IssueStatus
    corrected_from: date | None
    created_at: datetime
    updated_at: datetime


class IssueRecord(BaseModel):
    """One step on an issue's ledger; `hash` covers every field and `prev_hash`."""

    id: int
    issue_id: UUID
    seq: int
    step: IssueStep
    recorded_at: datetime
    actor: str
    data: dict[str, Any]
    prev_hash: bytes | None
    hash: bytes

    @field_serializer("prev_hash", "hash")
    def _hex(self, value: bytes | None) -> str | None:
        return value.hex() if value is not None else None


class IssueChainReport(BaseModel):
    """The outcome of verifying an issue's ledger: intact, or where it first breaks and why."""

    issue_id: UUID
    records: int
    intact: bool
    first_broken_seq: int | None = None
    reason: str | None = None


# What of the alert the first record keeps: the evidence the issue was opened on.
_ALERT_FIGURES = {"lot", "component_type", "failures", "exposure_hours", "rate_per_mh", "fleet_rate_per_mh", "p_value",
                  "affected_units"}  # fmt: skip
_COLUMNS = sql.SQL(
    "id, alert_id, batch_id, supplier_id, manufacturer_id, title, status, corrected_from, created_at, updated_at"
)
_RECORD_COLUMNS = sql.SQL("id, issue_id, seq, step, recorded_at, actor, data, prev_hash, hash")


def _visible(tenant: TenantScope) -> sql.Composable:
    """A supplier sees the issues addressed to it, a manufacturer its own, the platform and regulators all."""
    match tenant.visibility:
        case Visibility.ALL | Visibility.REGION:
            return sql.SQL("TRUE")
        case Visibility.SUPPLY:
            return tenant.suppliers_predicate("supplier_id")
        case Visibility.MAKE:
            return tenant.manufacturers_predicate("manufacturer_id")
        case _:
            return sql.SQL("FALSE")


def _append(conn: Connection, *, issue_id: UUID, step: IssueStep, data: dict[str, Any], actor: str) -> IssueRecord:
    check_json(data)
    check_text(actor)
    query = sql.SQL(
        "INSERT INTO quality_issue_records (issue_id, seq, step, actor, data, hash)"
        " VALUES (%(issue)s, 0, %(step)s, %(actor)s, %(data)s, '') RETURNING {}"
    ).format(_RECORD_COLUMNS)
    params = {"issue": issue_id, "step": str(step), "actor": actor, "data": Jsonb(data)}
    with translate_errors():
        return fetch_one(conn, query, params, model=IssueRecord, what="quality issue record")


def open_issue(
    conn: Connection, *, tenant: TenantScope, alert_id: UUID, manufacturer_id: UUID, title: str, actor: str
) -> QualityIssue:
    """Turn an open alert into an issue addressed to its batch's supplier and the manufacturer; its first record."""
    alert = get_alert(conn, tenant=tenant, alert_id=alert_id)
    visible_maker = sql.SQL("SELECT 1 FROM manufacturers WHERE id = %(m)s AND {}").format(
        tenant.manufacturers_predicate("id")
    )
    if conn.execute(visible_maker, {"m": manufacturer_id}).fetchone() is None:
        raise NotFound("no such manufacturer")
    taken = conn.execute(
        "UPDATE quality_alerts SET status = %(issued)s WHERE id = %(id)s AND status = %(open)s RETURNING id",
        {"id": alert_id, "issued": str(AlertStatus.ISSUED), "open": str(AlertStatus.OPEN)},
    ).fetchone()
    if taken is None:
        raise Conflict("the alert is already a quality issue")
    query = sql.SQL(
        "INSERT INTO quality_issues (alert_id, batch_id, supplier_id, manufacturer_id, title)"
        " VALUES (%(alert)s, %(batch)s, %(supplier)s, %(maker)s, %(title)s) RETURNING {}"
    ).format(_COLUMNS)
    params = {"alert": alert_id, "batch": alert.batch_id, "supplier": alert.supplier_id, "maker": manufacturer_id,
              "title": title}  # fmt: skip
    with translate_errors():
        issue = fetch_one(conn, query, params, model=QualityIssue, what="quality issue")
    figures = alert.model_dump(mode="json", include=_ALERT_FIGURES)
    _append(conn, issue_id=issue.id, step=IssueStep.REPORTED, data={"alert": figures, "title": title}, actor=actor)
    return issue


def _lock_issue(conn: Connection, tenant: TenantScope, issue_id: UUID) -> QualityIssue:
    query = sql.SQL("SELECT {} FROM quality_issues WHERE id = %(id)s AND {} FOR UPDATE").format(
        _COLUMNS, _visible(tenant)
    )
    return fetch_one(conn, query, {"id": issue_id}, model=QualityIssue, what="quality issue")


def _move(
    conn: Connection, issue: QualityIssue, step: IssueStep, data: dict[str, Any], actor: str, fix_from: date | None
) -> IssueRecord:
    rule = ISSUE_STEPS[step]
    if issue.status not in rule.after:
        raise Conflict(f"an issue in status {issue.status} cannot take the step {step}")
    conn.execute(
        "UPDATE quality_issues SET status = %(status)s, corrected_from = coalesce(%(from)s, corrected_from),"
        " updated_at = clock_timestamp() WHERE id = %(id)s",
        {"status": str(rule.leads_to), "from": fix_from, "id": issue.id},
    )
    return _append(conn, issue_id=issue.id, step=step, data=data, actor=actor)


def advance_issue(
    conn: Connection,
    *,
    tenant: TenantScope,
    issue_id: UUID,
    step: IssueStep,
    data: dict[str, Any],
    actor: str,
    corrected_from: date | None = None,
) -> IssueRecord:
    """Take a step the caller's party may take (the platform any but field verification); record it."""
    issue = _lock_issue(conn, tenant, issue_id)
    rule = ISSUE_STEPS.get(step)
    if rule is None or rule.party is Party.FIELD_DATA:
        raise BadRequest(f"the step {step} is not taken by hand")
    party = _PARTY_OF.get(tenant.visibility)
    if tenant.visibility is not Visibility.ALL and party is not rule.party:
        raise Forbidden(f"the step {step} is the {rule.party}'s")
    if step is IssueStep.ROOT_CAUSE and not data.get("analysis"):
        raise BadRequest("a root cause needs its analysis in data.analysis")
    if step is IssueStep.CORRECTIVE_ACTION:
        if corrected_from is None or not data.get("change"):
            raise BadRequest("a corrective action needs data.change and corrected_from (its first production day)")
        data = {**data, "corrected_from": corrected_from.isoformat()}
    return _move(conn, issue, step, data, actor, corrected_from if step is IssueStep.CORRECTIVE_ACTION else None)


def issues_awaiting_verification(conn: Connection) -> list[QualityIssue]:
    """Issues whose corrective action waits for field data (for the brain)."""
    query = sql.SQL("SELECT {} FROM quality_issues WHERE status = %(s)s ORDER BY created_at, id").format(_COLUMNS)
    rows = conn.execute(query, {"s": str(IssueStatus.CORRECTIVE_ACTION)}).fetchall()
    return [QualityIssue.model_validate(row) for row in rows]


def record_verification(conn: Connection, *, issue_id: UUID, data: dict[str, Any], actor: str) -> IssueRecord:
    """Record that field data shows the corrective action works (the brain's step)."""
    issue = _lock_issue(conn, TenantScope.internal(), issue_id)
    return _move(conn, issue, IssueStep.VERIFIED, data, actor, None)


def get_issue(conn: Connection, *, tenant: TenantScope, issue_id: UUID) -> QualityIssue:
    """One visible issue, or NotFound."""
    query = sql.SQL("SELECT {} FROM quality_issues WHERE id = %(id)s AND {}").format(_COLUMNS, _visible(tenant))
    return fetch_one(conn, query, {"id": issue_id}, model=QualityIssue, what="quality issue")


def list_issues(
    conn: Connection, *, tenant: TenantScope, page: PageParams, status: IssueStatus | None = None
) -> Page[QualityIssue]:
    """The visible issues, newest first."""
    query = sql.SQL(
        "SELECT {} FROM quality_issues WHERE {} AND (%(s)s::text IS NULL OR status = %(s)s)"
        " ORDER BY created_at DESC, id"
    ).format(_COLUMNS, _visible(tenant))
    return fetch_page(conn, query, {"s": status}, model=QualityIssue, page=page)


def list_issue_records(conn: Connection, *, tenant: TenantScope, issue_id: UUID, page: PageParams) -> Page[IssueRecord]:
    """The issue's ledger in chain order."""
    get_issue(conn, tenant=tenant, issue_id=issue_id)
    query = sql.SQL("SELECT {} FROM quality_issue_records WHERE issue_id = %(i)s ORDER BY seq").format(_RECORD_COLUMNS)
    return fetch_page(conn, query, {"i": issue_id}, model=IssueRecord, page=page)


_VERIFY = """
SELECT seq,
       hash = quality_issue_record_hash(r) AS hash_ok,
       prev_hash IS NOT DISTINCT FROM lag(hash) OVER w AS link_ok,
       seq = row_number() OVER w AS seq_ok
FROM quality_issue_records r WHERE issue_id = %(i)s
WINDOW w AS (ORDER BY seq)
ORDER BY seq
"""


def verify_issue_chain(conn: Connection, *, tenant: TenantScope, issue_id: UUID) -> IssueChainReport:
    """Recompute every hash and link of the issue's ledger; report the first record that does not match."""
    get_issue(conn, tenant=tenant, issue_id=issue_id)
    rows = conn.execute(_VERIFY, {"i": issue_id}).fetchall()
    for row in rows:
        reason = (
            "a record before this one is missing" if not row["seq_ok"]
            else "the record's content does not match its hash" if not row["hash_ok"]
            else "the record does not link to the previous record's hash" if not row["link_ok"]
            else None
        )  # fmt: skip
        if reason is not None:
            seq = row["seq"]
            assert isinstance(seq, int)
            return IssueChainReport(issue_id=issue_id, records=len(rows), intact=False, first_broken_seq=seq,
                                    reason=reason)  # fmt: skip
    return IssueChainReport(issue_id=issue_id, records=len(rows), intact=True)
