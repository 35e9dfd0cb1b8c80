"""`/quality/issues`: alerts turned into issues for supplier and manufacturer, and their hash-chained ledger."""

from __future__ import annotations

from datetime import date
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, status
from pydantic import BaseModel, ConfigDict

from api.auth import Principal, Scope, require
from api.deps import Conn
from api.params import Paging
from models.quality import issues
from models.quality.issues import IssueChainReport, IssueRecord, IssueStatus, IssueStep, QualityIssue
from models.queries import Page
from models.types import JsonObject, Text

router = APIRouter(prefix="/quality/issues", tags=["quality"])
Reader = Annotated[Principal, Depends(require(Scope.QUALITY_READ))]
Writer = Annotated[Principal, Depends(require(Scope.QUALITY_WRITE))]


class IssueOpen(BaseModel):
    """An alert to address to its supplier and a manufacturer."""

    model_config = ConfigDict(extra="forbid")
    alert_id: UUID
    manufacturer_id: UUID
    title: Text


class IssueStepTaken(BaseModel):
    """A step on the issue: its evidence in `data`; a corrective action names its first corrected production day."""

    model_config = ConfigDict(extra="forbid")
    step: IssueStep
    data: JsonObject = {}
    corrected_from: date | None = None


@router.post("", status_code=status.HTTP_201_CREATED)
def open_issue(body: IssueOpen, conn: Conn, principal: Writer) -> QualityIssue:
    """Turn an open alert into a quality issue (its first ledger record holds the alert's figures)."""
    issue = issues.open_issue(
        conn, tenant=principal.tenant, alert_id=body.alert_id, manufacturer_id=body.manufacturer_id,
        title=body.title, actor=principal.actor,
    )  # fmt: skip
    conn.commit()
    return issue


@router.get("")
def list_issues(conn: Conn, principal: Reader, page: Paging, status: IssueStatus | None = None) -> Page[QualityIssue]:
    """The caller's issues (a supplier's addressed to it, a manufacturer's its own), newest first."""
    return issues.list_issues(conn, tenant=principal.tenant, page=page, status=status)


@router.get("/{issue_id}")
def get_issue(issue_id: UUID, conn: Conn, principal: Reader) -> QualityIssue:
    """One issue."""
    return issues.get_issue(conn, tenant=principal.tenant, issue_id=issue_id)


@router.post("/{issue_id}/records", status_code=status.HTTP_201_CREATED)
def take_step(issue_id: UUID, body: IssueStepTaken, conn: Conn, principal: Writer) -> IssueRecord:
    """Take the next step: the supplier acknowledges, finds the root cause, names the corrective action; the
    manufacturer closes or reopens (verification comes from field data)."""
    record = issues.advance_issue(
        conn, tenant=principal.tenant, issue_id=issue_id, step=body.step, data=body.data, actor=principal.actor,
        corrected_from=body.corrected_from,
    )  # fmt: skip
    conn.commit()
    return record


@router.get("/{issue_id}/records")
def list_records(issue_id: UUID, conn: Conn, principal: Reader, page: Paging) -> Page[IssueRecord]:
    """The issue's ledger in chain order, with hashes."""
    return issues.list_issue_records(conn, tenant=principal.tenant, issue_id=issue_id, page=page)


@router.get("/{issue_id}/records/verify")
def verify_records(issue_id: UUID, conn: Conn, principal: Reader) -> IssueChainReport:
    """Recompute the issue's hash chain; report the first record that was altered or removed."""
    return issues.verify_issue_chain(conn, tenant=principal.tenant, issue_id=issue_id)
