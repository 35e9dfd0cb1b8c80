"""Confounders show in the published telemetry where (and only where) their labels say, and are all labelled."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from pathlib import Path

import pytest

from models.telemetry.contract import TelemetrySample, decode_telemetry, parse_topic
from models.telemetry.simulation_labels import Label
from simulators.confounders import CONFOUNDERS
from simulators.labels import read_labels
from tests.simulators.support import START, Replay, replay

PERIOD_S = 300.0
# A skewed gateway may stamp a sample this far from its true time (simulators.confounders clock_skew).
MAX_SKEW_S = 240.0
# Rates raised so that a small, short run holds every kind of episode.
SCALE = 60.0


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Replay:
    return replay(Path(tmp_path_factory.mktemp("confounders")), units=30, days=1.5, seed=5, sample_period_s=PERIOD_S,
                  hazard_scale=0.0, confounder_scale=SCALE)  # fmt: skip


@pytest.fixture(scope="module")
def samples(run: Replay) -> dict[str, list[TelemetrySample]]:
    by_unit: dict[str, list[TelemetrySample]] = defaultdict(list)
    for topic, payload in run.recorder.of_kind("telemetry"):
        by_unit[parse_topic(topic).unit_id].extend(decode_telemetry(payload))
    return by_unit


def _confounders(run: Replay, cause: str) -> list[Label]:
    found = [label for label in read_labels(run.labels) if label.kind == "confounder" and label.cause == cause]
    assert found, f"no {cause} in the run"
    return found


def _inside(
    samples: list[TelemetrySample], start: datetime, end: datetime, margin_s: float = 0.0
) -> list[TelemetrySample]:
    return [s for s in samples if start.timestamp() + margin_s <= s.ts.timestamp() < end.timestamp() - margin_s]


def test_every_kind_of_confounder_is_labelled_with_its_window(run: Replay) -> None:
    labels = [label for label in read_labels(run.labels) if label.kind == "confounder"]
    kinds = {label.cause for label in labels}
    assert {spec.name for spec in CONFOUNDERS} | {"inspection_period"} <= kinds
    for label in labels:
        assert label.ends_at is not None
        assert label.onset_at < label.ends_at


def test_dropouts_leave_gaps(run: Replay, samples: dict[str, list[TelemetrySample]]) -> None:
    for label in _confounders(run, "dropout"):
        margin = PERIOD_S + MAX_SKEW_S
        assert not _inside(samples[label.unit_id], label.onset_at, label.ends_at, margin_s=margin)  # type: ignore[arg-type]


def test_stuck_values_do_not_move(run: Replay, samples: dict[str, list[TelemetrySample]]) -> None:
    checked = 0
    for label in _confounders(run, "stuck_value"):
        assert label.signal is not None
        window = _inside(samples[label.unit_id], label.onset_at, label.ends_at, margin_s=PERIOD_S + MAX_SKEW_S)  # type: ignore[arg-type]
        values = {getattr(s, label.signal) for s in window}
        if len(window) >= 3:
            checked += 1
            assert len(values) == 1, label
    assert checked


def test_clock_skew_shifts_the_published_time(run: Replay, samples: dict[str, list[TelemetrySample]]) -> None:
    # A unit's samples lie on its own grid of the sample period; a skewed gateway's are off it by the skew.
    for label in _confounders(run, "clock_skew"):
        assert label.magnitude is not None
        unit = samples[label.unit_id]
        window = _inside(unit, label.onset_at, label.ends_at, margin_s=abs(label.magnitude) + PERIOD_S)  # type: ignore[arg-type]
        phase = run.fleet.sample_phase[run.fleet.unit_ids.index(label.unit_id)]
        grid = (START.timestamp() + phase * PERIOD_S) % PERIOD_S
        for sample in window:
            offset = (sample.ts.timestamp() - grid - label.magnitude) % PERIOD_S
            assert min(offset, PERIOD_S - offset) < 0.01


def test_late_flush_arrives_after_newer_data(run: Replay) -> None:
    messages = [(parse_topic(t).unit_id, decode_telemetry(p)) for t, p in run.recorder.of_kind("telemetry")]
    for label in _confounders(run, "late_flush"):
        assert label.ends_at is not None
        first_late = next(
            (i for i, (unit, batch) in enumerate(messages)
             if unit == label.unit_id and label.onset_at <= batch[-1].ts < label.ends_at), None,
        )  # fmt: skip
        if first_late is None:
            continue
        newest_before = max(batch[-1].ts for _, batch in messages[: first_late + 1])
        assert newest_before >= label.ends_at


def test_no_confounders_when_scaled_to_zero(tmp_path: Path) -> None:
    result = replay(tmp_path, units=6, days=0.5, confounder_scale=0.0, hazard_scale=0.0, sample_period_s=PERIOD_S)
    causes = {label.cause for label in read_labels(result.labels) if label.kind == "confounder"}
    assert causes <= {"inspection_period"}
