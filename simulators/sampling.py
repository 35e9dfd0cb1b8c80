"""What a unit's controller reports at one instant: the car's state evaluated from its planned cycle."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from models.telemetry.contract import DOOR_STATES
from simulators.degradation import PROCESSES
from simulators.physics import (
    CREEP_MPS,
    ambient_temp,
    motion_at,
    motor_current,
    relax,
    vibration,
)
from simulators.rng import FloatArray, IntArray
from simulators.traffic import local_hour

if TYPE_CHECKING:
    from simulators.engine import Simulation

__all__ = ["Snapshot", "observe"]

_WEAR = {process.cause: index for index, process in enumerate(PROCESSES)}
# While levelling the drive holds creep speed at a fraction of the running current.
LEVELLING_CURRENT_SHARE = 0.6
CURRENT_NOISE = 0.02
# Thermal: motor winding (large mass, slow) and drive heatsink (small mass, fast), degC at rated current.
MOTOR_TAU_S = 1800.0
MOTOR_HEAT_C = 80.0
DRIVE_TAU_S = 600.0
DRIVE_HEAT_C = 50.0
# A clogged or failing drive fan: heats more per ampere, and runs warm even when idle.
DRIVE_WEAR_GAIN = 3.0
DRIVE_WEAR_IDLE_C = 25.0
STANDBY_NOISE = 0.03
# Measurement noise per sensor type: load cell (% of rated), temperature probes (degC).
LOAD_NOISE_PCT = 1.0
TEMPERATURE_NOISE_C = 0.3
# In inspection mode the technician drives the car at inspection speed (EN 81-20: at most 0.63 m/s) in short
# runs: about two minutes of every ten, up or down in turn.
INSPECTION_SPEED_MPS = 0.3
INSPECTION_CYCLE_S = 600.0
INSPECTION_RUN_S = 120.0
_NOISE_CURRENT, _NOISE_VIBRATION, _NOISE_STANDBY, _NOISE_LOAD, _NOISE_TEMP = 300, 301, 302, 303, 304


@dataclass
class Snapshot:
    """Every unit's reported values at its sample instant (arrays, one entry per unit)."""

    ts: FloatArray
    reporting: npt.NDArray[np.bool_]
    floor: IntArray
    position_m: FloatArray
    direction: IntArray
    speed_mps: FloatArray
    load_pct: FloatArray
    door_state: IntArray
    motor_current_a: FloatArray
    motor_temp_c: FloatArray
    drive_temp_c: FloatArray
    vibration: FloatArray  # (units, 3)
    brake_engaged: npt.NDArray[np.bool_]
    levelling_error_mm: FloatArray
    trip_count: IntArray
    door_cycles: IntArray
    energy_kwh: FloatArray
    standby_power_w: FloatArray
    door_open_s: FloatArray
    door_close_s: FloatArray
    door_reopens: IntArray
    vibration_hf: FloatArray
    stop_distance_mm: FloatArray
    # The gateway holds these units' samples to send later (simulators.confounders late_flush).
    held: npt.NDArray[np.bool_] | None = None


def _door_state(door_t: FloatArray, open_s: FloatArray, dwell_s: FloatArray, close_s: FloatArray) -> IntArray:
    """Door state code (models.contract.DOOR_STATES) at `door_t` seconds after the doors start to open."""
    bounds = np.stack([np.zeros_like(door_t), open_s, open_s + dwell_s, open_s + dwell_s + close_s])
    phase = (door_t[None, :] >= bounds).sum(axis=0)
    names = ("closed", "opening", "open", "closing", "closed")
    codes = np.array([DOOR_STATES[name] for name in names])
    return codes[phase]  # type: ignore[no-any-return]


def _inspection(
    sim: Simulation,
    t: FloatArray,
    inspection: npt.NDArray[np.bool_],
    position: FloatArray,
    speed: FloatArray,
    sign: FloatArray,
    moving: npt.NDArray[np.bool_],
) -> tuple[FloatArray, FloatArray, FloatArray, npt.NDArray[np.bool_]]:
    """Position, speed, direction and motion of cars a technician drives in inspection mode."""
    fleet = sim.fleet
    into = np.where(inspection, np.maximum(t - np.where(inspection, sim.visit_started, t), 0.0), 0.0)
    cycle, phase = np.divmod(into, INSPECTION_CYCLE_S)
    runs = inspection & (phase < INSPECTION_RUN_S)
    shaft = (fleet.floors - 1) * fleet.floor_height_m
    up = (cycle % 2 == 0) ^ (sim.halt_position > shaft / 2)
    direction = np.where(up, 1.0, -1.0)
    run_position = np.clip(sim.halt_position + direction * INSPECTION_SPEED_MPS * np.minimum(phase, INSPECTION_RUN_S),
                           0.0, shaft)  # fmt: skip
    return (
        np.where(inspection, run_position, position),
        np.where(runs, direction * INSPECTION_SPEED_MPS, speed),
        np.where(runs, direction, sign),
        moving | runs,
    )


