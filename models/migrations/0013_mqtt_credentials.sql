-- Who may connect to the broker: one row per MQTT identity (a device of one unit, or a platform service).
-- Only the broker's own salted PBKDF2-SHA512 hash is kept (mosquitto's password-file format), never a secret.
CREATE TABLE mqtt_credentials (
    id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    username       text NOT NULL UNIQUE CHECK (username ~ '^[A-Za-z0-9][A-Za-z0-9_.~-]{0,127}$'),
    kind           text NOT NULL CHECK (kind IN ('device', 'ingest', 'simulator')),
    unit_id        text REFERENCES units (id),
    password_hash  text NOT NULL CHECK (password_hash LIKE '$7$%'),
    created_at     timestamptz NOT NULL DEFAULT now(),
    -- a rotated credential stays valid until then (the grace period lets a fleet roll over)
    expires_at     timestamptz,
    revoked_at     timestamptz,
    replaced_by    uuid REFERENCES mqtt_credentials (id),
    CHECK ((kind = 'device') = (unit_id IS NOT NULL))
);
CREATE INDEX mqtt_credentials_unit_idx ON mqtt_credentials (unit_id, created_at);
