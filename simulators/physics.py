"""The physics of a car, vectorised over units: trip kinematics, motor current, heating, vibration, levelling.

Severity arrays (0 healthy .. 1 failed) come from simulators/degradation.py; each function says which wear it
reads. Gains are named so the visible effect of each wear process can be tuned in one place.
"""

from __future__ import annotations

import math

import numpy as np

from simulators.rng import FloatArray

__all__ = [
    "LEVELLING_S",
    "ambient_temp",
    "door_times",
    "levelling_error",
    "motion_at",
    "motor_current",
    "relax",
    "stop_distance",
    "trip_time",
    "vibration",
]

# Final approach at creep speed before the brake drops: about a second on modern drives.
LEVELLING_S = 1.2
CREEP_MPS = 0.03
# Share of rated current the drive draws to magnetise the motor, then per unit of torque.
MAGNETISING_SHARE = 0.25
TORQUE_SHARE = 0.75
# Torque per 100 % of load imbalance against the counterweight, and for accelerating the car at rated accel.
IMBALANCE_TORQUE = 1.6
ACCEL_TORQUE = 0.35
# Running friction of a healthy machine; a dragging brake and a worn bearing add to it.
FRICTION_TORQUE = 0.12
BRAKE_DRAG_TORQUE = 0.15
BEARING_FRICTION_TORQUE = 0.08
# Door roller wear: doors slow down (close more than open: the worn track fights the closing spring).
DOOR_OPEN_WEAR_GAIN = 0.6
DOOR_CLOSE_WEAR_GAIN = 0.9
# Rope stretch lets the car stop below the sill, more so loaded; a worn brake overtravels and scatters.
ROPE_STRETCH_MM = 22.0
BRAKE_OVERTRAVEL_MM = 12.0
LEVELLING_SD_MM = 1.5
BRAKE_SCATTER_MM = 4.0
STOP_DISTANCE_MM = 8.0
BRAKE_STOP_GAIN = 3.0
# Bearing wear shows first in the high-frequency band, then in the broadband RMS of the car.
BEARING_HF_GAIN = 10.0
BEARING_RMS_GAIN = 4.0
HF_BASE_RMS = 0.02
# A parked car still picks up building vibration, a fraction of its running level.
PARKED_VIBRATION_SHARE = 0.15
# Machine-room air follows the day (coolest before dawn, warmest mid-afternoon) and the year (warmest late
# July in the northern hemisphere, where every simulated site is).
AMBIENT_SWING_C = 3.0
WARMEST_DAY_OF_YEAR = 200.0
DAYS_PER_YEAR = 365.25


