"""The MQTT telemetry contract: topics, payload types and the event catalogue.

The single source used by ingest, the simulators and the tests. JSON Schema files generated from these
types live in `models/telemetry/schemas/` (`liftbrain contract schemas` rewrites them; a test checks they are current).

Topics: `<prefix>/<unit_id>/telemetry|event|status`, prefix `lb/v1` by default.
- telemetry: one `TelemetrySample` object, or a `TelemetryBatch` `{"samples": [...]}`.
- event: one `EventMessage` (controller fault, event or alarm, codes in `EVENT_CATALOGUE`).
- status: a retained `StatusMessage`; devices set the last will to `{"state": "offline"}`.
Timestamps are RFC 3339 with an explicit offset; values are checked against what the database accepts.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Annotated, Literal, TypeVar, get_args

import msgspec
from msgspec import Meta

from models.storable import BIGINT_MAX, check_text

__all__ = [
    "DOOR_STATES",
    "EVENT_CATALOGUE",
    "LIFTED_EXTRAS",
    "MAX_BATCH_SAMPLES",
    "UNIT_ID_PATTERN",
    "ContractError",
    "DoorState",
    "EventCategory",
    "EventCode",
    "EventMessage",
    "EventSpec",
    "MessageKind",
    "StatusMessage",
    "TelemetryBatch",
    "TelemetrySample",
    "Topic",
    "check_duplicate_keys",
    "check_time_window",
    "decode_event",
    "decode_status",
    "decode_telemetry",
    "parse_topic",
    "topic_for",
]

# Starts with a letter or digit: `..` or `-x` reads as a path or an option, never as an id.
UNIT_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"
_UNIT_ID = re.compile(UNIT_ID_PATTERN)
# A batch bounds a message's memory and a database batch's size; 2,000 samples is ~10 minutes at 3 Hz.
MAX_BATCH_SAMPLES = 2000
MAX_EXTRAS = 64
DoorState = Literal["closed", "opening", "open", "closing", "blocked"]
# The database stores the door state as its position in DoorState (0 closed ... 4 blocked).
DOOR_STATES: dict[str, int] = {name: code for code, name in enumerate(get_args(DoorState))}

Timestamp = Annotated[datetime, Meta(tz=True, description="RFC 3339 time with an explicit UTC offset")]
Counter = Annotated[int, Meta(ge=0, le=BIGINT_MAX)]
ExtraKey = Annotated[str, Meta(pattern=r"^[A-Za-z_][A-Za-z0-9_.]{0,63}$")]
ExtraValue = (
    Annotated[float, Meta(ge=-1e15, le=1e15)]
    | Annotated[int, Meta(ge=-BIGINT_MAX, le=BIGINT_MAX)]
    | bool
    | (Annotated[str, Meta(max_length=256)])
)
Extras = Annotated[dict[ExtraKey, ExtraValue], Meta(max_length=MAX_EXTRAS)]
# Signals that rode in `extras` before they became contract fields (same names). A message of the older shape is
# moved to the fields at parse time, so every sample lands in the typed columns and old and new firmware read
# alike; a value the field refuses (wrong type, out of range) stays in `extras` as it came.
LIFTED_EXTRAS = ("door_open_s", "door_close_s", "door_reopens", "vibration_hf_rms", "stop_distance_mm")


class ContractError(ValueError):
    """A payload or topic that breaks the contract; the message is the dead-letter reason."""


class MessageKind(StrEnum):
    """The last topic level: what the message carries."""

    TELEMETRY = "telemetry"
    EVENT = "event"
    STATUS = "status"


class TelemetrySample(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    """One telemetry sample from a unit's controller or gateway. Every signal is optional but `ts`."""

    ts: Timestamp
    floor: Annotated[int, Meta(ge=-10, le=250)] | None = None
    position_m: (
        Annotated[float, Meta(ge=-50, le=1000, description="car position above the lowest landing, m")] | None
    ) = None
    direction: Literal[-1, 0, 1] | None = None
    speed_mps: Annotated[float, Meta(ge=-25, le=25, description="signed car speed, m/s")] | None = None
    load_pct: Annotated[float, Meta(ge=0, le=250, description="car load, % of rated")] | None = None
    door_state: DoorState | None = None
    motor_current_a: Annotated[float, Meta(ge=-5000, le=5000, description="A")] | None = None
    motor_temp_c: Annotated[float, Meta(ge=-60, le=300, description="degC")] | None = None
    drive_temp_c: Annotated[float, Meta(ge=-60, le=300, description="degC")] | None = None
    vibration_x: Annotated[float, Meta(ge=0, le=200, description="RMS, m/s^2")] | None = None
    vibration_y: Annotated[float, Meta(ge=0, le=200, description="RMS, m/s^2")] | None = None
    vibration_z: Annotated[float, Meta(ge=0, le=200, description="RMS, m/s^2")] | None = None
    brake_engaged: bool | None = None
    levelling_error_mm: Annotated[float, Meta(ge=-2000, le=2000, description="mm, + above the sill")] | None = None
    trip_count: Counter | None = None
    door_cycles: Counter | None = None
    energy_kwh: Annotated[float, Meta(ge=0, le=1e12, description="cumulative meter, kWh")] | None = None
    standby_power_w: Annotated[float, Meta(ge=0, le=1e6, description="W")] | None = None
    extras: Extras | None = None
    # Lifted out of `extras` later: declared after it, so the fields keep the telemetry table's column order.
    door_open_s: Annotated[float, Meta(ge=0, le=600, description="last door opening time, s")] | None = None
    door_close_s: Annotated[float, Meta(ge=0, le=600, description="last door closing time, s")] | None = None
    door_reopens: Annotated[int, Meta(ge=0, le=1000, description="reopens in the last door cycle")] | None = None
    vibration_hf_rms: (
        Annotated[float, Meta(ge=0, le=200, description="high-frequency vibration band RMS, m/s^2")] | None
    ) = None
    stop_distance_mm: (
        Annotated[float, Meta(ge=-5000, le=5000, description="brake stopping distance of the last stop, mm")] | None
    ) = None


