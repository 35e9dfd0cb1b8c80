"""Mark units offline when they have been silent too long (a last will is not always published)."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from models.db import Connection
from models.telemetry.presence import mark_silent_units_offline

__all__ = ["run"]

log = logging.getLogger(__name__)


def run(conn: Connection, *, now: datetime, silent_for: timedelta) -> None:
    """Set units silent for longer than `silent_for` offline, with a status change recorded."""
    ids = mark_silent_units_offline(conn, now=now, silent_for=silent_for)
    if ids:
        log.info("marked %d silent unit(s) offline: %s", len(ids), ", ".join(ids[:20]))
