"""`liftbrain brain`: runs the analytics jobs on a schedule (APScheduler).

Each run takes a Postgres advisory lock named after the job, so several brain replicas never run the same
job at once; a job that fails is logged and retried at its next run, never stopping the others.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from apscheduler.schedulers.background import BackgroundScheduler

from brain.jobs import presence, retention
from models.db import connect
from models.job_locks import release_job_lock, try_job_lock
from models.probes import serve_probes, stop_on_signals
from models.settings import Settings

__all__ = ["JOBS", "Job", "run", "run_job"]

log = logging.getLogger(__name__)

JobFunction = Callable[..., None]


@dataclass(frozen=True)
class Job:
    """A scheduled job: its name (also its lock), function and interval."""

    name: str
    function: JobFunction
    every_seconds: int


JOBS: tuple[Job, ...] = (
    Job("retention", retention.run, every_seconds=3600),
    # Often enough that "online" in the API is at most a couple of minutes stale beyond the silence limit.
    Job("presence", presence.run, every_seconds=60),
)


def run_job(dsn: str, job: Job, settings: Settings) -> bool:
    """Run `job` once if no other replica is running it; True when it ran and committed."""
    with connect(dsn, application_name=f"liftbrain-brain-{job.name}") as conn:
        taken = try_job_lock(conn, name=job.name)
        conn.commit()
        if not taken:
            log.info("job %s is running elsewhere; skipped", job.name)
            return False
        try:
            job.function(conn, now=datetime.now(UTC), settings=settings)
            conn.commit()
            return True
        except Exception:
            conn.rollback()
            log.exception("job %s failed; it runs again at its next interval", job.name)
            return False
        finally:
            release_job_lock(conn, name=job.name)
            conn.commit()


def run(settings: Settings) -> int:
    """Schedule every job and run until SIGTERM or SIGINT."""
    dsn = settings.require_database_url()
    stop = stop_on_signals()
    scheduler = BackgroundScheduler(timezone=UTC)
    for job in JOBS:
        kwargs: dict[str, Any] = {"dsn": dsn, "job": job, "settings": settings}
        scheduler.add_job(run_job, "interval", seconds=job.every_seconds, kwargs=kwargs, id=job.name,
                          next_run_time=datetime.now(UTC), max_instances=1, coalesce=True)  # fmt: skip
    scheduler.start()
    probes = serve_probes(settings.api_host, settings.brain_http_port, lambda: {"scheduler": scheduler.running})
    log.info("brain scheduler running %d job(s): %s", len(JOBS), ", ".join(j.name for j in JOBS))
    stop.wait()
    scheduler.shutdown(wait=True)
    if probes is not None:
        probes.shutdown()
    return 0