def observe(sim: Simulation, t: FloatArray, wear: FloatArray) -> Snapshot:
    """The controllers' view at instants `t`; also advances the units' temperatures by one step."""
    fleet, c = sim.fleet, sim.cycles
    tau = t - c.depart
    travel = c.travel_s
    offset, speed, accel = motion_at(tau, c.distance_m, c.peak_mps, fleet.accel, c.move_s)
    halted = sim.halted
    moving = (tau >= 0) & (tau < c.move_s) & ~halted
    levelling = (tau >= c.move_s) & (tau < travel) & ~halted
    running = moving | levelling
    sign = np.sign(c.distance_m)
    origin_m = c.origin * fleet.floor_height_m
    target_m = c.target * fleet.floor_height_m
    parked_mm = np.where(tau < travel, c.previous_levelling_mm, c.levelling_mm)
    parked_m = np.where(tau < 0, origin_m, target_m) + parked_mm / 1000.0
    position = np.where(
        moving, origin_m + offset, np.where(levelling, target_m - sign * CREEP_MPS * (travel - tau), parked_m)
    )
    position = np.where(halted, sim.halt_position, position)
    speed = np.where(moving, speed, np.where(levelling, sign * CREEP_MPS, 0.0))
    inspection = sim.inspecting & halted
    if inspection.any():
        position, speed, sign, moving = _inspection(sim, t, inspection, position, speed, sign, moving)
        running = moving | levelling
    door_t = np.where(halted, -1.0, tau - travel)
    in_trip = (tau >= 0) & (door_t < c.open_s)
    load = np.where(halted, sim.halt_load, np.where(in_trip, c.load_pct, 0.0))
    load_reading = np.maximum(load + LOAD_NOISE_PCT * sim.noise(_NOISE_LOAD), 0.0)
    direction = (sign * running).astype(np.int64)
    brake_wear, bearing_wear = wear[_WEAR["brake_lining_wear"]], wear[_WEAR["bearing_wear"]]
    running_current = motor_current(
        rated_current=fleet.rated_current,
        direction=sign,
        load_pct=load,
        balance_pct=fleet.balance_pct,
        accel_along=np.where(levelling, 0.0, accel * sign),
        rated_accel=fleet.accel,
        brake_wear=brake_wear,
        bearing_wear=bearing_wear,
    )
    current = np.where(moving, 1.0, np.where(levelling, LEVELLING_CURRENT_SHARE, 0.0)) * running_current
    current = current * (1.0 + CURRENT_NOISE * sim.noise(_NOISE_CURRENT))
    heat = (current / fleet.rated_current) ** 2
    ambient = ambient_temp(fleet.ambient_c, fleet.season_c, t, local_hour(t, fleet.utc_offset_s))
    drive_wear = wear[_WEAR["drive_overheating"]]
    sim.motor_temp = relax(sim.motor_temp, ambient + MOTOR_HEAT_C * heat, sim.dt, MOTOR_TAU_S)
    drive_target = ambient + DRIVE_HEAT_C * (1.0 + DRIVE_WEAR_GAIN * drive_wear) * heat + DRIVE_WEAR_IDLE_C * drive_wear
    sim.drive_temp = relax(sim.drive_temp, drive_target, sim.dt, DRIVE_TAU_S)
    vib, hf = vibration(
        base=fleet.vib_base,
        speed_share=np.abs(speed) / fleet.rated_speed,
        moving=running.astype(np.float64),
        bearing_wear=bearing_wear,
        noise=sim.noise(_NOISE_VIBRATION),
    )
    temp_noise = sim.noise(_NOISE_TEMP)
    floor = np.clip(np.rint(position / fleet.floor_height_m), 0, fleet.floors - 1).astype(np.int64)
    sim.energy_kwh += fleet.standby_w * sim.dt / 3.6e6
    return Snapshot(
        ts=t,
        reporting=~sim.offline,
        floor=floor,
        position_m=position,
        direction=direction,
        speed_mps=speed,
        load_pct=load_reading,
        door_state=_door_state(door_t, c.open_s, c.dwell_s, c.close_s),
        motor_current_a=current,
        motor_temp_c=sim.motor_temp + TEMPERATURE_NOISE_C * temp_noise,
        drive_temp_c=sim.drive_temp - TEMPERATURE_NOISE_C * temp_noise,
        vibration=vib,
        brake_engaged=~running,
        levelling_error_mm=parked_mm,
        trip_count=sim.trips.copy(),
        door_cycles=sim.door_cycles.copy(),
        energy_kwh=sim.energy_kwh.copy(),
        standby_power_w=fleet.standby_w * (1.0 + STANDBY_NOISE * sim.noise(_NOISE_STANDBY)),
        door_open_s=c.open_s.copy(),
        door_close_s=c.close_s.copy(),
        door_reopens=c.reopens.copy(),
        vibration_hf=hf,
        stop_distance_mm=c.stop_distance_mm.copy(),
    )