def trip_time(distance_m: FloatArray, rated_speed: FloatArray, accel: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Peak speed and duration of a trapezoidal (or, on short trips, triangular) speed profile."""
    dist = np.abs(distance_m)
    peak = np.minimum(rated_speed, np.sqrt(dist * accel))
    duration = np.where(peak > 0, dist / np.maximum(peak, 1e-9) + peak / accel, 0.0)
    return peak, duration


def motion_at(
    tau: FloatArray, distance_m: FloatArray, peak: FloatArray, accel: FloatArray, duration: FloatArray
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Signed offset from the start floor, signed speed and signed acceleration at `tau` into the trip."""
    sign = np.sign(distance_m)
    t_acc = peak / accel
    tau = np.clip(tau, 0.0, duration)
    to_end = duration - tau
    accelerating = tau < t_acc
    decelerating = to_end < t_acc
    along = np.where(
        accelerating,
        0.5 * accel * tau**2,
        np.where(decelerating, np.abs(distance_m) - 0.5 * accel * to_end**2, 0.5 * peak * t_acc + peak * (tau - t_acc)),
    )
    speed = np.where(accelerating, accel * tau, np.where(decelerating, accel * to_end, peak))
    acceleration = np.where(accelerating, accel, np.where(decelerating, -accel, 0.0))
    return sign * along, sign * speed, sign * acceleration


def motor_current(
    *,
    rated_current: FloatArray,
    direction: FloatArray,
    load_pct: FloatArray,
    balance_pct: FloatArray,
    accel_along: FloatArray,
    rated_accel: FloatArray,
    brake_wear: FloatArray,
    bearing_wear: FloatArray,
) -> FloatArray:
    """RMS motor current of a running car (A): load against counterweight, acceleration, friction."""
    friction = FRICTION_TORQUE + BRAKE_DRAG_TORQUE * brake_wear + BEARING_FRICTION_TORQUE * bearing_wear
    torque = (
        friction
        + direction * (load_pct - balance_pct) / 100.0 * IMBALANCE_TORQUE
        + accel_along / rated_accel * ACCEL_TORQUE
    )
    return rated_current * (MAGNETISING_SHARE + TORQUE_SHARE * np.abs(torque))


def door_times(
    base_open: FloatArray, base_close: FloatArray, door_wear: FloatArray, noise: FloatArray
) -> tuple[FloatArray, FloatArray]:
    """Door opening and closing times (s) of one cycle."""
    jitter = 1.0 + 0.04 * noise
    return base_open * (1 + DOOR_OPEN_WEAR_GAIN * door_wear) * jitter, base_close * (
        1 + DOOR_CLOSE_WEAR_GAIN * door_wear
    ) * jitter


def levelling_error(
    *, direction: FloatArray, load_pct: FloatArray, rope_wear: FloatArray, brake_wear: FloatArray, noise: FloatArray
) -> FloatArray:
    """Stop position relative to the sill (mm, + above) after a trip."""
    sag = -ROPE_STRETCH_MM * rope_wear * (0.5 + load_pct / 100.0)
    overtravel = BRAKE_OVERTRAVEL_MM * brake_wear * direction
    return sag + overtravel + (LEVELLING_SD_MM + BRAKE_SCATTER_MM * brake_wear) * noise


def stop_distance(brake_wear: FloatArray, noise: FloatArray) -> FloatArray:
    """Distance the car slides after the brake drops at creep speed (mm); a worn lining grips late."""
    return STOP_DISTANCE_MM * (1.0 + BRAKE_STOP_GAIN * brake_wear) * (1.0 + 0.1 * noise)


def vibration(
    *, base: FloatArray, speed_share: FloatArray, moving: FloatArray, bearing_wear: FloatArray, noise: FloatArray
) -> tuple[FloatArray, FloatArray]:
    """Per-axis car vibration RMS (units, 3) and the high-frequency band RMS (units,), m/s^2."""
    running = base * (1.0 + 0.5 * speed_share[:, None]) * (1.0 + BEARING_RMS_GAIN * bearing_wear[:, None] ** 2)
    level = np.where(moving[:, None] > 0, running, base * PARKED_VIBRATION_SHARE)
    hf = HF_BASE_RMS * (1.0 + BEARING_HF_GAIN * bearing_wear) * np.where(moving > 0, 1.0, PARKED_VIBRATION_SHARE)
    jitter = np.exp(0.1 * noise)
    return level * jitter[:, None], hf * jitter


def ambient_temp(base_c: FloatArray, season_c: FloatArray, t: FloatArray, local_hour: FloatArray) -> FloatArray:
    """Machine-room temperature at UTC epoch seconds `t` (this local hour): yearly mean, season, day."""
    day_of_year = (t / 86_400.0) % DAYS_PER_YEAR
    season = season_c * np.cos(2 * np.pi * (day_of_year - WARMEST_DAY_OF_YEAR) / DAYS_PER_YEAR)
    return base_c + season + AMBIENT_SWING_C * np.sin(2 * np.pi * (local_hour - 9.0) / 24.0)


def relax(value: FloatArray, target: FloatArray, dt: float, tau_s: float) -> FloatArray:
    """First-order approach of `value` to `target` over `dt` seconds (thermal mass)."""
    return value + (target - value) * (1.0 - math.exp(-dt / tau_s))
