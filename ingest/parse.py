"""Turn one MQTT message into rows, or into a rejection with its reason. Never raises."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from psycopg.types.json import Jsonb

from models.contract import (
    DOOR_STATES,
    EVENT_CATALOGUE,
    ContractError,
    MessageKind,
    TelemetrySample,
    check_time_window,
    decode_event,
    decode_status,
    decode_telemetry,
    parse_topic,
)
from models.telemetry import EventRow, TelemetryRow
from models.unit_presence import StatusChange

__all__ = ["Accepted", "Limits", "Parsed", "Rejected", "parse_message"]


@dataclass(frozen=True, slots=True)
class Limits:
    """What ingest accepts beyond the contract's types (from Settings)."""

    topic_prefix: str
    max_payload_bytes: int
    max_future: timedelta
    max_past: timedelta


@dataclass(slots=True)
class Accepted:
    """A valid message and the rows it becomes."""

    topic: str
    unit_id: str
    kind: MessageKind
    payload: bytes
    received_at: datetime
    telemetry: list[TelemetryRow] = field(default_factory=list)
    event: EventRow | None = None
    status: StatusChange | None = None


@dataclass(slots=True)
class Rejected:
    """A message for the dead-letter table."""

    topic: str
    unit_id: str | None
    reason: str
    payload: bytes
    received_at: datetime


Parsed = Accepted | Rejected


def _telemetry_row(unit_id: str, received_at: datetime, s: TelemetrySample) -> TelemetryRow:
    return (
        unit_id, s.ts, received_at, s.floor, s.position_m, s.direction, s.speed_mps, s.load_pct,
        None if s.door_state is None else DOOR_STATES[s.door_state],
        s.motor_current_a, s.motor_temp_c, s.drive_temp_c, s.vibration_x, s.vibration_y, s.vibration_z,
        s.brake_engaged, s.levelling_error_mm, s.trip_count, s.door_cycles, s.energy_kwh, s.standby_power_w,
        None if s.extras is None else Jsonb(s.extras),
    )  # fmt: skip


def _parse(topic: str, payload: bytes, received_at: datetime, limits: Limits) -> Parsed:
    try:
        parsed_topic = parse_topic(topic, prefix=limits.topic_prefix)
    except ContractError as exc:
        return Rejected(topic, None, f"bad topic: {exc}", payload, received_at)
    unit_id, kind = parsed_topic.unit_id, parsed_topic.kind
    if len(payload) > limits.max_payload_bytes:
        reason = f"payload of {len(payload)} bytes is over the {limits.max_payload_bytes}-byte limit"
        return Rejected(topic, unit_id, reason, payload, received_at)
    accepted = Accepted(topic, unit_id, kind, payload, received_at)
    try:
        if kind is MessageKind.TELEMETRY:
            samples = decode_telemetry(payload)
            times = [s.ts for s in samples]
            for ts in {min(times), max(times)}:  # the extremes decide; one check per message, not per sample
                check_time_window(ts, now=received_at, max_future=limits.max_future, max_past=limits.max_past)
            accepted.telemetry = [_telemetry_row(unit_id, received_at, s) for s in samples]
        elif kind is MessageKind.EVENT:
            event = decode_event(payload)
            check_time_window(event.ts, now=received_at, max_future=limits.max_future, max_past=limits.max_past)
            spec = EVENT_CATALOGUE[event.code]
            details = None if event.details is None else Jsonb(event.details)
            accepted.event = (unit_id, event.ts, received_at, event.code, spec.category.value, spec.gb_code,
                              event.floor, details)  # fmt: skip
        else:
            status = decode_status(payload)
            # The broker sends a last will long after the device wrote it: it carries no time of its own.
            ts = status.ts or received_at
            check_time_window(ts, now=received_at, max_future=limits.max_future, max_past=limits.max_past)
            accepted.status = (unit_id, ts, received_at, status.state)
    except ContractError as exc:
        return Rejected(topic, unit_id, str(exc), payload, received_at)
    return accepted


def parse_message(topic: str, payload: bytes, limits: Limits, *, received_at: datetime | None = None) -> Parsed:
    """Validate a message against the contract and the database's limits; any failure becomes a Rejected."""
    received_at = received_at or datetime.now(UTC)
    try:
        return _parse(topic, payload, received_at, limits)
    except Exception as exc:  # the boundary: nothing a device sends may take the consumer down
        return Rejected(topic, None, f"internal error while parsing: {type(exc).__name__}: {exc}"[:500], payload,
                        received_at)  # fmt: skip
