-- Telemetry and controller events: hypertables keyed by (unit, device time) so redelivery is absorbed.

CREATE TABLE telemetry (
    unit_id             text NOT NULL,
    time                timestamptz NOT NULL,      -- the device's timestamp
    received_at         timestamptz NOT NULL,      -- when ingest received the message
    floor               smallint,
    position_m          real,
    direction           smallint CHECK (direction IN (-1, 0, 1)),
    speed_mps           real,
    load_pct            real,
    door_state          smallint,                  -- 0 closed, 1 opening, 2 open, 3 closing, 4 blocked
    motor_current_a     real,
    motor_temp_c        real,
    drive_temp_c        real,
    vibration_x         real,                      -- car vibration RMS per axis, m/s^2
    vibration_y         real,
    vibration_z         real,
    brake_engaged       boolean,
    levelling_error_mm  real,
    trip_count          bigint,
    door_cycles         bigint,
    energy_kwh          double precision,
    standby_power_w     real,
    extras              jsonb
);
SELECT create_hypertable('telemetry', 'time', chunk_time_interval => interval '1 day');
CREATE UNIQUE INDEX telemetry_unit_time_idx ON telemetry (unit_id, time DESC);

CREATE TABLE events (
    unit_id      text NOT NULL,
    time         timestamptz NOT NULL,
    received_at  timestamptz NOT NULL,
    code         text NOT NULL,                    -- contract code, e.g. 'door_close_fault'
    category     text NOT NULL CHECK (category IN ('fault', 'event', 'alarm')),
    gb_code      smallint,                         -- GB/T 24476 numeric code where one exists
    floor        smallint,
    details      jsonb
);
SELECT create_hypertable('events', 'time', chunk_time_interval => interval '7 days');
CREATE UNIQUE INDEX events_unit_time_code_idx ON events (unit_id, time DESC, code);

CREATE TABLE unit_status_changes (
    unit_id      text NOT NULL,
    time         timestamptz NOT NULL,
    received_at  timestamptz NOT NULL,
    state        text NOT NULL CHECK (state IN ('online', 'offline'))
);
SELECT create_hypertable('unit_status_changes', 'time', chunk_time_interval => interval '30 days');
CREATE UNIQUE INDEX unit_status_changes_idx ON unit_status_changes (unit_id, time DESC, state);

-- Whatever ingest could not accept, with the reason; kept for inspection and replay.
CREATE TABLE dead_letters (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    received_at  timestamptz NOT NULL DEFAULT now(),
    topic        text NOT NULL,
    unit_id      text,
    reason       text NOT NULL,
    payload      bytea NOT NULL
);
CREATE INDEX dead_letters_received_idx ON dead_letters (received_at DESC);
