"""Health scores 0-100 and degradation verdicts from an assessment, each with the features behind it.

A feature's deviation d (in robust spreads, harmful direction) maps to health 100 * (1 - d / (2 T)) clipped to
0-100, T the alarm threshold: a feature at its baseline is 100, one at the threshold 50, twice past it 0.
A component's health is its worst feature's; the unit's is its worst feature's of all.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from brain.detection.baselines import FLEET_FEATURES, Assessment
from brain.detection.detector import DEFAULT_THRESHOLD
from models.monitoring.health import UNIT_COMPONENT, HealthRow

__all__ = ["CLOSE_THRESHOLD", "OPEN_THRESHOLD", "Verdict", "health_rows", "verdicts"]

# A finding opens past the detector's threshold and closes only well below it (hysteresis: no flapping).
OPEN_THRESHOLD = DEFAULT_THRESHOLD
CLOSE_THRESHOLD = DEFAULT_THRESHOLD / 2
# Severity by how far past the threshold the worst feature is.
MAJOR_FACTOR = 3.0
MINOR_FACTOR = 1.5
# Reasons name at most this many features (the worst first), so a reason stays readable.
MAX_REASONS = 4

_COMPONENT_OF = {spec.name: spec.component for spec in FLEET_FEATURES}
COMPONENTS = tuple(sorted({spec.component for spec in FLEET_FEATURES if spec.component}))


@dataclass(frozen=True)
class Verdict:
    """Whether a component of a unit degrades now, with the evidence."""

    component_type: str
    score: float
    degrading: bool
    recovered: bool
    severity: str
    reason: str
    evidence: list[dict[str, Any]]


def _health(deviation: float) -> float:
    return round(min(100.0, max(0.0, 100.0 * (1.0 - max(deviation, 0.0) / (2 * OPEN_THRESHOLD)))), 1)


def _evidence(assessment: Assessment, names: list[str]) -> list[dict[str, Any]]:
    worst = sorted(names, key=lambda name: -assessment.deviations[name])[:MAX_REASONS]
    return [
        {
            "feature": name,
            "value": round(assessment.values[name], 4),
            "baseline": round(assessment.baseline[name], 4),
            "spread": round(assessment.spread[name], 4),
            "deviation": round(assessment.deviations[name], 2),
        }
        for name in worst
    ]


def _describe(component: str, evidence: list[dict[str, Any]]) -> str:
    parts = [
        f"{e['feature']} {e['value']:g} vs baseline {e['baseline']:g} ({e['deviation']:+.1f} spreads)" for e in evidence
    ]
    return f"{component}: " + "; ".join(parts)


def _severity(score: float) -> str:
    if score >= MAJOR_FACTOR * OPEN_THRESHOLD:
        return "major"
    return "minor" if score >= MINOR_FACTOR * OPEN_THRESHOLD else "warning"


def verdicts(assessment: Assessment) -> list[Verdict]:
    """One verdict per monitored component the assessment could judge."""
    found = []
    for component in COMPONENTS:
        names = [name for name in assessment.deviations if _COMPONENT_OF[name] == component]
        if not names:
            continue
        evidence = _evidence(assessment, names)
        score = max(assessment.deviations[name] for name in names)
        found.append(
            Verdict(
                component,
                score,
                score >= OPEN_THRESHOLD,
                score < CLOSE_THRESHOLD,
                _severity(score),
                _describe(component, evidence),
                evidence,
            )
        )
    return found


def health_rows(assessment: Assessment) -> list[HealthRow]:
    """The unit's health and each judged component's, with reasons; an unjudged unit gets a null score."""
    if not assessment.judged:
        return [HealthRow(UNIT_COMPONENT, None, [{"reason": assessment.reason}])]
    rows = []
    for verdict in verdicts(assessment):
        rows.append(HealthRow(verdict.component_type, _health(verdict.score), verdict.evidence))
    all_names = list(assessment.deviations)
    worst = max(assessment.deviations[name] for name in all_names)
    reasons = [*_evidence(assessment, all_names), {"reason": assessment.reason}]
    rows.append(HealthRow(UNIT_COMPONENT, _health(worst), reasons))
    return rows
