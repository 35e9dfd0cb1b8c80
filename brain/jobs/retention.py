"""Drop telemetry older than the configured retention."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

import psycopg

from models.retention import drop_old_chunks
from models.settings import Settings

__all__ = ["run"]

log = logging.getLogger(__name__)


def run(conn: psycopg.Connection[Any], *, now: datetime, settings: Settings) -> None:
    """Drop chunks past `telemetry_retention_days` (now is unused: drop_chunks measures from the server's now)."""
    dropped = drop_old_chunks(conn, older_than=timedelta(days=settings.telemetry_retention_days))
    if dropped:
        log.info("retention dropped %d chunk(s) older than %d days", len(dropped), settings.telemetry_retention_days)
