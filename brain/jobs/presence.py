"""Mark units offline when they have been silent too long (a last will is not always published)."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

import psycopg

from models.settings import Settings
from models.unit_presence import mark_silent_units_offline

__all__ = ["run"]

log = logging.getLogger(__name__)


def run(conn: psycopg.Connection[Any], *, now: datetime, settings: Settings) -> None:
    """Set units silent for `unit_offline_after_seconds` offline, with a status change recorded."""
    ids = mark_silent_units_offline(conn, now=now, silent_for=timedelta(seconds=settings.unit_offline_after_seconds))
    if ids:
        log.info("marked %d silent unit(s) offline: %s", len(ids), ", ".join(ids[:20]))
