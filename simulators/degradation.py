"""Degradation processes: which component wears, how fast, how it shows, how it ends, how a crew finds it.

Each process has an onset (hidden ground truth) and a nominal time to failure of months to years. Between them
a severity grows as ((t - onset) / ttf) ** shape: slow at first, faster near the end, which is how wear usually
looks in condition data. The physics (simulators/physics.py) turns severity into signals. The unit does not
fail exactly at the nominal time: each component fails at its own point, `ttf * fail_factor` (so the label's
predicted failure is a good guess, not an oracle). A half-monthly maintenance visit finds wear with a chance
that grows with severity and fixes it, fully or (sometimes) only partly, leaving a residual severity that
keeps growing. Figures and their sources: simulators/CALIBRATION.md.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from simulators.rng import FloatArray

__all__ = [
    "DEFECTIVE_HAZARD_FACTOR",
    "FAIL_FACTOR_RANGE",
    "FAIL_FACTOR_SIGMA",
    "MAX_PROGRESS",
    "PROCESSES",
    "Process",
    "age_factor",
    "detection_probability",
    "severity",
]


@dataclass(frozen=True)
class Process:
    """One degradation process of one component type."""

    cause: str
    component_type: str
    # Onsets per component-year for a good batch in a unit of mid age (a defective batch multiplies it).
    onset_per_year: float
    ttf_days: tuple[float, float]
    shape: float
    # Event the controller raises at failure; None when the failure is only a tolerance being exceeded.
    failure_event: str | None
    repair_hours: tuple[float, float]
    # Chance that a visit finds this wear at full severity (a crew sees worn rollers, not a tired bearing).
    detect_at_full: float


PROCESSES: tuple[Process, ...] = (
    Process("door_roller_wear", "door_rollers", 0.25, (60.0, 240.0), 1.6, "door_close_fault", (1.0, 4.0), 0.7),
    Process("brake_lining_wear", "brake", 0.06, (120.0, 420.0), 2.0, "unintended_car_movement", (4.0, 12.0), 0.6),
    Process("bearing_wear", "bearing", 0.06, (90.0, 365.0), 2.2, "motor_runtime_limiter", (6.0, 24.0), 0.35),
    Process("rope_stretch", "ropes", 0.05, (180.0, 720.0), 1.0, "out_of_service", (3.0, 10.0), 0.5),
    Process("drive_overheating", "drive", 0.10, (30.0, 150.0), 1.5, "no_restart", (2.0, 6.0), 0.5),
)

# Defective lots wear this many times as often: a handful of bad lots then explains most field failures.
DEFECTIVE_HAZARD_FACTOR = 6.0
# Spread of the actual failure point around the nominal time to failure (lognormal sigma).
FAIL_FACTOR_SIGMA = 0.2
FAIL_FACTOR_RANGE = (0.6, 1.5)
# Progress is capped here: a unit failing late runs with wear a little beyond the nominal end state.
MAX_PROGRESS = 1.6
# Age: new installations have teething faults for a year; from AGE_WEAR_FROM years hazards rise per year.
INFANT_FACTOR = 1.5
AGE_WEAR_FROM = 10.0
AGE_WEAR_PER_YEAR = 0.05
# Severity below which a crew rarely notices anything (slope of the detection curve).
DETECTION_SCALE = 0.35


def severity(t: FloatArray, onset: FloatArray, ttf_s: FloatArray, shape: float) -> FloatArray:
    """Severity at times `t` (seconds) of processes starting at `onset` lasting `ttf_s` nominally."""
    # A process without onset has onset = +inf: the progress clips to 0 without a special case.
    return np.clip((t - onset) / ttf_s, 0.0, MAX_PROGRESS) ** shape


def age_factor(age_years: FloatArray) -> FloatArray:
    """Hazard multiplier by equipment age: teething faults in year one, then a rise after ten years."""
    return np.where(age_years < 1.0, INFANT_FACTOR, 1.0 + AGE_WEAR_PER_YEAR * np.maximum(age_years - AGE_WEAR_FROM, 0))


def detection_probability(level: FloatArray, detect_at_full: float, skill: FloatArray) -> FloatArray:
    """Chance that a visit finds wear of this severity (0 when there is none)."""
    # Normalised so that wear at severity 1 is found with probability detect_at_full * skill.
    found: FloatArray = (
        detect_at_full
        * skill
        * (1.0 - np.exp(-np.minimum(level, 1.0) / DETECTION_SCALE))
        / (1.0 - np.exp(-1.0 / DETECTION_SCALE))
    )
    return found
