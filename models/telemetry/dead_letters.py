"""Dead letters: messages ingest could not accept, kept with the reason for inspection and replay."""

from __future__ import annotations

import base64
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from psycopg import sql
from psycopg.rows import scalar_row
from pydantic import BaseModel, field_serializer

from models.db import Connection
from models.queries import Page, PageParams, fetch_page

__all__ = [
    "DeadLetter",
    "Reason",
    "StoredDeadLetter",
    "get_dead_letters",
    "insert_dead_letters",
    "list_dead_letters",
    "mark_replayed",
    "pending_dead_letter_ids",
    "printable",
]

# The stored reason is for people: a device's text in it is cut here (the payload keeps everything).
MAX_REASON_CHARS = 500


class Reason(StrEnum):
    """Why a message was refused, as a small fixed set (a metrics label and a filter); the text says more."""

    BAD_TOPIC = "bad_topic"
    OVERSIZE = "oversize"
    MALFORMED = "malformed"
    DUPLICATE_KEY = "duplicate_key"
    INVALID = "invalid"
    OUT_OF_WINDOW = "out_of_window"
    UNKNOWN_UNIT = "unknown_unit"
    DATABASE_REFUSED = "database_refused"
    INTERNAL = "internal"


def printable(text: str) -> str:
    """`text` as the database can store it: NUL and lone surrogates escaped, cut to MAX_REASON_CHARS."""
    text = text.replace("\x00", "\\x00").encode("utf-8", "backslashreplace").decode("utf-8")
    return text[:MAX_REASON_CHARS]


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """One refused message: what arrived, when, and why."""

    topic: str
    unit_id: str | None
    code: Reason
    reason: str
    payload: bytes
    received_at: datetime
    retained: bool = False


class StoredDeadLetter(BaseModel):
    """A dead letter as stored, with its replay state; in JSON the payload is base64 (it may be any bytes)."""

    id: int
    received_at: datetime
    topic: str
    unit_id: str | None
    reason_code: Reason
    reason: str
    payload: bytes
    retained: bool
    replayed_at: datetime | None
    replay_reason: str | None

    @field_serializer("payload", when_used="json")
    def _standard_base64(self, payload: bytes) -> str:
        # Standard alphabet (RFC 4648 section 4): what `base64 -d` and most decoders expect.
        return base64.b64encode(payload).decode("ascii")


def insert_dead_letters(conn: Connection, *, letters: Sequence[DeadLetter]) -> list[DeadLetter]:
    """Store refused messages inside the caller's transaction; return those stored.

    A retained message the broker replays at every (re)subscribe is stored once: a repeat is skipped.
    """
    insert = (
        "INSERT INTO dead_letters (received_at, topic, unit_id, reason_code, reason, payload, retained)"
        " VALUES (%s, %s, %s, %s, %s, %s, %s) ON CONFLICT DO NOTHING"
    )
    stored = []
    with conn.cursor() as cur:
        for letter in letters:
            cur.execute(insert, (letter.received_at, letter.topic, letter.unit_id, letter.code.value,
                                 printable(letter.reason), letter.payload, letter.retained))  # fmt: skip
            if cur.rowcount == 1:
                stored.append(letter)
    return stored


_FILTERS = {
    "unit_id": sql.SQL("unit_id = %(unit_id)s"),
    "reason": sql.SQL("reason_code = %(reason)s"),
    "since": sql.SQL("received_at >= %(since)s"),
    "until": sql.SQL("received_at < %(until)s"),
    "ids": sql.SQL("id = ANY(%(ids)s)"),
}
_COLUMNS = "id, received_at, topic, unit_id, reason_code, reason, payload, retained, replayed_at, replay_reason"


def _where(params: dict[str, Any], pending_only: bool) -> sql.Composable:
    conditions = [_FILTERS[name] for name, value in params.items() if value is not None]
    if pending_only:
        conditions.append(sql.SQL("replayed_at IS NULL"))
    return sql.SQL(" AND ").join(conditions) if conditions else sql.SQL("true")


def list_dead_letters(
    conn: Connection,
    *,
    page: PageParams,
    unit_id: str | None = None,
    reason: Reason | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    pending_only: bool = False,
) -> Page[StoredDeadLetter]:
    """Dead letters, newest first, filtered by unit, reason class and receive time."""
    params: dict[str, Any] = {"unit_id": unit_id, "reason": reason, "since": since, "until": until}
    query = sql.SQL("SELECT {} FROM dead_letters WHERE {} ORDER BY received_at DESC, id DESC").format(
        sql.SQL(_COLUMNS), _where(params, pending_only)
    )
    return fetch_page(conn, query, params, model=StoredDeadLetter, page=page)


def pending_dead_letter_ids(
    conn: Connection,
    *,
    unit_id: str | None = None,
    reason: Reason | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> list[int]:
    """Ids of the dead letters no replay has accepted yet, oldest first (what a replay works through)."""
    params: dict[str, Any] = {"unit_id": unit_id, "reason": reason, "since": since, "until": until}
    query = sql.SQL("SELECT id FROM dead_letters WHERE {} ORDER BY received_at, id").format(_where(params, True))
    with conn.cursor(row_factory=scalar_row) as cur:
        return list(cur.execute(query, params).fetchall())


def get_dead_letters(conn: Connection, *, ids: Sequence[int]) -> list[StoredDeadLetter]:
    """The dead letters with these ids, oldest first."""
    query = sql.SQL("SELECT {} FROM dead_letters WHERE {} ORDER BY received_at, id").format(
        sql.SQL(_COLUMNS), _FILTERS["ids"]
    )
    return [StoredDeadLetter.model_validate(row) for row in conn.execute(query, {"ids": list(ids)}).fetchall()]


def mark_replayed(conn: Connection, *, letter_id: int, refused_again: str | None) -> None:
    """Record a replay: accepted (`refused_again` None) sets replayed_at; refused keeps the new reason."""
    if refused_again is None:
        conn.execute("UPDATE dead_letters SET replayed_at = now(), replay_reason = NULL WHERE id = %s", (letter_id,))
    else:
        conn.execute("UPDATE dead_letters SET replay_reason = %s WHERE id = %s", (printable(refused_again), letter_id))
