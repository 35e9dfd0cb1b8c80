-- Fleet quality: reliability figures per model, component type, batch and supplier; batch quality alerts;
-- quality issues addressed to supplier and manufacturer with a hash-chained ledger; regions for regulators.

-- A regulator (market-regulation or inspection body) sees the units at the sites of its region.
ALTER TABLE organizations ADD COLUMN region text CHECK (region IS NULL OR length(region) BETWEEN 1 AND 100);
ALTER TABLE sites ADD COLUMN region text CHECK (region IS NULL OR length(region) BETWEEN 1 AND 100);
CREATE INDEX sites_region_idx ON sites (region) WHERE region IS NOT NULL;

-- Each unit's last counter readings per day (counters only grow: the day's maximum), rolled up from telemetry by
-- the quality job, so a part's usage (trips, door cycles) outlives telemetry retention.
CREATE TABLE unit_counter_days (
    unit_id      text NOT NULL,
    day          date NOT NULL,
    trip_count   bigint,
    door_cycles  bigint,
    energy_kwh   double precision,
    PRIMARY KEY (unit_id, day)
);

-- The latest figures of each group, replaced whole by every pass of the quality job (a snapshot, not history).
-- group_key: the model's, batch's or component type's id; "<supplier id>/<component type>" for suppliers.
CREATE TABLE reliability_stats (
    group_kind           text NOT NULL CHECK (group_kind IN ('model', 'component_type', 'batch', 'supplier')),
    group_key            text NOT NULL,
    label                text NOT NULL,
    component_type       text REFERENCES component_types (code),
    batch_id             uuid REFERENCES component_batches (id),
    supplier_id          uuid REFERENCES suppliers (id),
    model_id             uuid REFERENCES unit_models (id),
    manufacturer_id      uuid REFERENCES manufacturers (id),
    computed_at          timestamptz NOT NULL,
    units                integer NOT NULL,
    lives                integer NOT NULL,
    failures             integer NOT NULL,
    exposure_hours       double precision NOT NULL,
    rate_per_mh          double precision,   -- failures per million hours in service, with a 95 % interval
    rate_lower           double precision,
    rate_upper           double precision,
    -- Usage exposure where counters cover the lives: door cycles for door parts, trips for the rest.
    usage_unit           text CHECK (usage_unit IN ('trips', 'door_cycles')),
    usage                double precision,
    usage_failures       integer,
    rate_per_m_usage     double precision,   -- failures per million trips (or door cycles), with a 95 % interval
    usage_rate_lower     double precision,
    usage_rate_upper     double precision,
    mtbf_hours           double precision,
    mttr_hours           double precision,
    availability         double precision,
    fleet_rate_per_mh    double precision,   -- the rest of the component type, for batches and suppliers
    rate_ratio           double precision,
    p_value              double precision,   -- one-sided Poisson test of the rate against the fleet rate
    weibull_shape        double precision,
    weibull_shape_lower  double precision,
    weibull_shape_upper  double precision,
    weibull_scale_hours  double precision,
    weibull_scale_lower  double precision,
    weibull_scale_upper  double precision,
    -- Kaplan-Meier points (hours, unreliability) for the Weibull probability plot.
    probability_points   jsonb NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(probability_points) = 'array'),
    PRIMARY KEY (group_kind, group_key)
);
CREATE INDEX reliability_stats_supplier_idx ON reliability_stats (supplier_id) WHERE supplier_id IS NOT NULL;

-- A batch whose hazard is significantly above its component type's fleet rate. One live alert per batch.
CREATE TABLE quality_alerts (
    id                 uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    batch_id           uuid NOT NULL REFERENCES component_batches (id),
    status             text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'issued')),
    raised_at          timestamptz NOT NULL,
    updated_at         timestamptz NOT NULL,
    failures           integer NOT NULL,
    exposure_hours     double precision NOT NULL,
    rate_per_mh        double precision NOT NULL,
    fleet_rate_per_mh  double precision NOT NULL,
    rate_ratio         double precision,
    p_value            double precision NOT NULL,
    affected_units     integer NOT NULL
);
CREATE UNIQUE INDEX quality_alerts_batch_idx ON quality_alerts (batch_id);

