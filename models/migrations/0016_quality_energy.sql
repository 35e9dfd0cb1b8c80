-- Fleet energy performance per unit and month (ISO 25745-2 classes) from the daily counter readings, and
-- repair times beside MTBF in the reliability snapshot.

-- The day's standby power as the unit last reported it while parked, beside the day's counters.
ALTER TABLE unit_counter_days ADD COLUMN standby_power_w real;

-- One row per unit and calendar month (UTC) with readings: usage, running energy per trip, standby power, and
-- their ISO 25745-2 classes (brain.quality.energy says where the bounds come from). Drift is judged once a month
-- is complete, against the unit's own earlier months: NULL until then.
CREATE TABLE unit_energy_months (
    unit_id                 text NOT NULL REFERENCES units (id),
    month                   date NOT NULL CHECK (extract(day FROM month) = 1),
    hours                   double precision NOT NULL CHECK (hours >= 0),   -- between the readings it spans
    trips                   bigint NOT NULL,
    energy_kwh              double precision NOT NULL,
    standby_power_w         real,
    running_kwh_per_trip    double precision,
    specific_running_mwh    double precision,   -- mWh per kg of rated load per m of average travel
    usage_category          smallint CHECK (usage_category BETWEEN 1 AND 6),
    daily_kwh               double precision,   -- at the usage category's nominal trips per day
    running_class           char(1) CHECK (running_class BETWEEN 'A' AND 'G'),
    standby_class           char(1) CHECK (standby_class BETWEEN 'A' AND 'G'),
    energy_class            char(1) CHECK (energy_class BETWEEN 'A' AND 'G'),
    drift                   boolean,
    drift_reason            text,
    computed_at             timestamptz NOT NULL,
    PRIMARY KEY (unit_id, month)
);
CREATE INDEX unit_energy_months_month_idx ON unit_energy_months (month);

-- Repair times: from the failure (the alarm that opened the order, else the order) to done and to verified;
-- availability from downtime events where a model's units report them.
ALTER TABLE reliability_stats ADD COLUMN repairs integer;
ALTER TABLE reliability_stats ADD COLUMN mttr_verified_hours double precision;
ALTER TABLE reliability_stats ADD COLUMN downtime_hours double precision;
ALTER TABLE reliability_stats ADD COLUMN event_availability double precision;
-- When the group's Weibull fit and probability points were computed (the job reuses them while it is unchanged).
ALTER TABLE reliability_stats ADD COLUMN weibull_fitted_at timestamptz;
-- The job asks for the last rolled-up day every pass: without this it scans every unit's readings.
CREATE INDEX unit_counter_days_day_idx ON unit_counter_days (day);
