"""`liftbrain brain`: runs the analytics jobs on a schedule (APScheduler).

Each run takes a Postgres advisory lock named after the job, so several brain replicas never run the same
job at once; a job that fails is logged and retried at its next run, never stopping the others.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any, Protocol

from apscheduler.schedulers.background import BackgroundScheduler

from brain.jobs import (
    alarm_orders,
    alarms,
    broker_auth,
    cold_tier,
    detection,
    features,
    planning,
    presence,
    quality,
    retention,
    rollups,
    verification,
)
from models.db import Connection, connect
from models.job_locks import release_job_lock, try_job_lock
from runtime.probes import serve_probes, stop_on_signals
from runtime.settings import Settings

__all__ = ["Job", "JobRun", "jobs_for", "run", "run_job"]

log = logging.getLogger(__name__)


# A revoked device credential is off the broker within this many seconds (plus the broker's reload).
BROKER_AUTH_EVERY_S = 3


class JobRun(Protocol):
    """One pass of a job, its configuration already bound: it writes through `conn` and never commits."""

    def __call__(self, conn: Connection, *, now: datetime) -> None: ...


@dataclass(frozen=True)
class Job:
    """A scheduled job: its name (also its lock), its bound pass and its interval."""

    name: str
    run: JobRun
    every_seconds: float


def jobs_for(settings: Settings) -> tuple[Job, ...]:
    """Every job, each bound to the part of `settings` it uses."""
    jobs: tuple[Job, ...] = (
        Job(
            "retention",
            partial(retention.run, older_than=timedelta(days=settings.telemetry_retention_days)),
            every_seconds=3600,
        ),
        # Often enough that "online" in the API is at most a couple of minutes stale beyond the silence limit.
        Job(
            "presence",
            partial(presence.run, silent_for=timedelta(seconds=settings.unit_offline_after_seconds)),
            every_seconds=60,
        ),
        # Twice a second: an event committed by ingest is an open alarm in the API well within 2 s at p99
        # (bench/alarm_latency.py); a pass with nothing new is two short queries.
        Job("alarm_event_rules", alarms.run_event_rules, every_seconds=0.5),
        Job(
            "alarm_offline",
            partial(alarms.run_offline, silent_for=timedelta(seconds=settings.unit_offline_after_seconds)),
            every_seconds=30,
        ),
        # An entrapment's rescue is due within 30 minutes: its work order must be out within seconds.
        Job("alarm_orders", alarm_orders.run, every_seconds=15),
        # Hourly features lag the data by at most this interval; daily ones follow each day's end.
        Job("features", features.run, every_seconds=900),
        # Detection judges complete days; hourly runs pick up late features and recover from a failed pass.
        Job("detection", detection.run, every_seconds=3600),
        # Visits are planned by the day; every 10 minutes keeps SLA breach flags and new alarms' orders current.
        Job(
            "planning",
            partial(planning.run, ceiling_days=settings.maintenance_interval_ceiling_days),
            every_seconds=600,
        ),
        # Verification judges days of telemetry; every 10 minutes reopens a recurring fault's order promptly.
        Job(
            "verification",
            partial(verification.run, window=timedelta(days=settings.verification_window_days)),
            every_seconds=600,
        ),
        # Field failures arrive a few a day per thousand units: an hourly pass flags a bad batch within hours.
        Job(
            "quality",
            partial(quality.run, counters_since=timedelta(days=settings.telemetry_retention_days)),
            every_seconds=3600,
        ),
        # Hour windows read raw rows past the hourly mark: 15 minutes keeps that tail short and each pass small.
        Job(
            "rollups",
            partial(rollups.run, lookback=timedelta(minutes=settings.telemetry_rollup_lookback_minutes)),
            every_seconds=900,
        ),
        # Days move by the day; hourly catches up after downtime without holding a day's chunk locked for long.
        Job(
            "cold_tier",
            partial(
                cold_tier.run,
                root=settings.data_dir / "cold" / "telemetry",
                hot_for=timedelta(days=settings.telemetry_cold_after_days),
                retention=timedelta(days=settings.telemetry_retention_days),
            ),
            every_seconds=3600,
        ),
    )
    if settings.mqtt_auth_dir is not None:
        sync = partial(broker_auth.run, auth_dir=settings.mqtt_auth_dir, topic_prefix=settings.mqtt_topic_prefix)
        jobs += (Job("broker_auth", sync, every_seconds=BROKER_AUTH_EVERY_S),)
    return jobs


def run_job(dsn: str, job: Job) -> bool:
    """Run `job` once if no other replica is running it; True when it ran and committed."""
    with connect(dsn, application_name=f"liftbrain-brain-{job.name}") as conn:
        taken = try_job_lock(conn, name=job.name)
        conn.commit()
        if not taken:
            log.info("job %s is running elsewhere; skipped", job.name)
            return False
        try:
            job.run(conn, now=datetime.now(UTC))
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
    jobs = jobs_for(settings)
    for job in jobs:
        kwargs: dict[str, Any] = {"dsn": dsn, "job": job}
        scheduler.add_job(run_job, "interval", seconds=job.every_seconds, kwargs=kwargs, id=job.name,
                          next_run_time=datetime.now(UTC), max_instances=1, coalesce=True)  # fmt: skip
    scheduler.start()
    probes = serve_probes(settings.api_host, settings.brain_http_port, lambda: {"scheduler": scheduler.running})
    log.info("brain scheduler running %d job(s): %s", len(jobs), ", ".join(j.name for j in jobs))
    stop.wait()
    scheduler.shutdown(wait=True)
    if probes is not None:
        probes.shutdown()
    return 0
