"""Per-unit failure isolation for brain jobs: one bad unit is rolled back, logged and skipped."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from models.db import Connection

__all__ = ["UnitOutcome", "for_each_batch", "for_each_unit"]

log = logging.getLogger(__name__)


@dataclass
class UnitOutcome:
    """What a per-unit pass did: units that completed and units that failed (with the error's text)."""

    done: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)


def for_each_unit(
    conn: Connection, unit_ids: Iterable[str], work: Callable[[Connection, str], None], *, job: str
) -> UnitOutcome:
    """Run `work(conn, unit_id)` for each unit inside its own savepoint; a failure undoes only that unit's writes."""
    outcome = UnitOutcome()
    for unit_id in unit_ids:
        try:
            with conn.transaction():
                work(conn, unit_id)
        except Exception as error:  # one unit's bad data must not stop the fleet's pass
            log.exception("job %s failed for unit %s; other units go on", job, unit_id)
            outcome.failed[unit_id] = f"{type(error).__name__}: {error}"
        else:
            outcome.done.append(unit_id)
    return outcome


def for_each_batch(
    conn: Connection,
    unit_ids: Sequence[str],
    work: Callable[[Connection, list[str]], None],
    *,
    job: str,
    size: int,
) -> UnitOutcome:
    """Run `work(conn, batch)` per batch of `size` units in a savepoint; a failed batch is redone unit by unit.

    Set-based work keeps per-unit isolation this way: one bad unit costs its batch a retry, never the fleet's pass.
    """
    outcome = UnitOutcome()
    for start in range(0, len(unit_ids), size):
        batch = list(unit_ids[start : start + size])
        try:
            with conn.transaction():
                work(conn, batch)
        except Exception:  # find the unit that broke it, and do the others
            log.warning("job %s: a batch of %d unit(s) failed; retrying them one by one", job, len(batch))
            single = for_each_unit(conn, batch, lambda c, unit_id: work(c, [unit_id]), job=job)
            outcome.done += single.done
            outcome.failed.update(single.failed)
        else:
            outcome.done += batch
    return outcome
