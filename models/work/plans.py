"""Maintenance plans as versioned data: one JSON file per plan under `plan_data/`, validated when loaded.

A plan names its intervals (TSG T5002: half-monthly, quarterly, semi-annual, annual) and its items, each with
how it is judged: by eye (qualitative), by a measured value against the plan's own limit, or by a measured
value against the manufacturer's limit. Another jurisdiction's plan (EN 13015 style) is another file.
"""

from __future__ import annotations

import json
from enum import StrEnum
from functools import cache
from importlib import resources
from typing import Annotated, Self

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from models.errors import NotFound
from models.types import Code, Text

__all__ = [
    "DEFAULT_PLAN_BY_DRIVE",
    "Judged",
    "PlanDefinition",
    "PlanInterval",
    "PlanItem",
    "available_plans",
    "load_plan",
]

ItemCode = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,31}$")]
# The plan a unit gets by its drive type when nobody chose one (hydraulic lifts have their own annex: no file yet).
DEFAULT_PLAN_BY_DRIVE = {
    "traction_geared": "tsg_t5002_traction",
    "traction_gearless": "tsg_t5002_traction",
    "mrl": "tsg_t5002_traction",
}


class Judged(StrEnum):
    """How an item is judged on site."""

    QUALITATIVE = "qualitative"  # pass or fail by inspection
    MEASURED = "measured"  # a value with a unit, against the plan's min/max
    MANUFACTURER_LIMIT = "manufacturer_limit"  # a value with a unit, against the manufacturer's figure


class PlanInterval(BaseModel):
    """One interval of a plan; `on_demand` marks the routine interval monitoring may stretch."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    code: Code
    days: int = Field(ge=1, le=3660)
    on_demand: bool = False


class PlanItem(BaseModel):
    """One checklist item."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    code: ItemCode
    interval: Code
    text: Annotated[str, StringConstraints(min_length=1, max_length=500)]
    judged: Judged
    unit: Text | None = None
    min: float | None = None
    max: float | None = None
    evidence_required: bool = False

    @model_validator(mode="after")
    def _check_judgement(self) -> Self:
        if self.judged is Judged.QUALITATIVE and (self.unit or self.min is not None or self.max is not None):
            raise ValueError(f"item {self.code}: a qualitative item has no unit or limits")
        if self.judged is not Judged.QUALITATIVE and not self.unit:
            raise ValueError(f"item {self.code}: a {self.judged} item needs a unit")
        if self.judged is Judged.MEASURED and self.min is None and self.max is None:
            raise ValueError(f"item {self.code}: a measured item needs a min or a max")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"item {self.code}: min above max")
        return self

    def within_limits(self, value: float) -> bool:
        """True when `value` meets the plan's limits (items judged against the manufacturer have none here)."""
        return (self.min is None or value >= self.min) and (self.max is None or value <= self.max)


class PlanDefinition(BaseModel):
    """A whole plan: its identity and version, where it comes from, its intervals and items."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    code: Code
    version: Annotated[str, StringConstraints(min_length=1, max_length=32)]
    title: Text
    jurisdiction: Annotated[str, StringConstraints(min_length=2, max_length=8)]
    source: Annotated[str, StringConstraints(min_length=1, max_length=500)]
    intervals: tuple[PlanInterval, ...] = Field(min_length=1)
    items: tuple[PlanItem, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _check_references(self) -> Self:
        codes = [i.code for i in self.intervals]
        if len(set(codes)) != len(codes):
            raise ValueError("interval codes repeat")
        if [i.days for i in self.intervals] != sorted(i.days for i in self.intervals):
            raise ValueError("intervals must be listed shortest first (visits are cumulative)")
        if sum(i.on_demand for i in self.intervals) > 1:
            raise ValueError("at most one interval may be stretched on demand")
        items = [i.code for i in self.items]
        if len(set(items)) != len(items):
            raise ValueError("item codes repeat")
        unknown = sorted({i.interval for i in self.items} - set(codes))
        if unknown:
            raise ValueError(f"items name unknown intervals: {unknown}")
        return self

    def interval(self, code: str) -> PlanInterval:
        """The interval called `code`."""
        return next(i for i in self.intervals if i.code == code)

    @property
    def routine(self) -> PlanInterval | None:
        """The interval on-demand maintenance may stretch, if the plan has one."""
        return next((i for i in self.intervals if i.on_demand), None)

    def cumulative(self, due: set[str]) -> list[str]:
        """The intervals a visit covers when `due` are due: those and every shorter one (cumulative visits)."""
        longest = max(n for n, i in enumerate(self.intervals) if i.code in due)
        return [i.code for i in self.intervals[: longest + 1]]

    def items_for(self, intervals: list[str]) -> dict[str, PlanItem]:
        """The items a visit covering `intervals` must report, by code."""
        return {i.code: i for i in self.items if i.interval in intervals}


def available_plans() -> list[str]:
    """The codes of the plans shipped as data files."""
    folder = resources.files("models.work").joinpath("plan_data")
    return sorted(entry.name.removesuffix(".json") for entry in folder.iterdir() if entry.name.endswith(".json"))


@cache
def load_plan(code: str) -> PlanDefinition:
    """The plan `code`, validated (NotFound when there is no such file; a malformed file is a ValueError)."""
    if code not in available_plans():
        raise NotFound(f"no such maintenance plan: {code}")
    text = resources.files("models.work").joinpath("plan_data", f"{code}.json").read_text(encoding="utf-8")
    plan = PlanDefinition.model_validate(json.loads(text))
    if plan.code != code:
        raise ValueError(f"plan file {code}.json declares code {plan.code}")
    return plan
