"""The maintenance loop closed over a simulated fleet (bench/maintenance.py --loop).

The simulator runs in-process, seeded; each tick's samples and events go in by ingest's own write paths
(COPY for telemetry, `insert_events`), then the brain's jobs run as scheduled: event rules and alarm orders
every tick, features, detection, planning and verification once a simulated day. Simulated crews accept every
alarm work order and complete it after a response time drawn around its SLA, swapping the suspected component
for a newly registered one (through `complete_work_order`, so part replacements and lifecycle records are
written); the simulator follows those swaps (`simulators.repairs`), so a replaced part is new in the signals
from the next tick on. Baseline in the same run: the plan-only pass (the planning job alone) each day.
"""

from __future__ import annotations

import random
import time
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

from detection import _rows

from brain.jobs import alarm_orders, alarms, detection, features, verification
from brain.jobs.planning import plan
from models.access.tenancy import TenantScope
from models.db import Connection, connect
from models.monitoring.alarm_sources import pending_events
from models.registry import components
from models.telemetry.contract import EventMessage
from models.telemetry.presence import touch_last_seen
from models.telemetry.samples import ReceivedEvent, copy_telemetry, insert_events
from models.work import crews
from models.work.completion import WorkCompletion, complete_work_order
from models.work.orders import SLA, Urgency
from simulators.engine import Simulation
from simulators.fleet import build_fleet
from simulators.repairs import DatabaseRepairs, apply_renewals
from simulators.seeding import seed_fleet

__all__ = ["START", "run_loop"]

# In the past (a completion's time may not be ahead of the real clock), on a Monday.
START = datetime(2026, 3, 2, tzinfo=UTC)
# Jobs that run every few seconds in production run once per tick here: six simulated hours.
TICK = timedelta(hours=6)
DAY = timedelta(days=1)
# A crew per this many units (the maintainer's crews share the fleet's alarms).
UNITS_PER_CREW = 50
# Response times are drawn as a share of the order's SLA: most within it, some late (the SLA figure is real).
RESPONSE_SHARE = (0.3, 1.3)
# An order without an SLA time (routine) is answered within this long.
ROUTINE_RESPONSE = timedelta(days=2)
CEILING_DAYS = 60
# The event rules take a bounded batch per pass; a tick's events drain in a few passes (bounded: a unit whose
# events keep failing must not hang the bench).
MAX_RULE_PASSES = 1000
INTERNAL = TenantScope.internal()


