"""Write one batch of parsed messages in one transaction; isolate poison messages by splitting.

A value the contract let through but the database refuses (a constraint it does not know about) fails the
whole COPY. The batch is then split in halves and retried until the single offending message is found:
that message is dead-lettered with the database's reason, every other message's rows are kept.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg

from ingest.parse import Accepted, Parsed, Rejected
from models.dead_letters import DeadLetter, insert_dead_letters
from models.telemetry import EventRow, TelemetryRow, copy_telemetry, insert_events
from models.unit_presence import StatusChange, existing_unit_ids, record_status_changes, register_units, touch_last_seen

__all__ = ["POISON_ERRORS", "BatchResult", "KnownUnits", "write_batch"]

log = logging.getLogger(__name__)

# Errors that mean "this data", not "this database right now": retrying the same rows cannot succeed.
POISON_ERRORS: tuple[type[psycopg.Error], ...] = (psycopg.DataError, psycopg.IntegrityError, psycopg.NotSupportedError)
# Units registered through the API appear within this long even when no unknown id forces a lookup.
KNOWN_UNITS_REFRESH_S = 30.0


@dataclass
class BatchResult:
    """What one committed batch did."""

    messages: int = 0
    telemetry_rows: int = 0
    telemetry_new: int = 0
    events_new: int = 0
    status_changes: int = 0
    dead_lettered: int = 0

    def add(self, other: BatchResult) -> None:
        """Accumulate another result into this one."""
        for name in self.__dataclass_fields__:
            setattr(self, name, getattr(self, name) + getattr(other, name))


class KnownUnits:
    """A cache of registered unit ids, refreshed periodically and looked up on a miss."""

    def __init__(self, *, auto_register: bool) -> None:
        self.auto_register = auto_register
        self._ids: set[str] = set()
        self._loaded_at = float("-inf")

    def unknown_among(self, conn: psycopg.Connection[Any], ids: set[str]) -> set[str]:
        """The ids that are not registered (registering them first when auto-registration is on)."""
        if time.monotonic() - self._loaded_at > KNOWN_UNITS_REFRESH_S:
            self._ids = existing_unit_ids(conn)
            self._loaded_at = time.monotonic()
        missing = ids - self._ids
        if missing:
            self._ids |= existing_unit_ids(conn, missing)
            missing = ids - self._ids
        if missing and self.auto_register:
            register_units(conn, missing)
            log.info("auto-registered %d unit(s): %s", len(missing), ", ".join(sorted(missing)[:10]))
            self._ids |= missing
            return set()
        return missing

    def forget(self) -> None:
        """Drop the cache (after a rollback that may have undone auto-registrations)."""
        self._ids = set()
        self._loaded_at = float("-inf")


def _dead_letter(item: Parsed, reason: str | None = None) -> DeadLetter:
    if reason is None:
        reason = item.reason if isinstance(item, Rejected) else "rejected"
    return DeadLetter(item.topic, item.unit_id, reason, item.payload, item.received_at)


def _write_rows(conn: psycopg.Connection[Any], items: Sequence[Parsed], known: KnownUnits) -> BatchResult:
    result = BatchResult(messages=len(items))
    accepted = [i for i in items if isinstance(i, Accepted)]
    unknown = known.unknown_among(conn, {i.unit_id for i in accepted})
    letters = [_dead_letter(i) for i in items if isinstance(i, Rejected)]
    telemetry: list[TelemetryRow] = []
    events: list[EventRow] = []
    statuses: list[StatusChange] = []
    seen: dict[str, datetime] = {}
    for item in accepted:
        if item.unit_id in unknown:
            reason = f"unknown unit {item.unit_id!r} (register it, or set LIFTBRAIN_INGEST_AUTO_REGISTER=true)"
            letters.append(_dead_letter(item, reason))
            continue
        telemetry.extend(item.telemetry)
        if item.event is not None:
            events.append(item.event)
        if item.status is not None:
            statuses.append(item.status)  # applied by record_status_changes, last_seen included
        elif seen.get(item.unit_id, item.received_at) <= item.received_at:
            seen[item.unit_id] = item.received_at  # data: a sign of life (see touch_last_seen)
    result.telemetry_rows = len(telemetry)
    result.telemetry_new = copy_telemetry(conn, telemetry)
    result.events_new = insert_events(conn, events)
    record_status_changes(conn, statuses)
    result.status_changes = len(statuses)
    touch_last_seen(conn, seen)
    insert_dead_letters(conn, letters)
    result.dead_lettered = len(letters)
    return result


def write_batch(conn: psycopg.Connection[Any], items: Sequence[Parsed], known: KnownUnits) -> BatchResult:
    """Commit the batch's rows and dead letters; split around poison. Connection errors propagate."""
    try:
        result = _write_rows(conn, items, known)
        conn.commit()
        return result
    except POISON_ERRORS as exc:
        conn.rollback()
        known.forget()
        if len(items) == 1:
            reason = f"rejected by the database: {exc.diag.message_primary or type(exc).__name__}"
            log.warning("dead-lettering a message from %s: %s", items[0].topic, reason)
            insert_dead_letters(conn, [_dead_letter(items[0], reason)])
            conn.commit()
            return BatchResult(messages=1, dead_lettered=1)
    middle = len(items) // 2
    result = write_batch(conn, items[:middle], known)
    result.add(write_batch(conn, items[middle:], known))
    return result