-- A quality issue: an alert addressed to the batch's supplier and a manufacturer, worked through to closure.
CREATE TABLE quality_issues (
    id                uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    alert_id          uuid REFERENCES quality_alerts (id),
    batch_id          uuid NOT NULL REFERENCES component_batches (id),
    supplier_id       uuid NOT NULL REFERENCES suppliers (id),
    manufacturer_id   uuid NOT NULL REFERENCES manufacturers (id),
    title             text NOT NULL CHECK (length(title) BETWEEN 1 AND 200),
    status            text NOT NULL DEFAULT 'reported'
                      CHECK (status IN ('reported', 'acknowledged', 'root_cause', 'corrective_action', 'verified',
                                        'closed')),
    -- From the corrective action: batches of this supplier and type produced from this day on are corrected.
    corrected_from    date,
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX quality_issues_alert_idx ON quality_issues (alert_id) WHERE alert_id IS NOT NULL;
CREATE INDEX quality_issues_supplier_idx ON quality_issues (supplier_id);
CREATE INDEX quality_issues_manufacturer_idx ON quality_issues (manufacturer_id);

-- Every step of every issue, append-only and hash-chained per issue like lifecycle_records (0004).
CREATE TABLE quality_issue_records (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    issue_id     uuid NOT NULL REFERENCES quality_issues (id),
    seq          integer NOT NULL CHECK (seq >= 1),
    step         text NOT NULL CHECK (step IN ('reported', 'acknowledged', 'root_cause', 'corrective_action',
                                               'verified', 'closed', 'reopened')),
    recorded_at  timestamptz NOT NULL DEFAULT now(),
    actor        text NOT NULL CHECK (length(actor) BETWEEN 1 AND 200),
    data         jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(data) = 'object'),
    prev_hash    bytea,
    hash         bytea NOT NULL,
    UNIQUE (issue_id, seq),
    CHECK ((seq = 1) = (prev_hash IS NULL))
);

CREATE FUNCTION quality_issue_record_hash(r quality_issue_records) RETURNS bytea
LANGUAGE sql STABLE AS $$
    SELECT sha256(coalesce(r.prev_hash, '\x'::bytea) || convert_to(jsonb_build_array(
        r.issue_id, r.seq, r.step, extract(epoch FROM r.recorded_at)::text, r.actor, r.data)::text, 'UTF8'))
$$;

CREATE FUNCTION quality_issue_records_link() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    last quality_issue_records;
BEGIN
    PERFORM pg_advisory_xact_lock(hashtextextended('quality_issue:' || NEW.issue_id::text, 0));
    SELECT * INTO last FROM quality_issue_records WHERE issue_id = NEW.issue_id ORDER BY seq DESC LIMIT 1;
    NEW.seq := coalesce(last.seq, 0) + 1;
    NEW.prev_hash := last.hash;
    NEW.hash := quality_issue_record_hash(NEW);
    RETURN NEW;
END
$$;
CREATE TRIGGER quality_issue_records_link BEFORE INSERT ON quality_issue_records
    FOR EACH ROW EXECUTE FUNCTION quality_issue_records_link();
-- The refusal function of 0004 says "lifecycle records"; this table gets its own words.
CREATE FUNCTION quality_issue_records_refuse_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'quality issue records are append-only' USING ERRCODE = 'restrict_violation';
END
$$;
CREATE TRIGGER quality_issue_records_append_only BEFORE UPDATE OR DELETE ON quality_issue_records
    FOR EACH ROW EXECUTE FUNCTION quality_issue_records_refuse_change();
CREATE TRIGGER quality_issue_records_no_truncate BEFORE TRUNCATE ON quality_issue_records
    FOR EACH STATEMENT EXECUTE FUNCTION quality_issue_records_refuse_change();
