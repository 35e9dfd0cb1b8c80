"""The labels file matches what was published: every event has its label, and every label its event."""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from pathlib import Path

from models.telemetry.contract import decode_event, parse_topic
from simulators.degradation import FAIL_FACTOR_RANGE
from simulators.labels import read_labels
from tests.simulators.support import replay


def test_every_published_event_has_a_label_and_vice_versa(tmp_path: Path) -> None:
    result = replay(tmp_path, units=60, days=2, hazard_scale=40, sample_period_s=120.0)
    published: Counter[tuple[str, str | None, datetime | None]] = Counter(
        (parse_topic(topic).unit_id, event.code, event.ts)
        for topic, payload in result.recorder.of_kind("event")
        for event in [decode_event(payload)]
    )
    labels = read_labels(result.labels)
    events = [label for label in labels if label.kind in ("fault", "event", "alarm")]
    assert published == Counter((label.unit_id, label.event_code, label.event_at) for label in events)
    # A wear failure's event is one of them; the degradation record points at it.
    failures = [label for label in labels if label.kind == "degradation" and label.event_code]
    assert failures
    assert all(published[(label.unit_id, label.event_code, label.event_at)] == 1 for label in failures)
    codes = {code for _, code, _ in published}
    assert {"inspection_mode", "back_to_normal", "door_close_fault"} <= codes


def test_labels_name_the_installed_component_and_its_batch(tmp_path: Path) -> None:
    result = replay(tmp_path, units=30, days=0.5, hazard_scale=40, sample_period_s=300.0)
    labels = read_labels(result.labels)
    with_component = [label for label in labels if label.component_type]
    assert with_component
    for label in with_component:
        assert label.component_type is not None
        part = result.fleet.components[result.fleet.unit_ids.index(label.unit_id)][label.component_type]
        assert (label.component_serial, label.batch_lot, label.batch_defective) == (
            part.serial, part.batch.lot, part.batch.defective,
        )  # fmt: skip


def test_degradation_labels_carry_onset_before_failure(tmp_path: Path) -> None:
    result = replay(tmp_path, units=60, days=2, hazard_scale=40, sample_period_s=600.0)
    wear = [label for label in read_labels(result.labels) if label.kind == "degradation"]
    assert wear
    failed = [label for label in wear if label.failure_at is not None]
    assert failed
    for label in wear:
        assert label.predicted_failure_at is not None
        assert label.onset_at < label.predicted_failure_at
    # A unit fails near its predicted time, not exactly at it.
    assert any(label.failure_at != label.predicted_failure_at for label in failed)
    for label in failed:
        assert label.failure_at is not None
        assert label.predicted_failure_at is not None
        nominal = (label.predicted_failure_at - label.onset_at).total_seconds()
        actual = (label.failure_at - label.onset_at).total_seconds()
        assert FAIL_FACTOR_RANGE[0] - 0.01 <= actual / nominal <= FAIL_FACTOR_RANGE[1] + 0.01 or label.detected_at
