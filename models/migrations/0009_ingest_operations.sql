-- Operating ingest: dead letters by reason class, retained ones stored once, replay bookkeeping; and
-- conflicting duplicates (same key, different values) kept visible instead of vanishing.

ALTER TABLE dead_letters
    ADD COLUMN reason_code text NOT NULL DEFAULT 'invalid',  -- models.dead_letters.Reason
    ADD COLUMN retained boolean NOT NULL DEFAULT false,      -- delivered as the broker's retained state
    ADD COLUMN replayed_at timestamptz,                      -- set once a replay accepted the message
    ADD COLUMN replay_reason text;                           -- why the last replay refused it again
CREATE INDEX dead_letters_unit_idx ON dead_letters (unit_id, received_at DESC);
CREATE INDEX dead_letters_reason_idx ON dead_letters (reason_code, received_at DESC);
-- A retained message comes again on every (re)subscribe: it is one dead letter, not one per reconnect.
CREATE UNIQUE INDEX dead_letters_retained_idx ON dead_letters (topic, md5(payload)) WHERE retained;

CREATE TABLE ingest_conflicts (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind         text NOT NULL CHECK (kind IN ('telemetry', 'event')),
    unit_id      text NOT NULL,
    time         timestamptz NOT NULL,
    detected_at  timestamptz NOT NULL DEFAULT now(),
    kept         jsonb NOT NULL,                               -- the stored version (the first to arrive)
    refused      jsonb NOT NULL                                -- a later, different version of the same key
);
-- A redelivered conflicting message records its conflict once.
CREATE UNIQUE INDEX ingest_conflicts_key_idx ON ingest_conflicts (kind, unit_id, time, md5(refused::text));
CREATE INDEX ingest_conflicts_unit_idx ON ingest_conflicts (unit_id, time DESC);
