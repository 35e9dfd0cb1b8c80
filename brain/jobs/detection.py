"""Daily detection pass: retrain family models when due, judge every active unit, record health and findings.

An open finding is a `degradation` alarm on the unit's component (raised again at each pass that still sees
it, so its count and last_seen follow the finding); a finding closed because the features are back within
baseline clears that alarm.

Units are judged on complete days only (the pass works at the start of the current UTC day). Each unit's
writes run in their own savepoint (brain.units.for_each_unit): one unit's failure is logged and skipped.
Running the pass again for the same day rewrites the same health rows and refreshes the same open findings.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import polars as pl

from brain.detection.baselines import BASELINE_DAYS, GUARD_DAYS, Assessment, FamilyModel, assess_units, train_family
from brain.detection.health import health_rows, verdicts
from brain.units import for_each_unit
from models.db import Connection
from models.monitoring.alarm_policies import Severity
from models.monitoring.alarms import clear_alarms, raise_alarm
from models.monitoring.detector_models import latest_model, save_model
from models.monitoring.features import ActiveUnit, active_units, read_features
from models.monitoring.findings import close_finding, upsert_finding
from models.monitoring.health import record_health

__all__ = ["ALARM_TYPE", "FLEET_FAMILY", "SOURCE", "run"]

log = logging.getLogger(__name__)

# Units whose family is unknown or too small share the model trained on the whole fleet.
FLEET_FAMILY = "fleet"
SOURCE = "detector:robust-baseline"
ALARM_TYPE = "degradation"
# A unit silent longer than this is not judged (presence raises its own alarm).
ACTIVE_WITHIN = timedelta(days=3)


def _stored(
    conn: Connection, family: str, history: pl.DataFrame, at: datetime, every: timedelta
) -> tuple[FamilyModel | None, int | None]:
    """The family's current model: the stored one if fresh enough, else a newly trained and stored version."""
    latest = latest_model(conn, family=family)
    if latest is not None and latest.trained_until > at - every:
        return FamilyModel.from_artifact(latest.artifact), latest.id
    model = train_family(family, history, at=at)
    if model is None:
        return None, None
    since = at - timedelta(days=GUARD_DAYS + BASELINE_DAYS)
    metrics = {
        "units": model.units,
        "days": model.days,
        "scale_floor": dict(zip(model.features, model.scale_floor, strict=True)),
    }
    saved = save_model(
        conn,
        family=family,
        trained_from=since,
        trained_until=at - timedelta(days=GUARD_DAYS),
        features=model.features,
        metrics=metrics,
        artifact=model.to_artifact(),
        created_at=at,
    )
    return model, saved.id


def _record(conn: Connection, assessment: Assessment, model_id: int | None) -> None:
    unit_id, at = assessment.unit_id, assessment.at
    record_health(conn, unit_id=unit_id, at=at, rows=health_rows(assessment), model_id=model_id)
    if not assessment.judged:
        return
    for verdict in verdicts(assessment):
        if verdict.degrading:
            assert assessment.window_start is not None
            assert assessment.window_end is not None
            finding_id = upsert_finding(
                conn,
                unit_id=unit_id,
                component_type=verdict.component_type,
                severity=verdict.severity,
                score=verdict.score,
                reason=verdict.reason,
                evidence=verdict.evidence,
                window_start=assessment.window_start,
                window_end=assessment.window_end,
                source=SOURCE,
                model_id=model_id,
                at=at,
            )
            evidence = {"finding_id": finding_id, "score": verdict.score, "features": verdict.evidence}
            raise_alarm(conn, unit_id=unit_id, alarm_type=ALARM_TYPE, severity=Severity(verdict.severity),
                        component_type=verdict.component_type, source=SOURCE, reason=verdict.reason,
                        evidence=evidence, at=at)  # fmt: skip
        elif verdict.recovered:
            reason = "features back within baseline"
            if close_finding(conn, unit_id=unit_id, component_type=verdict.component_type, at=at, reason=reason):
                clear_alarms(conn, unit_id=unit_id, alarm_type=ALARM_TYPE, component_type=verdict.component_type,
                             reason=reason, at=at)  # fmt: skip


def run(conn: Connection, *, now: datetime, retrain_every: timedelta = timedelta(days=1)) -> None:
    """Judge every active unit's last complete days; models older than `retrain_every` are retrained first."""
    at = now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    units = active_units(conn, since=at - ACTIVE_WITHIN)
    history = read_features(conn, window_hours=24, since=at - timedelta(days=GUARD_DAYS + BASELINE_DAYS), until=at)
    fleet = _stored(conn, FLEET_FAMILY, history, at, retrain_every)
    families: dict[str, list[ActiveUnit]] = {}
    for unit in units:
        families.setdefault(unit.family or FLEET_FAMILY, []).append(unit)
    judged: dict[str, tuple[Assessment, int | None]] = {}
    for family, members in families.items():
        ids = sorted(unit.unit_id for unit in members)
        model, model_id = fleet
        if family != FLEET_FAMILY:
            own = _stored(conn, family, history.filter(pl.col("unit_id").is_in(ids)), at, retrain_every)
            model, model_id = own if own[0] is not None else fleet
        for unit_id, assessment in assess_units(ids, history, at=at, models=dict.fromkeys(ids, model)).items():
            judged[unit_id] = (assessment, model_id)

    def record(c: Connection, unit_id: str) -> None:
        _record(c, *judged[unit_id])

    failed = len(for_each_unit(conn, sorted(judged), record, job="detection").failed)
    log.info("detection at %s: %d unit(s) judged, %d failed", at.date(), len(units), failed)
