"""Event rules as data: `alarm_policies.json` maps every code of the event catalogue to an alarm policy.

The file is loaded and validated at import, so a catalogue code without a policy (or a policy naming an
unknown code) stops every process at start instead of silently raising nothing.
"""

from __future__ import annotations

from enum import StrEnum
from importlib import resources
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, ValidationError, model_validator

from models.telemetry.contract import EVENT_CATALOGUE

__all__ = [
    "CLEARED_BY",
    "POLICIES",
    "SERVICE_CODES",
    "AlarmPolicy",
    "DuringService",
    "PolicyError",
    "Severity",
    "load_policies",
]

POLICY_FILE = "alarm_policies.json"


class PolicyError(ValueError):
    """The policy file is not a valid mapping of the event catalogue."""


class Severity(StrEnum):
    """How urgent an alarm is, most urgent first."""

    CRITICAL = "critical"
    MAJOR = "major"
    MINOR = "minor"
    WARNING = "warning"

    @property
    def rank(self) -> int:
        """Higher is more urgent."""
        return _RANK[self]

    def downgraded(self) -> Severity:
        """One level less urgent (warning stays warning; critical is never downgraded by policy)."""
        return _ORDER[max(_RANK[self] - 1, 0)]


_ORDER = (Severity.WARNING, Severity.MINOR, Severity.MAJOR, Severity.CRITICAL)
_RANK = {severity: rank for rank, severity in enumerate(_ORDER)}


class DuringService(StrEnum):
    """What inspection mode or a work order in progress does to an alarm."""

    SUPPRESS = "suppress"  # recorded and flagged suppressed: not something to act on
    DOWNGRADE = "downgrade"  # one severity level lower
    KEEP = "keep"  # unchanged (safety faults, building emergencies)


class AlarmPolicy(BaseModel):
    """What one event code does to alarms."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)
    severity: Severity | None
    safety: StrictBool
    auto_clear: StrictBool
    cleared_by: tuple[str, ...]
    component: str | None
    during_service: DuringService
    service: Literal["enter", "leave"] | None

    @model_validator(mode="after")
    def _consistent(self) -> AlarmPolicy:
        if self.safety and (self.severity is not Severity.CRITICAL or self.during_service is not DuringService.KEEP):
            raise ValueError("a safety fault is critical and never suppressed or downgraded")
        if self.severity is Severity.CRITICAL and self.during_service is not DuringService.KEEP:
            raise ValueError("a critical alarm is never suppressed or downgraded")
        if self.auto_clear != bool(self.cleared_by):
            raise ValueError("auto_clear needs the events that clear it, and only auto_clear has them")
        if self.severity is None and self.auto_clear:
            raise ValueError("a code that raises no alarm has nothing to clear")
        return self


class _PolicyDocument(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    doc: str = Field("", alias="_doc")
    policies: dict[str, AlarmPolicy]


def load_policies(text: str) -> dict[str, AlarmPolicy]:
    """Parse and check a policy document against the event catalogue, or raise PolicyError naming the problem."""
    try:
        policies = _PolicyDocument.model_validate_json(text).policies
    except ValidationError as exc:
        raise PolicyError(f"{POLICY_FILE}: {exc}") from None
    missing = sorted(set(EVENT_CATALOGUE) - set(policies))
    if missing:
        raise PolicyError(f"{POLICY_FILE}: no policy for event code(s) {', '.join(missing)}")
    unknown = sorted(set(policies) - set(EVENT_CATALOGUE))
    if unknown:
        raise PolicyError(f"{POLICY_FILE}: policies for unknown event code(s) {', '.join(unknown)}")
    for code, policy in policies.items():
        strangers = sorted(set(policy.cleared_by) - set(EVENT_CATALOGUE))
        if strangers:
            raise PolicyError(f"{POLICY_FILE}: {code} is cleared by unknown code(s) {', '.join(strangers)}")
    return policies


POLICIES: dict[str, AlarmPolicy] = load_policies(
    resources.files("models.monitoring").joinpath(POLICY_FILE).read_text(encoding="utf-8")
)
# For each code: the alarm types (codes) whose alarms it clears.
CLEARED_BY: dict[str, tuple[str, ...]] = {
    code: tuple(sorted(other for other, policy in POLICIES.items() if code in policy.cleared_by)) for code in POLICIES
}
# Codes that put a unit into inspection ("enter") or end it ("leave"), as the rules read them.
SERVICE_CODES: dict[str, Literal["enter", "leave"]] = {
    code: policy.service for code, policy in POLICIES.items() if policy.service is not None
}
