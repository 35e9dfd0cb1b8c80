"""Ground truth as JSON lines: every emitted event with its cause, and every degradation with its timeline.

A detection job is scored against this file: which unit, which component (serial and batch), what started
when, when it failed (if it did within the run) and which event code the unit published then.
- kind "fault" / "event" / "alarm": one line per published event message (`event_at` is its `ts`), wear
  failures included (their cause is the wear process).
- kind "degradation": one line per wear process under way during the run, written when the run ends;
  `event_code`/`event_at` point at the failure's event when it failed within the run and raised one;
  `predicted_failure_at` is the nominal end of the wear, `failure_at` when it really failed; `detected_at`,
  `repaired_at` and `magnitude` (severity left, 0 when the part was replaced) tell a visit that found it.
- kind "confounder": one line per episode overlapping the run (simulators.confounders), written when the run
  ends, plus one per maintenance visit (cause "inspection_period"): `cause` is its type, `onset_at`/`ends_at`
  its window, `signal` and `magnitude` what it did.
Faults carry `precursor`: true when wear announced them, false for the faults that come with no warning.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import IO

import msgspec
import numpy as np

from models.telemetry.contract import EVENT_CATALOGUE
from models.telemetry.simulation_labels import Label, read_labels
from simulators.degradation import PROCESSES
from simulators.engine import Incident, Simulation
from simulators.fleet import Fleet
from simulators.messages import to_datetime

__all__ = ["Label", "LabelWriter", "read_labels"]


def _component(fleet: Fleet, unit: int, component_type: str | None) -> dict[str, object]:
    if component_type is None:
        return {}
    part = fleet.components[unit][component_type]
    return {
        "component_type": component_type,
        "component_serial": part.serial,
        "batch_lot": part.batch.lot,
        "batch_defective": part.batch.defective,
    }


def _optional_time(ts: float | None) -> datetime | None:
    return to_datetime(ts) if ts is not None and np.isfinite(ts) else None


class LabelWriter:
    """Appends labels to a JSONL file as the run goes (degradations at the end)."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._file: IO[bytes] = path.open("wb")
        self._encoder = msgspec.json.Encoder()
        self.count = 0

    def _write(self, label: Label) -> None:
        self._file.write(self._encoder.encode(label) + b"\n")
        self.count += 1

    def incident(self, fleet: Fleet, incident: Incident) -> None:
        """Record a published event with its cause (and a visit's inspection period as a confounder)."""
        at = to_datetime(incident.ts)
        unit_id = fleet.unit_ids[incident.unit]
        self._write(
            Label(
                kind=EVENT_CATALOGUE[incident.code].category.value,
                unit_id=unit_id,
                cause=incident.cause,
                onset_at=at,
                event_code=incident.code,
                event_at=at,
                precursor=incident.precursor,
                arrived_at=_optional_time(incident.arrived_at),
                ends_at=_optional_time(incident.released_at),
                **_component(fleet, incident.unit, incident.component_type),  # type: ignore[arg-type]
            )
        )
        if incident.cause == "maintenance_visit" and incident.ends_at is not None:
            self._write(
                Label(kind="confounder", unit_id=unit_id, cause="inspection_period", onset_at=at,
                      ends_at=to_datetime(incident.ends_at))
            )  # fmt: skip

    def confounders(self, sim: Simulation, *, until: float) -> None:
        """Record every confounder episode overlapping the run (from its start to `until`)."""
        for name, unit, start, end, signal, magnitude in sim.confounders.episodes(sim.start_s, until):
            self._write(
                Label(kind="confounder", unit_id=sim.fleet.unit_ids[unit], cause=name, onset_at=to_datetime(start),
                      ends_at=to_datetime(end), signal=signal, magnitude=round(magnitude, 4) if magnitude else None)
            )  # fmt: skip

    def degradations(self, sim: Simulation, *, until: float) -> None:
        """Record every wear process that had started by `until` (epoch seconds)."""
        fleet = sim.fleet
        for p, process in enumerate(PROCESSES):
            for u in np.flatnonzero(fleet.onset[p] <= until):
                failed, residual = float(sim.failed_at[p, u]), float(sim.residual[p, u])
                emitted = process.failure_event is not None and np.isfinite(failed)
                self._write(
                    Label(
                        kind="degradation",
                        unit_id=fleet.unit_ids[u],
                        cause=process.cause,
                        onset_at=to_datetime(float(fleet.onset[p, u])),
                        event_code=process.failure_event if emitted else None,
                        event_at=_optional_time(failed) if emitted else None,
                        predicted_failure_at=to_datetime(float(fleet.onset[p, u] + fleet.ttf_s[p, u])),
                        failure_at=_optional_time(failed),
                        repaired_at=_optional_time(float(sim.repaired_at[p, u])),
                        detected_at=_optional_time(float(sim.detected_at[p, u])),
                        magnitude=None if np.isnan(residual) else round(residual, 4),
                        **_component(fleet, int(u), process.component_type),  # type: ignore[arg-type]
                    )
                )

    def flush(self) -> None:
        """Push written labels to the file (a live run's labels are readable while it runs)."""
        self._file.flush()

    def close(self) -> None:
        """Flush and close the file."""
        self._file.close()
