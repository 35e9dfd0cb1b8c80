-- API integrity: unit versions for ETags, unit ids that start with a letter or digit, the organisation behind
-- each lifecycle record (for redaction), and signed checkpoints of every unit's chain head.

-- Bumped on every registry change (not on presence: ingest's online/last_seen updates leave it alone).
ALTER TABLE units ADD COLUMN version integer NOT NULL DEFAULT 1;

-- `..` or `-x` are not ids. NOT VALID: existing rows are not re-checked, every new one is.
ALTER TABLE units ADD CONSTRAINT units_id_leading_char CHECK (id ~ '^[A-Za-z0-9]') NOT VALID;

-- The organisation whose key appended the record (NULL: the platform itself). Others see its data redacted.
ALTER TABLE lifecycle_records ADD COLUMN organization_id uuid REFERENCES organizations (id);

-- The hash now covers the organisation too when there is one; records without one hash exactly as before,
-- so every existing chain still verifies.
CREATE OR REPLACE FUNCTION lifecycle_record_hash(r lifecycle_records) RETURNS bytea
LANGUAGE sql STABLE AS $$
    SELECT sha256(coalesce(r.prev_hash, '\x'::bytea) || convert_to((jsonb_build_array(
        r.unit_id, r.seq, r.kind, extract(epoch FROM r.occurred_at)::text, extract(epoch FROM r.recorded_at)::text,
        r.actor, r.data, r.work_order_id)
        || CASE WHEN r.organization_id IS NULL THEN '[]'::jsonb ELSE jsonb_build_array(r.organization_id) END
    )::text, 'UTF8'))
$$;

-- Signed checkpoints: the head (seq, hash) of every unit's chain at a moment, as canonical JSON, signed with an
-- Ed25519 key the operator holds outside the database. A chain cut short or rewritten after a checkpoint no
-- longer contains the head the checkpoint names, and the database cannot forge a new signature.
CREATE TABLE chain_checkpoints (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    created_at  timestamptz NOT NULL DEFAULT now(),
    public_key  bytea NOT NULL CHECK (length(public_key) = 32),
    payload     bytea NOT NULL,
    signature   bytea NOT NULL CHECK (length(signature) = 64)
);