class TelemetryBatch(msgspec.Struct, forbid_unknown_fields=True):
    """Several samples of one unit in one message (the efficient way to publish)."""

    samples: Annotated[list[TelemetrySample], Meta(min_length=1, max_length=MAX_BATCH_SAMPLES)]


class EventCategory(StrEnum):
    """What an event is: a fault (the lift misbehaved), an event (a state change), an alarm (a person)."""

    FAULT = "fault"
    EVENT = "event"
    ALARM = "alarm"


@dataclass(frozen=True)
class EventSpec:
    """One entry of the event catalogue."""

    category: EventCategory
    gb_code: int | None
    description: str


# The codes a unit may report: the one list; the catalogue below must describe exactly these (checked at import).
EventCode = Literal[
    "safety_circuit_broken", "door_close_fault", "door_open_fault", "stopped_outside_door_zone",
    "unintended_car_movement", "motor_runtime_limiter", "floor_position_lost", "no_restart", "entrapment",
    "overtravel_top", "overtravel_bottom", "overspeed", "door_open_while_moving", "back_to_normal",
    "main_power_off", "out_of_service", "inspection_mode", "fire_recall", "firefighter_operation",
    "emergency_power", "earthquake", "alarm_button",
]  # fmt: skip

# GB/T 24476-style codes where the standard has one, plus faults it leaves to the manufacturer.
EVENT_CATALOGUE: dict[str, EventSpec] = {
    "safety_circuit_broken": EventSpec(EventCategory.FAULT, 1, "safety circuit broken while running"),
    "door_close_fault": EventSpec(EventCategory.FAULT, 2, "door-close fault"),
    "door_open_fault": EventSpec(EventCategory.FAULT, 3, "door-open fault"),
    "stopped_outside_door_zone": EventSpec(EventCategory.FAULT, 4, "car stopped outside the door zone"),
    "unintended_car_movement": EventSpec(EventCategory.FAULT, 5, "unintended car movement"),
    "motor_runtime_limiter": EventSpec(EventCategory.FAULT, 6, "motor run-time limiter tripped"),
    "floor_position_lost": EventSpec(EventCategory.FAULT, 7, "floor position lost"),
    "no_restart": EventSpec(EventCategory.FAULT, 8, "no-restart fault"),
    "entrapment": EventSpec(EventCategory.FAULT, None, "passengers trapped in the car"),
    "overtravel_top": EventSpec(EventCategory.FAULT, None, "overtravel at the top"),
    "overtravel_bottom": EventSpec(EventCategory.FAULT, None, "overtravel at the bottom"),
    "overspeed": EventSpec(EventCategory.FAULT, None, "overspeed"),
    "door_open_while_moving": EventSpec(EventCategory.FAULT, None, "door open while the car moves"),
    "back_to_normal": EventSpec(EventCategory.EVENT, 40, "back to normal operation"),
    "main_power_off": EventSpec(EventCategory.EVENT, 41, "main power off"),
    "out_of_service": EventSpec(EventCategory.EVENT, 42, "out of service"),
    "inspection_mode": EventSpec(EventCategory.EVENT, 43, "inspection mode"),
    "fire_recall": EventSpec(EventCategory.EVENT, 44, "fire recall"),
    "firefighter_operation": EventSpec(EventCategory.EVENT, 45, "firefighter operation"),
    "emergency_power": EventSpec(EventCategory.EVENT, 46, "on emergency power"),
    "earthquake": EventSpec(EventCategory.EVENT, 47, "earthquake operation"),
    "alarm_button": EventSpec(EventCategory.ALARM, 90, "alarm button pressed in the car"),
}
if set(EVENT_CATALOGUE) != set(get_args(EventCode)):
    raise RuntimeError(
        f"EventCode and EVENT_CATALOGUE differ: {sorted(set(EVENT_CATALOGUE) ^ set(get_args(EventCode)))}"
    )


