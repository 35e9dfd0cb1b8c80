"""Encode what the simulation produced as contract messages (models/telemetry/contract.py), one batch per unit."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from itertools import compress
from typing import Any, Literal

import msgspec
import numpy as np

from models.telemetry.contract import EventMessage, StatusMessage, TelemetryBatch, TelemetrySample
from simulators.engine import Incident
from simulators.sampling import Snapshot

__all__ = ["event_payload", "status_payload", "telemetry_payloads", "to_datetime"]

_DOOR_NAMES: tuple[Literal["closed", "opening", "open", "closing", "blocked"], ...] = (
    "closed",
    "opening",
    "open",
    "closing",
    "blocked",
)
# Controllers report a few significant digits; shorter numbers keep messages (and the ingest's work) small.
_DECIMALS = 3
_ENCODER = msgspec.json.Encoder()


def to_datetime(ts: float) -> datetime:
    """An epoch-seconds instant as an aware UTC datetime, to the millisecond (as published and labelled)."""
    return datetime.fromtimestamp(round(ts, 3), UTC)


# Each signal's decimals (None: an integer or a flag, sent as is), in the order of TelemetrySample's fields.
_SIGNALS: tuple[tuple[str, int | None], ...] = (
    ("floor", None), ("position_m", 3), ("direction", None), ("speed_mps", 3), ("load_pct", 1),
    ("door_state", None), ("motor_current_a", 2), ("motor_temp_c", 2), ("drive_temp_c", 2),
    ("brake_engaged", None), ("levelling_error_mm", 1), ("trip_count", None), ("door_cycles", None),
    ("energy_kwh", 3), ("standby_power_w", 1),
)  # fmt: skip
# The diagnostic signals (door timings, high-frequency vibration, stop distance): attribute -> field, decimals.
_DIAGNOSTICS: tuple[tuple[str, str, int | None], ...] = (
    ("door_open_s", "door_open_s", 2), ("door_close_s", "door_close_s", 2), ("door_reopens", "door_reopens", None),
    ("vibration_hf", "vibration_hf_rms", 4), ("stop_distance_mm", "stop_distance_mm", 1),
)  # fmt: skip
_DOOR_NAME_OF = np.array(_DOOR_NAMES, dtype=object)


def _stacked(block: list[Snapshot], name: str, decimals: int | None = _DECIMALS) -> np.ndarray:
    """One signal over the block as (unit, step), rounded in one numpy call."""
    stacked = np.stack([getattr(snapshot, name) for snapshot in block], axis=1)
    return stacked if decimals is None else np.round(stacked, decimals)


def _unit_columns(block: list[Snapshot]) -> dict[str, list[Any]]:
    """Every field of TelemetrySample as a list per unit of its values per step (Python values, ready to encode)."""
    ts = _stacked(block, "ts", 3).tolist()
    columns: dict[str, list[Any]] = {"ts": [[datetime.fromtimestamp(t, UTC) for t in unit] for unit in ts]}
    for name, decimals in _SIGNALS:
        values = _stacked(block, name, decimals)
        columns[name] = (_DOOR_NAME_OF[values] if name == "door_state" else values).tolist()
    vibration = np.round(np.stack([snapshot.vibration for snapshot in block], axis=1), _DECIMALS)  # unit, step, axis
    for axis, name in enumerate(("vibration_x", "vibration_y", "vibration_z")):
        columns[name] = vibration[:, :, axis].tolist()
    for attribute, field, decimals in _DIAGNOSTICS:
        columns[field] = _stacked(block, attribute, decimals).tolist()
    columns["extras"] = [[None] * len(block) for _ in ts]  # every signal the simulator has is a typed field
    return columns


def telemetry_payloads(block: list[Snapshot]) -> Iterator[tuple[int, bytes, int]]:
    """(unit index, payload, sample count) for each unit that reported during the block.

    Samples are built positionally from per-unit columns (numpy rounds and converts whole signals at once):
    per-field keyword construction was most of the generation time (bench/simulator.py).
    """
    reporting = np.stack([snapshot.reporting for snapshot in block], axis=1)
    columns = _unit_columns(block)
    fields = [columns[name] for name in TelemetrySample.__struct_fields__]  # KeyError: a field not generated
    for unit, unit_reporting in enumerate(reporting):
        rows = zip(*(field[unit] for field in fields), strict=True)
        if not unit_reporting.all():
            rows = compress(rows, unit_reporting.tolist())  # type: ignore[assignment]
        samples = [TelemetrySample(*row) for row in rows]
        if samples:
            yield unit, _ENCODER.encode(TelemetryBatch(samples=samples)), len(samples)


def event_payload(incident: Incident) -> bytes:
    """The event message of an incident (its ground-truth cause stays out of it)."""
    return _ENCODER.encode(EventMessage(ts=to_datetime(incident.ts), code=incident.code, floor=incident.floor))  # type: ignore[arg-type]


def status_payload(*, online: bool, ts: float) -> bytes:
    """A retained status message."""
    return _ENCODER.encode(StatusMessage(state="online" if online else "offline", ts=to_datetime(ts)))
