"""Checklists: what a crew reports per item, and how it is judged against the plan.

Every item of the visit exactly once and nothing else; a measured value in the item's unit, judged against the
plan's limits (the crew's verdict must agree); a value against the manufacturer's limit with the crew's verdict;
evidence where the plan marks the item as a test.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from models.errors import BadRequest
from models.types import LongText, Text, Timestamp
from models.work.plans import Judged, PlanItem

__all__ = ["ItemResult", "Outcome", "VisitCompletion", "judge_checklist"]

# A checklist is at most the whole plan (TSG T5002 traction: 75 items); this bounds a hostile body.
MAX_RESULTS = 500
MAX_EVIDENCE = 20

Value = Annotated[float, Field(strict=True, allow_inf_nan=False, ge=-1e9, le=1e9)]


class Outcome(StrEnum):
    """The verdict on one item."""

    PASS = "pass"  # noqa: S105  (a verdict, not a secret)
    FAIL = "fail"


class ItemResult(BaseModel):
    """One checklist item as the crew reports it: a verdict, or a measured value with its unit, or both."""

    model_config = ConfigDict(extra="forbid")
    item: Text
    outcome: Outcome | None = None
    value: Value | None = None
    unit: Text | None = None
    evidence: list[Text] = Field(default_factory=list, max_length=MAX_EVIDENCE)
    note: LongText | None = None


class VisitCompletion(BaseModel):
    """A visit's checklist; `completed_at` is the crew's own time, `idempotency_key` makes a resend harmless."""

    model_config = ConfigDict(extra="forbid")
    results: list[ItemResult] = Field(min_length=1, max_length=MAX_RESULTS)
    completed_at: Timestamp | None = None
    idempotency_key: Text | None = None


def _judge(item: PlanItem, result: ItemResult) -> Outcome:
    """The item's outcome, or BadRequest saying what is missing or contradictory."""
    if item.judged is Judged.QUALITATIVE:
        if result.value is not None or result.outcome is None:
            raise BadRequest(f"item {item.code} is judged by inspection: give an outcome and no value")
        outcome = result.outcome
    else:
        if result.value is None or result.unit != item.unit:
            raise BadRequest(f"item {item.code} needs a measured value in {item.unit}")
        if item.judged is Judged.MEASURED:
            outcome = Outcome.PASS if item.within_limits(result.value) else Outcome.FAIL
            if result.outcome not in (None, outcome):
                raise BadRequest(f"item {item.code}: {result.value} {item.unit} is a {outcome}, not a {result.outcome}")
        elif result.outcome is None:
            raise BadRequest(f"item {item.code}: say whether the value is within the manufacturer's limit")
        else:
            outcome = result.outcome
    if item.evidence_required and not result.evidence:
        raise BadRequest(f"item {item.code} is a test: give evidence (a photo or report reference)")
    return outcome


def judge_checklist(items: dict[str, PlanItem], results: list[ItemResult]) -> list[tuple[ItemResult, Outcome]]:
    """Each result with its outcome, or BadRequest: every item of the visit once, nothing else, each judged right."""
    codes = [r.item for r in results]
    repeated = sorted({c for c in codes if codes.count(c) > 1})
    if repeated:
        raise BadRequest(f"items reported twice: {', '.join(repeated)}")
    unknown = sorted(set(codes) - set(items))
    if unknown:
        raise BadRequest(f"items not in this visit's plan: {', '.join(unknown[:20])}")
    missing = sorted(set(items) - set(codes))
    if missing:
        raise BadRequest(f"items of this visit not reported: {', '.join(missing[:20])}")
    return [(r, _judge(items[r.item], r)) for r in results]