class EventMessage(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    """A controller fault, event or alarm."""

    ts: Timestamp
    code: EventCode
    floor: Annotated[int, Meta(ge=-10, le=250)] | None = None
    details: Extras | None = None


class StatusMessage(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    """A unit's connection state; retained. The last will omits `ts` (the broker sends it later)."""

    state: Literal["online", "offline"]
    ts: Timestamp | None = None


@dataclass(frozen=True)
class Topic:
    """A parsed topic."""

    unit_id: str
    kind: MessageKind


def topic_for(unit_id: str, kind: MessageKind, *, prefix: str = "lb/v1") -> str:
    """The topic a unit publishes `kind` messages on."""
    return f"{prefix}/{unit_id}/{kind.value}"


def parse_topic(topic: str, *, prefix: str = "lb/v1") -> Topic:
    """Split a topic into unit id and kind, or raise ContractError."""
    head, _, rest = topic.partition(prefix + "/")
    if head or not rest:
        raise ContractError(f"topic outside {prefix}/")
    unit_id, _, kind = rest.partition("/")
    if not _UNIT_ID.match(unit_id):
        raise ContractError("unit id in topic is not a letter or digit then [A-Za-z0-9_.-], 64 at most")
    try:
        return Topic(unit_id, MessageKind(kind))
    except ValueError:
        raise ContractError(f"unknown message kind {kind[:32]!r}") from None


T = TypeVar("T")

_TELEMETRY_DECODER = msgspec.json.Decoder(TelemetrySample)
_BATCH_DECODER = msgspec.json.Decoder(TelemetryBatch)
_EVENT_DECODER = msgspec.json.Decoder(EventMessage)
_STATUS_DECODER = msgspec.json.Decoder(StatusMessage)
# Only the top level of a telemetry message, to tell a batch from a sample when the batch decode fails.
_TOP_LEVEL_DECODER = msgspec.json.Decoder(dict[str, msgspec.Raw])


def _check_text(mapping: dict[str, float | int | bool | str] | None) -> None:
    """Refuse what PostgreSQL text/jsonb cannot hold: NUL characters and lone surrogates."""
    if not mapping:
        return
    for key, value in mapping.items():
        for text in (key, value) if isinstance(value, str) else (key,):
            try:
                check_text(text)
            except ValueError as exc:
                raise ContractError(str(exc)) from None


def _decode(decoder: msgspec.json.Decoder[T], payload: bytes) -> T:
    try:
        return decoder.decode(payload)
    except msgspec.ValidationError as exc:
        raise ContractError(f"invalid: {exc}") from None
    except msgspec.DecodeError as exc:
        raise ContractError(f"malformed JSON: {exc}") from None
    except (RecursionError, UnicodeDecodeError, ValueError, OverflowError) as exc:
        raise ContractError(f"undecodable: {type(exc).__name__}") from None


def _refuse_duplicate_keys(pairs: list[tuple[str, object]]) -> None:
    keys = [key for key, _ in pairs]
    if len(set(keys)) != len(keys):
        duplicate = next(key for i, key in enumerate(keys) if key in keys[:i])
        raise ContractError(f"duplicate key {duplicate[:64]!r}")


# Checks keys only: the values are msgspec's business, so the hook returns nothing.
_DUPLICATE_KEYS = json.JSONDecoder(object_pairs_hook=_refuse_duplicate_keys)
# JSON's whitespace: removed before counting key ends, so `"key" : 1` counts like `"key":1`.
_WHITESPACE = b" \t\r\n"
_WHITESPACE_BYTES = tuple(_WHITESPACE[i : i + 1] for i in range(len(_WHITESPACE)))


def check_duplicate_keys(payload: bytes) -> None:
    """Refuse a JSON document that repeats a key in any object (a decoder would keep the last silently)."""
    try:
        _DUPLICATE_KEYS.decode(payload.decode("utf-8"))
    except ContractError:
        raise
    except (ValueError, RecursionError):
        return  # not JSON: the typed decoder reports that with a better reason


def _keys_counted(samples: list[TelemetrySample], payload: bytes, batch: bool) -> bool:
    """True when the payload provably repeats no key: every `":` in it is a distinct key the decode kept.

    Without whitespace, each key ends in `":` and strings may add more, so the count is at least the number of
    keys, which is at least the number of distinct non-null ones the decode kept: equality proves no repeat.
    Two byte passes (bench/ingest_parse.py); a null or a `":` inside a string sends a message to the exact check.
    """
    present = int(batch)
    astuple = msgspec.structs.astuple
    for sample in samples:
        values = astuple(sample)
        present += len(values) - values.count(None)
        if sample.extras:
            present += len(sample.extras)
    if any(space in payload for space in _WHITESPACE_BYTES):  # a compact payload needs no copy
        payload = payload.translate(None, _WHITESPACE)
    return payload.count(b'":') == present


def _lift_extras(sample: TelemetrySample) -> TelemetrySample:
    """The sample with the LIFTED_EXTRAS it carries in `extras` moved to their fields (when all are valid)."""
    extras = sample.extras
    if not extras or extras.keys().isdisjoint(LIFTED_EXTRAS):
        return sample
    fields = msgspec.structs.asdict(sample)
    moved = {key: extras[key] for key in LIFTED_EXTRAS if key in extras and fields[key] is None}
    if not moved:
        return sample
    rest = {key: value for key, value in extras.items() if key not in moved}
    try:
        return msgspec.convert(fields | moved | {"extras": rest or None}, TelemetrySample)
    except msgspec.ValidationError:
        return sample


def decode_telemetry(payload: bytes) -> list[TelemetrySample]:
    """The samples of a telemetry message (one sample or a batch), or raise ContractError.

    The top-level shape decides: an object with a `samples` key is a batch, any other object one sample.
    """
    if payload.lstrip()[:1] != b"{":
        raise ContractError("malformed JSON: a telemetry message is a JSON object")
    batch = True
    try:
        samples = _BATCH_DECODER.decode(payload).samples  # the common case first: no cost for a batch
    except msgspec.ValidationError:
        batch = "samples" in _decode(_TOP_LEVEL_DECODER, payload)
        samples = _decode(_BATCH_DECODER, payload).samples if batch else [_decode(_TELEMETRY_DECODER, payload)]
    except (msgspec.DecodeError, RecursionError, UnicodeDecodeError, ValueError, OverflowError):
        samples = [_decode(_TELEMETRY_DECODER, payload)]  # not JSON: raises with the reason
    if not _keys_counted(samples, payload, batch):
        check_duplicate_keys(payload)
    for sample in samples:
        _check_text(sample.extras)
    return [_lift_extras(sample) for sample in samples]


def decode_event(payload: bytes) -> EventMessage:
    """An event message, or raise ContractError."""
    event = _decode(_EVENT_DECODER, payload)
    check_duplicate_keys(payload)  # events are a trickle: the exact check always
    _check_text(event.details)
    return event


def decode_status(payload: bytes) -> StatusMessage:
    """A status message, or raise ContractError."""
    status = _decode(_STATUS_DECODER, payload)
    check_duplicate_keys(payload)
    return status


def check_time_window(ts: datetime, *, now: datetime, max_future: timedelta, max_past: timedelta) -> None:
    """Refuse timestamps too far ahead or behind `now` (each would create a chunk of its own)."""
    if ts > now + max_future:
        raise ContractError(f"timestamp {ts.isoformat()} is in the future")
    if ts < now - max_past:
        raise ContractError(f"timestamp {ts.isoformat()} is too far in the past")
