-- Storage at fleet scale (Apache TimescaleDB: no compression, no continuous aggregates).

-- 1. The most diagnostic signals become typed columns (they rode in `extras` as JSON, about half of a row).
ALTER TABLE telemetry
    ADD COLUMN door_open_s       real,      -- last door opening time, s
    ADD COLUMN door_close_s      real,      -- last door closing time, s
    ADD COLUMN door_reopens      smallint,  -- reopens in the last door cycle
    ADD COLUMN vibration_hf_rms  real,      -- high-frequency vibration band RMS, m/s^2
    ADD COLUMN stop_distance_mm  real;      -- brake stopping distance of the last stop, mm

-- Rows already stored move the same way ingest moves an older message (models/telemetry/contract.py
-- LIFTED_EXTRAS): a number in the field's range goes to its column and leaves `extras`; anything else stays.
CREATE FUNCTION pg_temp.lifted(extras jsonb, key text, lo numeric, hi numeric, whole boolean) RETURNS numeric
LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN jsonb_typeof(extras -> key) = 'number' THEN
        CASE WHEN (extras ->> key)::numeric BETWEEN lo AND hi AND (NOT whole OR (extras ->> key)::numeric % 1 = 0)
             THEN (extras ->> key)::numeric END END
$$;
-- SET expressions all read the row as it was: each value is checked for its column, then again for `extras`.
UPDATE telemetry SET
    door_open_s = pg_temp.lifted(extras, 'door_open_s', 0, 600, false)::real,
    door_close_s = pg_temp.lifted(extras, 'door_close_s', 0, 600, false)::real,
    door_reopens = pg_temp.lifted(extras, 'door_reopens', 0, 1000, true)::smallint,
    vibration_hf_rms = pg_temp.lifted(extras, 'vibration_hf_rms', 0, 200, false)::real,
    stop_distance_mm = pg_temp.lifted(extras, 'stop_distance_mm', -5000, 5000, false)::real,
    extras = nullif(extras - array_remove(ARRAY[
        CASE WHEN pg_temp.lifted(extras, 'door_open_s', 0, 600, false) IS NOT NULL THEN 'door_open_s' END,
        CASE WHEN pg_temp.lifted(extras, 'door_close_s', 0, 600, false) IS NOT NULL THEN 'door_close_s' END,
        CASE WHEN pg_temp.lifted(extras, 'door_reopens', 0, 1000, true) IS NOT NULL THEN 'door_reopens' END,
        CASE WHEN pg_temp.lifted(extras, 'vibration_hf_rms', 0, 200, false) IS NOT NULL THEN 'vibration_hf_rms' END,
        CASE WHEN pg_temp.lifted(extras, 'stop_distance_mm', -5000, 5000, false) IS NOT NULL THEN 'stop_distance_mm' END
    ], NULL), '{}')
WHERE extras ?| ARRAY['door_open_s', 'door_close_s', 'door_reopens', 'vibration_hf_rms', 'stop_distance_mm'];
DROP FUNCTION pg_temp.lifted;

-- 2. Rollups per unit: hourly from raw rows, daily from the hourly rows (kept by the brain's `rollups` job).
-- Per numeric signal: samples with a value (n), mean, min and max, so wider buckets combine exactly
-- (a mean weighted by n). Counters keep their min and max: a bucket's increase is max - min, as on raw rows.
CREATE TABLE telemetry_hourly (
    unit_id text NOT NULL,
    bucket timestamptz NOT NULL,
    samples integer NOT NULL,
    speed_mps_n integer NOT NULL,
    speed_mps_avg double precision,
    speed_mps_min real,
    speed_mps_max real,
    load_pct_n integer NOT NULL,
    load_pct_avg double precision,
    load_pct_min real,
    load_pct_max real,
    motor_current_a_n integer NOT NULL,
    motor_current_a_avg double precision,
    motor_current_a_min real,
    motor_current_a_max real,
    motor_temp_c_n integer NOT NULL,
    motor_temp_c_avg double precision,
    motor_temp_c_min real,
    motor_temp_c_max real,
    drive_temp_c_n integer NOT NULL,
    drive_temp_c_avg double precision,
    drive_temp_c_min real,
    drive_temp_c_max real,
    vibration_x_n integer NOT NULL,
    vibration_x_avg double precision,
    vibration_x_min real,
    vibration_x_max real,
    vibration_y_n integer NOT NULL,
    vibration_y_avg double precision,
    vibration_y_min real,
    vibration_y_max real,
    vibration_z_n integer NOT NULL,
    vibration_z_avg double precision,
    vibration_z_min real,
    vibration_z_max real,
    levelling_error_mm_n integer NOT NULL,
    levelling_error_mm_avg double precision,
    levelling_error_mm_min real,
    levelling_error_mm_max real,
    standby_power_w_n integer NOT NULL,
    standby_power_w_avg double precision,
    standby_power_w_min real,
    standby_power_w_max real,
    door_open_s_n integer NOT NULL,
    door_open_s_avg double precision,
    door_open_s_min real,
    door_open_s_max real,
    door_close_s_n integer NOT NULL,
    door_close_s_avg double precision,
    door_close_s_min real,
    door_close_s_max real,
    door_reopens_n integer NOT NULL,
    door_reopens_avg double precision,
    door_reopens_min real,
    door_reopens_max real,
    vibration_hf_rms_n integer NOT NULL,
    vibration_hf_rms_avg double precision,
    vibration_hf_rms_min real,
    vibration_hf_rms_max real,
    stop_distance_mm_n integer NOT NULL,
    stop_distance_mm_avg double precision,
    stop_distance_mm_min real,
    stop_distance_mm_max real,
    trip_count_min bigint,
    trip_count_max bigint,
    door_cycles_min bigint,
    door_cycles_max bigint,
    energy_kwh_min double precision,
    energy_kwh_max double precision,
    rolled_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (unit_id, bucket)
);
CREATE TABLE telemetry_daily (LIKE telemetry_hourly INCLUDING ALL);

-- Where each derived store stands: `rollup:hourly`/`rollup:daily` are complete before `until`; `cold:telemetry`
-- holds every telemetry row before `until` in Parquet under `location` (one directory per UTC day).
CREATE TABLE telemetry_marks (
    name      text PRIMARY KEY,
    until     timestamptz NOT NULL,
    location  text,
    moved_at  timestamptz NOT NULL             -- when the writer moved it (its clock, as ingest's received_at)
);