def _crews(conn: Connection, units: int) -> None:
    row = conn.execute("SELECT DISTINCT maintainer_id FROM maintenance_contracts LIMIT 1").fetchone()
    assert row is not None
    for c in range(max(2, units // UNITS_PER_CREW)):
        crews.create_crew(conn, tenant=INTERNAL, maintainer_id=row["maintainer_id"], name=f"crew {c}")  # type: ignore[arg-type]


def _complete_due(conn: Connection, *, until: datetime, seed: int, serials: list[int]) -> int:
    """The crews complete every assigned or reopened alarm order whose drawn response time has come."""
    rows = conn.execute(
        "SELECT w.id, w.urgency, w.due_at, w.reopened_count, uc.position, c.serial, c.component_type"
        " FROM work_orders w LEFT JOIN unit_components uc ON uc.unit_id = w.unit_id AND uc.removed_at IS NULL"
        "   AND uc.position = w.evidence ->> 'suspected_component'"
        " LEFT JOIN components c ON c.id = uc.component_id"
        " WHERE w.source = 'alarm' AND w.status IN ('assigned', 'in_progress') ORDER BY w.created_at, w.id"
    ).fetchall()
    done = 0
    for row in rows:
        # An alarm order is due its SLA time after it was opened (or reopened): the crew arrives a share of it in.
        within = SLA[Urgency(str(row["urgency"]))].within or ROUTINE_RESPONSE
        due: datetime = row["due_at"]  # type: ignore[assignment]
        # One draw per order and visit (not per tick, which would favour early arrivals).
        draw = random.Random(f"{seed}/{row['id']}/{row['reopened_count']}").uniform(*RESPONSE_SHARE)
        at = due + within * (draw - 1.0)
        if at > until:
            continue
        parts = []
        if row["serial"] is not None:
            serials[0] += 1
            serial = f"RPL-{serials[0]:07d}"
            components.create_component(conn, serial=serial, component_type=str(row["component_type"]), batch_id=None)
            parts.append({"position": row["position"], "removed_serial": row["serial"], "installed_serial": serial})
        completion = WorkCompletion.model_validate(
            {"idempotency_key": f"bench-{row['id']}-{row['reopened_count']}", "completed_at": at, "parts": parts}
        )
        work_order_id: UUID = row["id"]  # type: ignore[assignment]
        complete_work_order(conn, tenant=INTERNAL, work_order_id=work_order_id, completion=completion,
                            actor="bench-crew", now=at)  # fmt: skip
        done += 1
    return done


def _write(conn: Connection, sim: Simulation, steps: int) -> int:
    rows: list[tuple[Any, ...]] = []
    events: list[ReceivedEvent] = []
    ids = sim.fleet.unit_ids
    for _ in range(steps):
        result = sim.step()
        rows.extend(_rows(ids, result.snapshot))
        for incident in result.incidents:
            at = datetime.fromtimestamp(incident.ts, UTC)
            events.append(ReceivedEvent(ids[incident.unit], at, EventMessage(ts=at, code=incident.code,  # type: ignore[arg-type]
                                                                             floor=incident.floor)))  # fmt: skip
    copy_telemetry(conn, rows=rows)
    insert_events(conn, events=events)
    seen: dict[str, datetime] = {}
    for row in rows:
        seen[row[0]] = max(seen.get(row[0], row[1]), row[1])
    touch_last_seen(conn, seen=seen)
    conn.commit()
    return len(rows)


def run_loop(
    dsn: str, *, units: int, days: int, sample_period_s: float, seed: int, window: timedelta
) -> dict[str, Any]:
    """Simulate `units` for `days` with the loop closed; timings and the loop's figures."""
    fleet = build_fleet(seed=seed, units=units, start=START)
    sim = Simulation(fleet, start=START, sample_period_s=sample_period_s)
    steps = round(TICK.total_seconds() / sample_period_s)
    timings = dict.fromkeys(("simulate_write_s", "rules_orders_s", "crews_s", "daily_jobs_s", "plan_only_s"), 0.0)
    figures: dict[str, Any] = {"samples": 0, "completions": 0, "renewed_processes": 0}
    with connect(dsn) as conn:
        seed_fleet(conn, fleet)
        _crews(conn, units)
        conn.commit()
        unit_index = {u: i for i, u in enumerate(fleet.unit_ids)}
        repairs, applied, serials = DatabaseRepairs(conn, start=START), set[str](), [0]
        ticks_per_day = round(DAY / TICK)
        for tick in range(days * ticks_per_day):
            now = START + (tick + 1) * TICK
            began = time.perf_counter()
            figures["samples"] += _write(conn, sim, steps)
            mark = time.perf_counter()
            timings["simulate_write_s"] += mark - began
            for _ in range(MAX_RULE_PASSES):
                if not pending_events(conn, cursor=alarms.CURSOR):
                    break
                alarms.run_event_rules(conn, now=now)
            alarm_orders.run(conn, now=now)
            conn.commit()
            timings["rules_orders_s"] += time.perf_counter() - mark
            mark = time.perf_counter()
            figures["completions"] += _complete_due(conn, until=now, seed=seed, serials=serials)
            conn.commit()
            figures["renewed_processes"] += apply_renewals(sim, unit_index, repairs(now), applied)
            timings["crews_s"] += time.perf_counter() - mark
            if (tick + 1) % ticks_per_day:
                continue
            mark = time.perf_counter()
            for job in (features.run, detection.run):
                job(conn, now=now + timedelta(minutes=5))
                conn.commit()
            verification.run(conn, now=now, window=window)
            conn.commit()
            timings["daily_jobs_s"] += time.perf_counter() - mark
            mark = time.perf_counter()
            plan(conn, now=now, ceiling_days=CEILING_DAYS)
            conn.commit()
            timings["plan_only_s"] += time.perf_counter() - mark
            print(f"  day {(tick + 1) // ticks_per_day}/{days}: {figures}", flush=True)
        figures.update(_loop_figures(conn))
    return {**figures, **{k: round(v, 1) for k, v in timings.items()}}


def _loop_figures(conn: Connection) -> dict[str, Any]:
    row = conn.execute(
        "SELECT (SELECT count(*) FROM alarms) AS alarms,"
        " (SELECT count(*) FROM alarms WHERE severity IN ('critical', 'major')) AS alarms_calling_a_crew,"
        " (SELECT count(*) FROM work_orders WHERE source = 'alarm') AS alarm_orders,"
        " (SELECT count(*) - count(DISTINCT source_ref) FROM work_orders WHERE source = 'alarm') AS duplicated_orders,"
        " (SELECT count(*) FROM (SELECT 1 FROM work_orders w JOIN alarms a ON a.id::text = w.source_ref"
        "   WHERE w.status IN ('open', 'assigned', 'in_progress', 'done')"
        "   GROUP BY w.unit_id, a.alarm_type, a.component_type HAVING count(*) > 1) d) AS concurrent_duplicates,"
        " (SELECT count(*) FROM work_orders WHERE source = 'alarm' AND status IN ('done', 'verified')) AS completed,"
        " (SELECT count(*) FROM work_orders WHERE source = 'alarm' AND status = 'verified') AS verified,"
        " (SELECT count(*) FROM work_orders WHERE source = 'alarm' AND reopened_count > 0) AS reopened,"
        " (SELECT count(*) FROM work_order_history WHERE action = 'completed') AS completions_recorded,"
        " (SELECT count(*) FILTER (WHERE sla_breached_at IS NULL AND completed_at <= due_at)::float"
        "   / nullif(count(*), 0) FROM work_orders WHERE source = 'alarm' AND completed_at IS NOT NULL)"
        "   AS sla_compliance,"
        " (SELECT count(*) FROM lifecycle_records WHERE kind = 'part_replacement') AS part_replacements,"
        " (SELECT count(*) FROM work_orders WHERE source = 'plan') AS plan_orders"
    ).fetchone()
    assert row is not None
    figures: dict[str, Any] = {k: (round(v, 3) if isinstance(v, float) else v) for k, v in row.items()}
    completed, verified = int(figures["completed"]), int(figures["verified"])
    figures["verified_share"] = round(verified / completed, 3) if completed else None
    return figures
