"""Write one batch of parsed messages in one transaction; isolate poison messages by splitting.

A value the contract let through but the database refuses (a constraint it does not know about) fails the
whole COPY. The batch's transaction is then rolled back, the batch split in halves and retried until the
single offending message is found: that message is dead-lettered with the database's reason, every other
message's rows are kept.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime

from ingest.parse import Accepted, Parsed
from models.db import DATA_REFUSED, Connection, DatabaseError
from models.telemetry.dead_letters import DeadLetter, Reason, insert_dead_letters
from models.telemetry.presence import StatusReport, existing_unit_ids, record_statuses, register_units, touch_last_seen
from models.telemetry.samples import ReceivedEvent, ReceivedSamples, copy_telemetry, insert_events, telemetry_rows

__all__ = ["BatchResult", "KnownUnits", "refusal_reason", "write_batch", "write_rows"]

log = logging.getLogger(__name__)

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
    conflicts: int = 0
    dead_lettered: int = 0
    # Dead letters stored now, per reason class (a retained repeat is refused but not stored again).
    stored_letters: Counter[Reason] = field(default_factory=Counter)

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

    def unknown_among(self, conn: Connection, ids: set[str]) -> set[str]:
        """The ids that are not registered (registering them first when auto-registration is on)."""
        if time.monotonic() - self._loaded_at > KNOWN_UNITS_REFRESH_S:
            self._ids = existing_unit_ids(conn)
            self._loaded_at = time.monotonic()
        missing = ids - self._ids
        if missing:
            self._ids |= existing_unit_ids(conn, ids=missing)
            missing = ids - self._ids
        if missing and self.auto_register:
            register_units(conn, ids=missing)
            log.info("auto-registered %d unit(s): %s", len(missing), ", ".join(sorted(missing)[:10]))
            self._ids |= missing
            return set()
        return missing

    def forget(self) -> None:
        """Drop the cache (after a rollback that may have undone auto-registrations)."""
        self._ids = set()
        self._loaded_at = float("-inf")


def _unknown_unit(item: Accepted) -> DeadLetter:
    reason = f"unknown unit {item.unit_id!r} (register it, or set LIFTBRAIN_INGEST_AUTO_REGISTER=true)"
    return item.refuse(Reason.UNKNOWN_UNIT, reason)


def write_rows(conn: Connection, items: Sequence[Parsed], known: KnownUnits) -> BatchResult:
    """Write the items' rows and dead letters inside the caller's transaction (no split, no commit)."""
    accepted = [i for i in items if isinstance(i, Accepted)]
    unknown = known.unknown_among(conn, {i.unit_id for i in accepted})
    letters = [i for i in items if isinstance(i, DeadLetter)]
    samples: list[ReceivedSamples] = []
    events: list[ReceivedEvent] = []
    statuses: list[StatusReport] = []
    seen: dict[str, datetime] = {}
    for item in accepted:
        if item.unit_id in unknown:
            letters.append(_unknown_unit(item))
            continue
        if item.samples:
            samples.append(ReceivedSamples(item.unit_id, item.received_at, item.samples))
        if item.event is not None:
            events.append(ReceivedEvent(item.unit_id, item.received_at, item.event))
        if item.status is not None:
            statuses.append(StatusReport(item.unit_id, item.received_at, item.status, item.retained))
        elif not item.retained and seen.get(item.unit_id, item.received_at) <= item.received_at:
            seen[item.unit_id] = item.received_at  # live data: a sign of life (see touch_last_seen)
    rows = telemetry_rows(samples)
    telemetry = copy_telemetry(conn, rows=rows)
    event_result = insert_events(conn, events=events)
    status_changes = record_statuses(conn, reports=statuses)
    touch_last_seen(conn, seen=seen)
    stored = insert_dead_letters(conn, letters=letters)
    return BatchResult(
        messages=len(items),
        telemetry_rows=len(rows),
        telemetry_new=telemetry.new,
        events_new=event_result.new,
        status_changes=status_changes,
        conflicts=telemetry.conflicts + event_result.conflicts,
        dead_lettered=len(letters),
        stored_letters=Counter(letter.code for letter in stored),
    )


def refusal_reason(exc: DatabaseError) -> str:
    """The dead-letter reason for data the database refused."""
    return f"rejected by the database: {exc.diag.message_primary or type(exc).__name__}"


def write_batch(conn: Connection, items: Sequence[Parsed], known: KnownUnits) -> BatchResult:
    """Commit the batch's rows and dead letters in one transaction; split around poison.

    `conn` is in autocommit mode, so the transaction block here is the batch's one transaction (the COPY's
    block inside it is a savepoint). Connection errors propagate.
    """
    try:
        with conn.transaction():
            return write_rows(conn, items, known)
    except DATA_REFUSED as exc:
        known.forget()
        if len(items) == 1:
            reason = refusal_reason(exc)
            log.warning("dead-lettering a message from %s: %s", items[0].topic, reason)
            item = items[0]
            letter = (replace(item, code=Reason.DATABASE_REFUSED, reason=reason) if isinstance(item, DeadLetter)
                      else item.refuse(Reason.DATABASE_REFUSED, reason))  # fmt: skip
            with conn.transaction():
                stored = insert_dead_letters(conn, letters=[letter])
            return BatchResult(messages=1, dead_lettered=1, stored_letters=Counter(x.code for x in stored))
    middle = len(items) // 2
    result = write_batch(conn, items[:middle], known)
    result.add(write_batch(conn, items[middle:], known))
    return result
