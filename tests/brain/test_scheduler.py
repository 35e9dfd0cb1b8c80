"""The brain's job runner: one replica per job at a time, failures isolated, retention drops old chunks."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import partial

import psycopg

from brain.jobs import presence, retention
from brain.scheduler import Job, jobs_for, run_job
from brain.units import for_each_unit
from models.db import Connection
from models.job_locks import job_lock_key
from runtime.settings import Settings


def _telemetry_at(dsn: str, *times: datetime) -> None:
    with psycopg.connect(dsn) as conn:
        for t in times:
            conn.execute("INSERT INTO telemetry (unit_id, time, received_at) VALUES ('u1', %s, %s)", (t, t))


def test_retention_drops_chunks_past_the_limit(database_url: str) -> None:
    now = datetime.now(UTC)
    _telemetry_at(database_url, now - timedelta(days=30), now - timedelta(hours=1))
    job = Job("retention", partial(retention.run, older_than=timedelta(days=7)), every_seconds=3600)
    assert run_job(database_url, job)
    with psycopg.connect(database_url) as conn:
        remaining = conn.execute("SELECT count(*) FROM telemetry").fetchone()
    assert remaining == (1,)


def test_a_job_held_by_another_replica_is_skipped(database_url: str) -> None:
    calls: list[datetime] = []
    job = Job("held", lambda conn, *, now: calls.append(now), every_seconds=60)
    with psycopg.connect(database_url) as other_replica:
        other_replica.execute("SELECT pg_advisory_lock(%s)", (job_lock_key("held"),))
        assert run_job(database_url, job) is False
    assert calls == []
    assert run_job(database_url, job) is True
    assert len(calls) == 1


def test_a_failing_job_is_rolled_back_and_reported(database_url: str) -> None:
    def failing(conn: Connection, *, now: datetime) -> None:
        conn.execute("INSERT INTO units (id) VALUES ('written-then-failed')")
        raise RuntimeError("boom")

    assert run_job(database_url, Job("failing", failing, every_seconds=60)) is False
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
    job = Job("presence", partial(presence.run, silent_for=timedelta(seconds=600)), every_seconds=60)
    assert run_job(database_url, job)
    with psycopg.connect(database_url) as conn:
        online: dict[str, bool] = dict(conn.execute("SELECT id, online FROM units").fetchall())
        changes = conn.execute("SELECT unit_id, state FROM unit_status_changes").fetchall()
    assert online == {"quiet": False, "chatty": True, "already-off": False}
    assert changes == [("quiet", "offline")]


def test_jobs_are_bound_to_their_settings() -> None:
    settings = Settings(
        telemetry_retention_days=7,
        unit_offline_after_seconds=90,
        maintenance_interval_ceiling_days=45,
        verification_window_days=5,
    )
    jobs = {job.name: job for job in jobs_for(settings)}
    assert set(jobs) == {
        "retention",
        "presence",
        "alarm_event_rules",
        "alarm_offline",
        "alarm_orders",
        "features",
        "detection",
        "planning",
        "quality",
        "rollups",
        "cold_tier",
        "verification",
    }
    verification_run = jobs["verification"].run
    assert isinstance(verification_run, partial)
    assert verification_run.keywords == {"window": timedelta(days=5)}
    planning_run = jobs["planning"].run
    assert isinstance(planning_run, partial)
    assert planning_run.keywords == {"ceiling_days": 45}
    retention_run, presence_run, quality_run = jobs["retention"].run, jobs["presence"].run, jobs["quality"].run
    assert isinstance(retention_run, partial)
    assert isinstance(presence_run, partial)
    assert isinstance(quality_run, partial)
    assert retention_run.keywords == {"older_than": timedelta(days=7)}
    assert presence_run.keywords == {"silent_for": timedelta(seconds=90)}
    assert quality_run.keywords == {"counters_since": timedelta(days=7)}
    cold_run, rollups_run = jobs["cold_tier"].run, jobs["rollups"].run
    assert isinstance(cold_run, partial)
    assert isinstance(rollups_run, partial)
    assert cold_run.keywords == {"root": settings.data_dir / "cold" / "telemetry", "hot_for": timedelta(days=7),
                                 "retention": timedelta(days=7)}  # fmt: skip
    assert rollups_run.keywords == {"lookback": timedelta(minutes=120)}


def test_one_failing_unit_is_rolled_back_and_the_others_are_kept(conn: Connection) -> None:
    def register(conn: Connection, unit_id: str) -> None:
        conn.execute("INSERT INTO units (id) VALUES (%s)", (unit_id,))
        if unit_id == "bad":
            raise ValueError("corrupt history")

    outcome = for_each_unit(conn, ["a", "bad", "b"], register, job="test")
    conn.commit()
    assert outcome.done == ["a", "b"]
    assert outcome.failed == {"bad": "ValueError: corrupt history"}
    assert [row["id"] for row in conn.execute("SELECT id FROM units ORDER BY id").fetchall()] == ["a", "b"]
