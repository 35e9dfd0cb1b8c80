"""Dead letters: messages ingest could not accept, kept with the reason for inspection and replay."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg

__all__ = ["DeadLetter", "insert_dead_letters"]


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """One rejected message."""

    topic: str
    unit_id: str | None
    reason: str
    payload: bytes
    received_at: datetime


def insert_dead_letters(conn: psycopg.Connection[Any], letters: Sequence[DeadLetter]) -> None:
    """Store rejected messages inside the caller's transaction."""
    if not letters:
        return
    with conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO dead_letters (received_at, topic, unit_id, reason, payload) VALUES (%s, %s, %s, %s, %s)",
            [(d.received_at, d.topic, d.unit_id, d.reason, d.payload) for d in letters],
        )
