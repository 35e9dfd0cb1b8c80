-- Confounders in the ground truth (sensor drift, stuck values, gateway gaps...): a false alarm on one is countable.
ALTER TABLE simulation_labels DROP CONSTRAINT simulation_labels_kind_check;
ALTER TABLE simulation_labels ADD CONSTRAINT simulation_labels_kind_check
    CHECK (kind IN ('fault', 'event', 'alarm', 'degradation', 'confounder'));
ALTER TABLE simulation_labels
    ADD COLUMN ends_at timestamptz,
    ADD COLUMN arrived_at timestamptz,
    ADD COLUMN detected_at timestamptz,
    ADD COLUMN signal text,
    ADD COLUMN magnitude double precision,
    ADD COLUMN precursor boolean;
CREATE INDEX simulation_labels_kind_idx ON simulation_labels (kind, cause);
