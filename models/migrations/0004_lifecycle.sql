-- Work orders and the append-only, hash-chained lifecycle record of every unit.

-- Build rows get a stable id the API can hand out.
ALTER TABLE unit_components ADD COLUMN id bigint GENERATED ALWAYS AS IDENTITY UNIQUE;

-- The closed loop: alarm -> work order -> crew -> repair / part swap -> verification.
CREATE TABLE work_orders (
    id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    unit_id        text NOT NULL REFERENCES units (id),
    maintainer_id  uuid NOT NULL REFERENCES organizations (id),
    crew_id        uuid REFERENCES crews (id),
    kind           text NOT NULL CHECK (kind IN ('corrective', 'preventive', 'inspection', 'modernization')),
    status         text NOT NULL DEFAULT 'open'
                   CHECK (status IN ('open', 'assigned', 'in_progress', 'done', 'verified', 'cancelled')),
    priority       smallint NOT NULL DEFAULT 3 CHECK (priority BETWEEN 1 AND 5),
    title          text NOT NULL CHECK (length(title) BETWEEN 1 AND 200),
    description    text,
    -- What opened it: a person, an alarm (source_ref = the alarm's id) or the maintenance plan.
    source         text NOT NULL DEFAULT 'manual' CHECK (source IN ('manual', 'alarm', 'plan')),
    source_ref     text,
    due_at         timestamptz,
    completed_at   timestamptz,
    verified_at    timestamptz,
    verification   jsonb CHECK (verification IS NULL OR jsonb_typeof(verification) = 'object'),
    -- Bumped on every change: the ETag the API hands out and expects back in If-Match.
    version        integer NOT NULL DEFAULT 1,
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX work_orders_unit_idx ON work_orders (unit_id, created_at DESC);
CREATE INDEX work_orders_maintainer_idx ON work_orders (maintainer_id, created_at DESC);
CREATE INDEX work_orders_crew_idx ON work_orders (crew_id) WHERE crew_id IS NOT NULL;

CREATE TABLE lifecycle_records (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    unit_id        text NOT NULL REFERENCES units (id),
    seq            integer NOT NULL CHECK (seq >= 1),
    kind           text NOT NULL CHECK (kind IN (
                       'factory_build', 'factory_test', 'shipment', 'installation', 'commissioning',
                       'inspection', 'self_test', 'maintenance', 'fault', 'repair', 'part_replacement',
                       'modernization', 'decommission')),
    occurred_at    timestamptz NOT NULL,
    recorded_at    timestamptz NOT NULL DEFAULT now(),
    actor          text NOT NULL CHECK (length(actor) BETWEEN 1 AND 200),
    data           jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(data) = 'object'),
    work_order_id  uuid REFERENCES work_orders (id),
    prev_hash      bytea,
    hash           bytea NOT NULL,
    UNIQUE (unit_id, seq),
    CHECK ((seq = 1) = (prev_hash IS NULL))
);
CREATE INDEX lifecycle_records_unit_time_idx ON lifecycle_records (unit_id, occurred_at);
CREATE INDEX lifecycle_records_work_order_idx ON lifecycle_records (work_order_id) WHERE work_order_id IS NOT NULL;

-- The hash covers every field and the previous record's hash. Times enter as epoch text so the value does not
-- depend on the session's TimeZone; jsonb's text form is canonical (key order, number formatting).
CREATE FUNCTION lifecycle_record_hash(r lifecycle_records) RETURNS bytea
LANGUAGE sql STABLE AS $$
    SELECT sha256(coalesce(r.prev_hash, '\x'::bytea) || convert_to(jsonb_build_array(
        r.unit_id, r.seq, r.kind, extract(epoch FROM r.occurred_at)::text, extract(epoch FROM r.recorded_at)::text,
        r.actor, r.data, r.work_order_id)::text, 'UTF8'))
$$;

-- The database links the chain itself, so no writer can append a record that skips it.
CREATE FUNCTION lifecycle_records_link() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    last lifecycle_records;
BEGIN
    -- Serialise appends per unit without locking the units row (ingest updates it constantly).
    PERFORM pg_advisory_xact_lock(hashtextextended('lifecycle:' || NEW.unit_id, 0));
    SELECT * INTO last FROM lifecycle_records WHERE unit_id = NEW.unit_id ORDER BY seq DESC LIMIT 1;
    NEW.seq := coalesce(last.seq, 0) + 1;
    NEW.prev_hash := last.hash;
    NEW.hash := lifecycle_record_hash(NEW);
    RETURN NEW;
END
$$;
CREATE TRIGGER lifecycle_records_link BEFORE INSERT ON lifecycle_records
    FOR EACH ROW EXECUTE FUNCTION lifecycle_records_link();

CREATE FUNCTION lifecycle_records_refuse_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'lifecycle records are append-only' USING ERRCODE = 'restrict_violation';
END
$$;
CREATE TRIGGER lifecycle_records_append_only BEFORE UPDATE OR DELETE ON lifecycle_records
    FOR EACH ROW EXECUTE FUNCTION lifecycle_records_refuse_change();
CREATE TRIGGER lifecycle_records_no_truncate BEFORE TRUNCATE ON lifecycle_records
    FOR EACH STATEMENT EXECUTE FUNCTION lifecycle_records_refuse_change();
