"""The brain's job runner: one replica per job at a time, failures isolated, retention drops old chunks."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg

from brain.jobs import presence, retention
from brain.scheduler import Job, run_job
from models.job_locks import job_lock_key
from models.settings import Settings


def _telemetry_at(dsn: str, *times: datetime) -> None:
    with psycopg.connect(dsn) as conn:
        for t in times:
            conn.execute("INSERT INTO telemetry (unit_id, time, received_at) VALUES ('u1', %s, %s)", (t, t))


def test_retention_drops_chunks_past_the_limit(database_url: str) -> None:
    now = datetime.now(UTC)
    _telemetry_at(database_url, now - timedelta(days=30), now - timedelta(hours=1))
    job = Job("retention", retention.run, every_seconds=3600)
    assert run_job(database_url, job, Settings(database_url=database_url, telemetry_retention_days=7))
    with psycopg.connect(database_url) as conn:
        remaining = conn.execute("SELECT count(*) FROM telemetry").fetchone()
    assert remaining == (1,)


def test_a_job_held_by_another_replica_is_skipped(database_url: str) -> None:
    calls: list[datetime] = []
    job = Job("held", lambda conn, *, now, settings: calls.append(now), every_seconds=60)
    with psycopg.connect(database_url) as other_replica:
        other_replica.execute("SELECT pg_advisory_lock(%s)", (job_lock_key("held"),))
        assert run_job(database_url, job, Settings(database_url=database_url)) is False
    assert calls == []
    assert run_job(database_url, job, Settings(database_url=database_url)) is True
    assert len(calls) == 1


def test_a_failing_job_is_rolled_back_and_reported(database_url: str) -> None:
    def failing(conn: psycopg.Connection[Any], *, now: datetime, settings: Settings) -> None:
        conn.execute("INSERT INTO units (id) VALUES ('written-then-failed')")
        raise RuntimeError("boom")

    assert (
        run_job(database_url, Job("failing", failing, every_seconds=60), Settings(database_url=database_url)) is False
    )
    with psycopg.connect(database_url) as conn:
        assert conn.execute("SELECT count(*) FROM units").fetchone() == (0,)
        # the lock was released: the next run can take it
        assert conn.execute("SELECT pg_try_advisory_lock(%s)", (job_lock_key("failing"),)).fetchone() == (True,)


def test_silent_online_units_are_marked_offline(database_url: str) -> None:
    now = datetime.now(UTC)
    with psycopg.connect(database_url) as conn:
        conn.execute(
            "INSERT INTO units (id, online, last_seen) VALUES ('quiet', true, %s), ('chatty', true, %s),"
            " ('already-off', false, %s)",
            (now - timedelta(hours=1), now - timedelta(seconds=30), now - timedelta(hours=1)),
        )
    job = Job("presence", presence.run, every_seconds=60)
    assert run_job(database_url, job, Settings(database_url=database_url, unit_offline_after_seconds=600))
    with psycopg.connect(database_url) as conn:
        online = dict(conn.execute("SELECT id, online FROM units").fetchall())
        changes = conn.execute("SELECT unit_id, state FROM unit_status_changes").fetchall()
    assert online == {"quiet": False, "chatty": True, "already-off": False}
    assert changes == [("quiet", "offline")]
