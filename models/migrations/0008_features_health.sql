-- Condition monitoring: features per unit and window, versioned detector models, health scores and
-- degradation findings. Plain tables (the Apache TimescaleDB build has no continuous aggregates): the
-- features job keeps unit_features current, so a fleet scan reads features, never raw telemetry.

CREATE TABLE unit_features (
    unit_id                  text NOT NULL,
    window_start             timestamptz NOT NULL,
    window_hours             smallint NOT NULL CHECK (window_hours IN (1, 24)),
    samples                  integer NOT NULL,
    moving_share             real,
    trips                    double precision,
    door_cycles              double precision,
    reopen_rate              real,
    door_open_s              real,
    door_close_s             real,
    levelling_mean_mm        real,
    levelling_abs_p95_mm     real,
    stop_distance_p50_mm     real,
    vibration_z_p50          real,
    vibration_z_p95          real,
    vibration_hf_p50         real,
    current_at_balance_a     real,
    current_per_load_a       real,
    motor_temp_rise_per_duty real,
    drive_over_motor_c       real,
    energy_per_trip_kwh      real,
    standby_power_w          real,
    computed_at              timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (unit_id, window_hours, window_start)
);
CREATE INDEX unit_features_window_idx ON unit_features (window_hours, window_start);

-- A trained detector per model family (family NULL: the fleet-wide fallback), versioned; the artifact is
-- the learned state as JSON bytes (no pickles: loading one must never run code).
CREATE TABLE detector_models (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    family          text NOT NULL,
    version         integer NOT NULL,
    trained_from    timestamptz NOT NULL,
    trained_until   timestamptz NOT NULL,
    features        text[] NOT NULL,
    metrics         jsonb NOT NULL,
    artifact        bytea NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    UNIQUE (family, version)
);

-- Health 0-100 of a unit (component_type 'unit') and of each monitored component, over time, with reasons.
-- score is NULL when the unit cannot be judged yet (the reason says why).
CREATE TABLE health_scores (
    unit_id         text NOT NULL,
    component_type  text NOT NULL,
    at              timestamptz NOT NULL,
    score           real CHECK (score BETWEEN 0 AND 100),
    reasons         jsonb NOT NULL,
    model_id        bigint REFERENCES detector_models (id),
    PRIMARY KEY (unit_id, component_type, at)
);

-- A detector's finding that a component of a unit degrades: one open finding per unit + component, repeats
-- update it. Carries what an alarm needs (type, severity, component, source, reason, evidence, time).
CREATE TABLE degradation_findings (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    unit_id         text NOT NULL,
    component_type  text NOT NULL,
    state           text NOT NULL CHECK (state IN ('open', 'closed')),
    severity        text NOT NULL CHECK (severity IN ('critical', 'major', 'minor', 'warning')),
    score           real NOT NULL,
    reason          text NOT NULL,
    evidence        jsonb NOT NULL,
    window_start    timestamptz NOT NULL,
    window_end      timestamptz NOT NULL,
    source          text NOT NULL,
    model_id        bigint REFERENCES detector_models (id),
    opened_at       timestamptz NOT NULL,
    last_seen       timestamptz NOT NULL,
    seen_count      integer NOT NULL DEFAULT 1,
    closed_at       timestamptz,
    close_reason    text
);
CREATE UNIQUE INDEX degradation_findings_open_idx ON degradation_findings (unit_id, component_type)
    WHERE state = 'open';
CREATE INDEX degradation_findings_unit_idx ON degradation_findings (unit_id, opened_at DESC);
