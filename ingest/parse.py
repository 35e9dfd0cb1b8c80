"""Turn one MQTT message into decoded contract objects, or into a dead letter with its reason. Never raises."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import assert_never

from models.telemetry.contract import (
    ContractError,
    EventMessage,
    MessageKind,
    StatusMessage,
    TelemetrySample,
    check_time_window,
    decode_event,
    decode_status,
    decode_telemetry,
    parse_topic,
)
from models.telemetry.dead_letters import DeadLetter, Reason
from runtime.settings import Settings

__all__ = ["Accepted", "Limits", "Parsed", "parse_message", "reason_of"]


@dataclass(frozen=True, slots=True)
class Limits:
    """What ingest accepts beyond the contract's types (from Settings)."""

    topic_prefix: str
    max_payload_bytes: int
    max_future: timedelta
    max_past: timedelta

    @classmethod
    def from_settings(cls, settings: Settings) -> Limits:
        """The limits configured by LIFTBRAIN_MQTT_TOPIC_PREFIX and LIFTBRAIN_INGEST_*."""
        return cls(
            topic_prefix=settings.mqtt_topic_prefix,
            max_payload_bytes=settings.ingest_max_payload_bytes,
            max_future=timedelta(seconds=settings.ingest_max_future_seconds),
            max_past=timedelta(days=settings.ingest_max_past_days),
        )


@dataclass(slots=True)
class Accepted:
    """A valid message: where it came from and what it carries (one of samples, event, status)."""

    topic: str
    unit_id: str
    kind: MessageKind
    payload: bytes
    received_at: datetime
    retained: bool = False
    samples: list[TelemetrySample] = field(default_factory=list)
    event: EventMessage | None = None
    status: StatusMessage | None = None

    def refuse(self, code: Reason, reason: str) -> DeadLetter:
        """This message as a dead letter (valid, but refused later, e.g. for an unknown unit)."""
        return DeadLetter(self.topic, self.unit_id, code, reason, self.payload, self.received_at, self.retained)


Parsed = Accepted | DeadLetter

# The contract's reasons start with these words; anything else it refuses is a wrong type or value.
_CONTRACT_REASONS = (
    ("malformed JSON", Reason.MALFORMED),
    ("undecodable", Reason.MALFORMED),
    ("duplicate key", Reason.DUPLICATE_KEY),
    ("timestamp ", Reason.OUT_OF_WINDOW),
)


def reason_of(error: ContractError) -> Reason:
    """The reason class of a contract error."""
    text = str(error)
    return next((code for prefix, code in _CONTRACT_REASONS if text.startswith(prefix)), Reason.INVALID)


def _check_window(ts: datetime, received_at: datetime, limits: Limits) -> None:
    check_time_window(ts, now=received_at, max_future=limits.max_future, max_past=limits.max_past)


def _decode_into(accepted: Accepted, limits: Limits) -> None:
    payload, received_at = accepted.payload, accepted.received_at
    match accepted.kind:
        case MessageKind.TELEMETRY:
            samples = decode_telemetry(payload)
            times = [s.ts for s in samples]
            for ts in {min(times), max(times)}:  # the extremes decide; one check per message, not per sample
                _check_window(ts, received_at, limits)
            accepted.samples = samples
        case MessageKind.EVENT:
            accepted.event = decode_event(payload)
            _check_window(accepted.event.ts, received_at, limits)
        case MessageKind.STATUS:
            accepted.status = decode_status(payload)
            if accepted.status.ts is not None:  # a last will has no time of its own
                _check_window(accepted.status.ts, received_at, limits)
        case _:
            assert_never(accepted.kind)


def _parse(topic: str, payload: bytes, received_at: datetime, limits: Limits, retained: bool) -> Parsed:
    try:
        parsed_topic = parse_topic(topic, prefix=limits.topic_prefix)
    except ContractError as exc:
        return DeadLetter(topic, None, Reason.BAD_TOPIC, f"bad topic: {exc}", payload, received_at, retained)
    accepted = Accepted(topic, parsed_topic.unit_id, parsed_topic.kind, payload, received_at, retained)
    if len(payload) > limits.max_payload_bytes:
        reason = f"payload of {len(payload)} bytes is over the {limits.max_payload_bytes}-byte limit"
        return accepted.refuse(Reason.OVERSIZE, reason)
    try:
        _decode_into(accepted, limits)
    except ContractError as exc:
        return accepted.refuse(reason_of(exc), str(exc))
    return accepted


def parse_message(
    topic: str, payload: bytes, limits: Limits, *, received_at: datetime | None = None, retained: bool = False
) -> Parsed:
    """Validate a message against the contract and the database's limits; any failure becomes a DeadLetter."""
    received_at = received_at or datetime.now(UTC)
    try:
        return _parse(topic, payload, received_at, limits, retained)
    except Exception as exc:  # the boundary: nothing a device sends may take the consumer down
        reason = f"internal error while parsing: {type(exc).__name__}: {exc}"
        return DeadLetter(topic, None, Reason.INTERNAL, reason, payload, received_at, retained)
