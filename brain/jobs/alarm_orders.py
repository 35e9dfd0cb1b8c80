"""Open one work order for each active critical or major alarm that has none yet (the alarm -> work order loop)."""

from __future__ import annotations

import logging
from datetime import datetime

from models.db import Connection
from models.work.alarm_orders import open_orders_for_alarms

__all__ = ["run"]

log = logging.getLogger(__name__)


def run(conn: Connection, *, now: datetime) -> None:
    """Open and dispatch the missing work orders; a repeat pass opens nothing twice."""
    opened = open_orders_for_alarms(conn, now=now)
    if opened:
        log.info("opened %d work order(s) for alarms", opened)
