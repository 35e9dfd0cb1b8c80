"""Logging set-up for every liftbrain process: one line per event, UTC timestamps, the process name."""

from __future__ import annotations

import logging
import time

__all__ = ["configure_logging"]


def configure_logging(process: str, *, verbose: bool = False) -> None:
    """Log to stderr as `time level process logger: message`."""
    formatter = logging.Formatter(
        f"%(asctime)s %(levelname)s {process} %(name)s: %(message)s", datefmt="%Y-%m-%dT%H:%M:%SZ"
    )
    formatter.converter = time.gmtime
    handler = logging.StreamHandler()
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.DEBUG if verbose else logging.INFO)
    # Per-request lines, connection chatter and a line per scheduler run (the alarm rules run twice a second)
    # drown the events that matter.
    for noisy in ("uvicorn.access", "psycopg.pool", "apscheduler.executors.default", "apscheduler.scheduler"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
