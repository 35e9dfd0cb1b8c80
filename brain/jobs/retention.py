"""Drop telemetry older than the configured retention."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from models.db import Connection
from models.telemetry.retention import drop_old_chunks

__all__ = ["run"]

log = logging.getLogger(__name__)


def run(conn: Connection, *, now: datetime, older_than: timedelta) -> None:
    """Drop chunks older than `older_than` (`now` is unused: drop_chunks measures from the server's now)."""
    dropped = drop_old_chunks(conn, older_than=older_than)
    if dropped:
        log.info("retention dropped %d chunk(s) older than %s", len(dropped), older_than)
