"""The simulator follows the work orders: a part a crew swapped (a completed work order with parts used) is new
again in the simulated unit's signals from the swap on.

The run polls a `RepairSource` as simulated time advances and renews each swapped component once
(`Simulation.renew`); without a source nothing changes, so pure generation stays deterministic for a seed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from models.db import Connection
from models.work.completion import part_swaps
from simulators.engine import Simulation

__all__ = ["DatabaseRepairs", "Renewal", "RepairSource", "apply_renewals"]

# A crew's phone may send its completion this long after the work (offline in a shaft): swaps completed up to
# this long before the last poll are still picked up.
LATE_COMPLETION = timedelta(days=1)


@dataclass(frozen=True)
class Renewal:
    """A component of a unit renewed at a time."""

    key: str  # identifies the swap, so it is applied once
    unit_id: str
    component_type: str
    at: datetime


class RepairSource(Protocol):
    """Where the run learns of part swaps: the renewals done up to `until` (simulated time)."""

    def __call__(self, until: datetime) -> list[Renewal]:
        """Renewals completed up to `until`; a renewal may be returned again (it is applied once)."""


class DatabaseRepairs:
    """Part swaps of completed work orders, read through `conn` (committed reads: one statement per poll)."""

    def __init__(self, conn: Connection, *, start: datetime) -> None:
        self.conn = conn
        self.after = start

    def __call__(self, until: datetime) -> list[Renewal]:
        """Swaps completed in (last poll - LATE_COMPLETION, until]."""
        swaps = part_swaps(self.conn, after=self.after - LATE_COMPLETION, until=until)
        self.conn.commit()  # a read-only poll: end its snapshot so the next one sees new completions
        self.after = max(self.after, until)
        return [Renewal(f"{s.work_order_id}/{s.position}", s.unit_id, s.component_type, s.at) for s in swaps]


def apply_renewals(sim: Simulation, unit_index: dict[str, int], renewals: list[Renewal], applied: set[str]) -> int:
    """Renew each new swap's component in the simulation; how many processes were renewed."""
    renewed = 0
    for renewal in renewals:
        unit = unit_index.get(renewal.unit_id)
        if renewal.key in applied or unit is None:
            continue
        applied.add(renewal.key)
        renewed += sim.renew(unit, renewal.component_type, renewal.at.timestamp())
    return renewed
