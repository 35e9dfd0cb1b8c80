"""Replay stored dead letters through today's parser and writer (after a contract fix or a registration).

Idempotent: rows are keyed as in live ingest, an accepted letter is marked replayed and not offered again,
and a letter still refused keeps its place with the new reason. Each letter's rows are one transaction.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, field

from ingest.batch import KnownUnits, refusal_reason, write_rows
from ingest.parse import Limits, parse_message
from models.db import DATA_REFUSED, Connection
from models.telemetry.dead_letters import DeadLetter, Reason, StoredDeadLetter, mark_replayed

__all__ = ["ReplayResult", "replay"]

log = logging.getLogger(__name__)


@dataclass
class ReplayResult:
    """What a replay did: letters accepted now, and those still refused per reason class."""

    accepted: int = 0
    refused: Counter[Reason] = field(default_factory=Counter)


def _replay_one(conn: Connection, letter: StoredDeadLetter, limits: Limits, known: KnownUnits) -> DeadLetter | None:
    """Write one letter's rows; None when accepted, else why it is still refused."""
    parsed = parse_message(letter.topic, letter.payload, limits, received_at=letter.received_at,
                           retained=letter.retained)  # fmt: skip
    if isinstance(parsed, DeadLetter):
        return parsed
    if known.unknown_among(conn, {parsed.unit_id}):
        return parsed.refuse(Reason.UNKNOWN_UNIT, f"unknown unit {parsed.unit_id!r}")
    try:
        with conn.transaction():  # a savepoint: a refusal undoes only this letter's rows
            write_rows(conn, [parsed], known)  # the unit is known: this stores no new dead letter
    except DATA_REFUSED as exc:
        known.forget()
        return parsed.refuse(Reason.DATABASE_REFUSED, refusal_reason(exc))
    return None


def replay(conn: Connection, *, letters: list[StoredDeadLetter], limits: Limits, known: KnownUnits) -> ReplayResult:
    """Replay `letters` (conn in autocommit mode): per letter one transaction writes its rows and its mark."""
    result = ReplayResult()
    for letter in letters:
        if letter.replayed_at is not None:
            continue  # already accepted by an earlier replay
        with conn.transaction():
            refused = _replay_one(conn, letter, limits, known)
            mark_replayed(conn, letter_id=letter.id, refused_again=None if refused is None else refused.reason)
        if refused is None:
            result.accepted += 1
        else:
            result.refused[refused.code] += 1
            log.info("dead letter %d still refused: %s", letter.id, refused.reason[:200])
    return result
