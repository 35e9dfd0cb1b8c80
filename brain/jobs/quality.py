"""Fleet quality: reliability figures per model, component type, batch and supplier; batch alerts; the field
verification of corrective actions."""

from __future__ import annotations

import logging
from datetime import datetime

from brain.quality.alerts import raise_alerts
from brain.quality.reliability import compute_stats, lives_frame
from models.db import Connection
from models.quality.lives import component_lives, group_labels
from models.quality.reliability import replace_stats

__all__ = ["run"]

log = logging.getLogger(__name__)


def run(conn: Connection, *, now: datetime) -> None:
    """Recompute the reliability snapshot as of `now`, then test every batch and verify corrective actions."""
    lives = lives_frame(component_lives(conn, as_of=now))
    stats = compute_stats(lives, labels=group_labels(conn), now=now)
    replace_stats(conn, stats=stats)
    new = raise_alerts(conn, now=now)
    log.info("quality: %d lives, %d reliability rows, %d new alert(s)", lives.height, len(stats), len(new))
