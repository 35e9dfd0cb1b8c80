"""The simulation clock: advances every unit by one sample period and reports samples, incidents and statuses.

Order within a step: outages that ended, trips up to the sample instant, the car's state at that instant,
then what starts now (degradation failures, random faults, maintenance visits). A unit that is out of service
stands still with its brake on; one whose power is cut reports nothing until power returns.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import numpy as np
import numpy.typing as npt

from models.telemetry.contract import EVENT_CATALOGUE, EventCategory
from simulators.confounders import Confounders
from simulators.cycles import Cycles, plan_next
from simulators.degradation import PROCESSES, detection_probability, severity
from simulators.fleet import Fleet
from simulators.incidents import MAINTENANCE_HOURS, Hazards, draw_faults, maintenance_due
from simulators.rng import FloatArray, IntArray, normal, uniform
from simulators.sampling import Snapshot, observe

__all__ = ["Incident", "Simulation", "StatusChange", "StepResult"]

_FAULT_CODES = frozenset(code for code, spec in EVENT_CATALOGUE.items() if spec.category is EventCategory.FAULT)

_MAINTENANCE_STREAM = 200
_DETECTION_STREAM = 210
_CONFOUNDER_NOISE = 230
# A crew that finds wear replaces the part this often; otherwise it adjusts or cleans, leaving some wear behind.
FULL_FIX_PROBABILITY = 0.8
RESIDUAL_SHARE = (0.2, 0.5)


@dataclass(frozen=True)
class Incident:
    """An event the unit reports, with its ground-truth cause (the cause is never published)."""

    unit: int
    ts: float
    code: str
    floor: int
    cause: str
    component_type: str | None
    # Whether wear announced it (None: not a fault); entrapments carry the rescue's arrival and release.
    precursor: bool | None = None
    arrived_at: float | None = None
    released_at: float | None = None
    ends_at: float | None = None  # a maintenance visit's end


@dataclass(frozen=True)
class StatusChange:
    """A unit going offline (power cut) or back online."""

    unit: int
    ts: float
    online: bool


@dataclass(frozen=True)
class StepResult:
    """What one step produced."""

    snapshot: Snapshot
    incidents: list[Incident]
    statuses: list[StatusChange]


class Simulation:
    """A fleet advancing in steps of one sample period from `start`."""

    def __init__(
        self,
        fleet: Fleet,
        *,
        start: datetime,
        sample_period_s: float,
        hazard_scale: float = 1.0,
        confounder_scale: float = 1.0,
    ) -> None:
        n, p = fleet.size, len(PROCESSES)
        self.fleet = fleet
        self.dt = sample_period_s
        self.start_s = start.timestamp()
        self.hazard_scale = hazard_scale
        self.step_index = 0
        self.cycles = Cycles.idle_at_lobby(n, self._times(-1))
        self.onset = fleet.onset.copy()
        self.detected_at = np.full((p, n), np.nan)
        self.residual = np.full((p, n), np.nan)
        self.hazards = Hazards(fleet.keys, fleet.site_keys, fleet.hazard_age, fleet.usage_factor, fleet.masks)
        self.failed_at = np.full((p, n), np.nan)
        self.repaired_at = np.full((p, n), np.nan)
        self.replaced = np.zeros((p, n), dtype=bool)
        self.awaiting_repair = np.zeros((p, n), dtype=bool)
        self.halted = np.zeros(n, dtype=bool)
        self.offline = np.zeros(n, dtype=bool)
        self.halted_until = np.zeros(n)
        self.halt_position = np.zeros(n)
        self.halt_load = np.zeros(n)
        self.halt_cause = [""] * n
        self.visit_started = np.full(n, -np.inf)
        self.inspecting = np.zeros(n, dtype=bool)
        self.confounders = Confounders(fleet.keys, fleet.site_keys, scale=confounder_scale)
        # Called with the units whose trip just finished and the cycles holding those trips (calibration).
        self.trip_observer: Callable[[npt.NDArray[np.intp], Cycles], None] | None = None
        self.trips = fleet.trips0.copy()
        self.door_cycles: IntArray = (fleet.trips0 * 11) // 10
        self.energy_kwh = fleet.energy0.copy()
        self.motor_temp = fleet.ambient_c + 5.0
        self.drive_temp = fleet.ambient_c + 3.0

    def _times(self, step: int) -> FloatArray:
        """Each unit's sample instant of `step` (unit clocks are offset within the period)."""
        return self.start_s + (step + self.fleet.sample_phase) * self.dt

    def wear(self, t: FloatArray, units: npt.NDArray[np.intp] | slice = slice(None)) -> FloatArray:
        """Severity (processes, units) of every degradation process at times `t`."""
        onset = np.where(self.replaced[:, units], np.inf, self.onset[:, units])
        ttf = self.fleet.ttf_s[:, units]
        return np.stack([severity(t, onset[i], ttf[i], proc.shape) for i, proc in enumerate(PROCESSES)])

    def step(self) -> StepResult:
        """Advance every unit to its next sample instant."""
        t = self._times(self.step_index)
        incidents: list[Incident] = []
        statuses: list[StatusChange] = []
        self._end_outages(t, incidents, statuses)
        self._advance_trips(t)
        wear = self.wear(t)
        # The sample comes first: what starts now shows from the next sample on.
        snapshot = observe(self, t, wear)
        self._fail(t, snapshot, incidents)
        self._strike(t, wear, snapshot, incidents, statuses)
        self._visit(t, snapshot, incidents)
        snapshot.reporting = ~self.offline
        self.confounders.apply(snapshot, self.noise(_CONFOUNDER_NOISE))
        self.step_index += 1
        return StepResult(snapshot, incidents, statuses)

    def _end_outages(self, t: FloatArray, incidents: list[Incident], statuses: list[StatusChange]) -> None:
        ending = np.flatnonzero(self.halted & (self.halted_until <= t))
        floor_h = self.fleet.floor_height_m
        for u in ending:
            ts = float(self.halted_until[u])
            floor = int(np.rint(self.halt_position[u] / floor_h[u]))
            incidents.append(Incident(int(u), ts, "back_to_normal", floor, f"end_of_{self.halt_cause[u]}", None))
            if self.offline[u]:
                statuses.append(StatusChange(int(u), ts, online=True))
            repaired = self.awaiting_repair[:, u]
            self.replaced[repaired, u] = True
            self.repaired_at[repaired, u] = ts
            self.awaiting_repair[:, u] = False
            # The car was re-levelled at the nearest floor; service resumes from there.
            self.cycles.target[u] = floor
            self.cycles.end[u] = ts
            self.cycles.levelling_mm[u] = 0.0
        self.halted[ending] = False
        self.offline[ending] = False
        self.inspecting[ending] = False

    def _advance_trips(self, t: FloatArray) -> None:
        cycles = self.cycles
        while True:
            due = np.flatnonzero(~self.halted & (cycles.end <= t))
            if due.size == 0:
                return
            done = cycles.pending[due]
            if self.trip_observer is not None and done.any():
                self.trip_observer(due[done], cycles)
            self.trips[due] += done
            self.door_cycles[due] += done * (1 + cycles.reopens[due])
            self.energy_kwh[due] += done * cycles.energy_kwh[due]
            plan_next(cycles, self.fleet, due, self.wear(cycles.end[due], due))

    def _halt(self, units: npt.NDArray[np.intp], until: FloatArray, cause: str, snapshot: Snapshot) -> None:
        """Take units out of service where they stand until `until` (an ongoing outage is extended)."""
        self.halted_until[units] = np.where(self.halted[units], np.maximum(self.halted_until[units], until), until)
        fresh = units[~self.halted[units]]
        self.halt_position[fresh] = snapshot.position_m[fresh]
        self.halt_load[fresh] = snapshot.load_pct[fresh]
        self.halted[units] = True
        self.cycles.pending[units] = False
        for u in units:
            self.halt_cause[u] = cause

    def _fail(self, t: FloatArray, snapshot: Snapshot, incidents: list[Incident]) -> None:
        onset = np.where(self.replaced, np.inf, self.onset)
        fail_time = onset + self.fleet.ttf_s * self.fleet.fail_factor
        for p, process in enumerate(PROCESSES):
            new = np.flatnonzero(np.isnan(self.failed_at[p]) & (fail_time[p] <= t) & ~self.offline)
            if new.size == 0:
                continue
            self.failed_at[p, new] = fail_time[p, new]
            self.awaiting_repair[p, new] = True
            code = process.failure_event
            for u in new:
                if code is not None:
                    ts = float(fail_time[p, u])
                    incidents.append(
                        Incident(int(u), ts, code, int(snapshot.floor[u]), process.cause, process.component_type, True)
                    )
            self._halt(new, fail_time[p, new] + self.fleet.repair_s[p, new], process.cause, snapshot)

    def _strike(
        self,
        t: FloatArray,
        wear: FloatArray,
        snapshot: Snapshot,
        incidents: list[Incident],
        statuses: list[StatusChange],
    ) -> None:
        draws = draw_faults(self.hazards, self.step_index, ~self.halted, wear, self.dt, self.hazard_scale)
        component_of = {process.cause: process.component_type for process in PROCESSES}
        for draw in draws:
            spec = draw.spec
            fault = spec.code in _FAULT_CODES
            for i, (u, wear_cause) in enumerate(zip(draw.units, draw.wear_cause, strict=True)):
                cause = wear_cause or spec.cause
                component = component_of[wear_cause] if wear_cause else spec.component_type
                ts, floor = float(t[u]), int(snapshot.floor[u])
                if spec.also:
                    incidents.append(Incident(int(u), ts, spec.also, floor, spec.cause, None))
                rescue = {}
                if spec.code == "entrapment":
                    rescue = {"arrived_at": ts + float(draw.arrival_s[i]), "released_at": ts + float(draw.release_s[i])}
                precursor = (wear_cause is not None) if fault else None
                incidents.append(Incident(int(u), ts, spec.code, floor, cause, component, precursor, **rescue))
                if spec.offline:
                    statuses.append(StatusChange(int(u), float(t[u]), online=False))
            if spec.outage_median_h is not None:
                self._halt(draw.units, t[draw.units] + draw.outage_s, spec.cause, snapshot)
            if spec.offline:
                self.offline[draw.units] = True

    def _visit(self, t: FloatArray, snapshot: Snapshot, incidents: list[Incident]) -> None:
        fleet = self.fleet
        due = maintenance_due(t - self.dt, t, fleet.utc_offset_s, fleet.maintenance_phase_s) & ~self.halted
        units = np.flatnonzero(due)
        if units.size == 0:
            return
        low, high = MAINTENANCE_HOURS
        hours = low + (high - low) * uniform(fleet.keys[units], self.step_index, _MAINTENANCE_STREAM)
        for u, visit_h in zip(units, hours, strict=True):
            ts = float(t[u])
            incidents.append(
                Incident(int(u), ts, "inspection_mode", int(snapshot.floor[u]), "maintenance_visit", None,
                         ends_at=ts + float(visit_h) * 3600.0)
            )  # fmt: skip
        self._halt(units, t[units] + hours * 3600.0, "maintenance_visit", snapshot)
        self.halt_load[units] = 0.0  # the technician rides the car roof, not the car
        self.visit_started[units] = t[units]
        self.inspecting[units] = True
        self._inspect(units, t[units], t[units] + hours * 3600.0)

    def _inspect(self, units: npt.NDArray[np.intp], t: FloatArray, done: FloatArray) -> None:
        """The crew looks for wear; what it finds it fixes by the end of the visit, sometimes only partly."""
        keys, fleet = self.fleet.keys[units], self.fleet
        wear = self.wear(t, units)
        for p, process in enumerate(PROCESSES):
            chance = detection_probability(wear[p], process.detect_at_full, fleet.detect_skill[units])
            stream = _DETECTION_STREAM + 3 * p
            found = (
                (wear[p] > 0) & np.isnan(self.failed_at[p, units]) & (uniform(keys, self.step_index, stream) < chance)
            )
            if not found.any():
                continue
            hit, when, level = units[found], done[found], wear[p, found]
            self.detected_at[p, hit] = t[found]
            self.repaired_at[p, hit] = when
            full = uniform(keys[found], self.step_index, stream + 1) < FULL_FIX_PROBABILITY
            self.replaced[p, hit[full]] = True
            low, high = RESIDUAL_SHARE
            residual = level * (low + (high - low) * uniform(keys[found], self.step_index, stream + 2))
            self.residual[p, hit] = np.where(full, 0.0, residual)
            # Partly fixed: the wear restarts from the residual severity at the end of the visit.
            progress = residual ** (1.0 / process.shape)
            restart = when - progress * fleet.ttf_s[p, hit]
            self.onset[p, hit[~full]] = restart[~full]

    def renew(self, unit: int, component_type: str, at_s: float) -> int:
        """A crew's part swap (a completed work order) at `at_s`: the unit's wear processes of that component start
        again from a new part. Returns how many processes were renewed. Pure generation is untouched: the same
        swaps at the same times give the same run."""
        renewed = 0
        for p, process in enumerate(PROCESSES):
            if process.component_type != component_type:
                continue
            self.replaced[p, unit] = True
            self.repaired_at[p, unit] = at_s
            self.residual[p, unit] = 0.0
            renewed += 1
        return renewed

    def noise(self, stream: int) -> FloatArray:
        """Standard normal noise for every unit at this step (sample-level jitter)."""
        return normal(self.fleet.keys, self.step_index, stream)
