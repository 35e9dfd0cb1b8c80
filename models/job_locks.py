"""Advisory locks that let one brain replica at a time run a job (session-level, released explicitly)."""

from __future__ import annotations

import hashlib

from psycopg.rows import scalar_row

from models.db import Connection

__all__ = ["job_lock_key", "release_job_lock", "try_job_lock"]


def job_lock_key(name: str) -> int:
    """The advisory lock key of a job: the same in every replica."""
    return int.from_bytes(hashlib.sha256(f"liftbrain-job:{name}".encode()).digest()[:8], "big", signed=True)


def try_job_lock(conn: Connection, *, name: str) -> bool:
    """Take the job's lock if no other session holds it; True when taken."""
    with conn.cursor(row_factory=scalar_row) as cur:
        cur.execute("SELECT pg_try_advisory_lock(%s)", (job_lock_key(name),))
        return bool(cur.fetchone())


def release_job_lock(conn: Connection, *, name: str) -> None:
    """Release the job's lock taken by this session."""
    conn.execute("SELECT pg_advisory_unlock(%s)", (job_lock_key(name),))
