-- Ground truth of simulated runs (what the simulator injected), so detection jobs can be scored in SQL.
CREATE TABLE simulation_labels (
    run_id                text NOT NULL,
    seq                   integer NOT NULL,
    kind                  text NOT NULL CHECK (kind IN ('fault', 'event', 'alarm', 'degradation')),
    unit_id               text NOT NULL,
    cause                 text NOT NULL,
    onset_at              timestamptz NOT NULL,
    component_type        text,
    component_serial      text,
    batch_lot             text,
    batch_defective       boolean,
    event_code            text,
    event_at              timestamptz,
    predicted_failure_at  timestamptz,
    failure_at            timestamptz,
    repaired_at           timestamptz,
    loaded_at             timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (run_id, seq)
);
CREATE INDEX simulation_labels_unit_idx ON simulation_labels (unit_id, onset_at);
