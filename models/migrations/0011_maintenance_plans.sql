-- Maintenance planned by law and by condition: each unit's plan and its schedule per interval, the visits it
-- brings due with their checklist results, interval decisions, and work orders that know where they came from.

-- One plan per unit: which data file (code and version) it follows and the base of its routine interval.
CREATE TABLE unit_plans (
    unit_id        text PRIMARY KEY REFERENCES units (id),
    plan_code      text NOT NULL CHECK (length(plan_code) BETWEEN 1 AND 64),
    plan_version   text NOT NULL CHECK (length(plan_version) BETWEEN 1 AND 32),
    starts_on      date NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now()
);

-- When each interval of the plan (half-monthly, quarterly...) is next due; a completed visit moves it on.
CREATE TABLE plan_schedules (
    unit_id        text NOT NULL REFERENCES unit_plans (unit_id),
    interval_code  text NOT NULL CHECK (length(interval_code) BETWEEN 1 AND 32),
    interval_days  integer NOT NULL CHECK (interval_days BETWEEN 1 AND 3660),
    last_done_on   date,
    next_due_on    date NOT NULL,
    PRIMARY KEY (unit_id, interval_code)
);
CREATE INDEX plan_schedules_due_idx ON plan_schedules (next_due_on);

-- An on-site visit: the intervals it covers; open until completed with its checklist.
CREATE TABLE maintenance_visits (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    unit_id         text NOT NULL REFERENCES units (id),
    plan_code       text NOT NULL,
    plan_version    text NOT NULL,
    intervals       text[] NOT NULL CHECK (cardinality(intervals) >= 1),
    due_on          date NOT NULL,
    work_order_id   uuid REFERENCES work_orders (id),
    completed_at    timestamptz,              -- the crew's (client) time of completion
    recorded_at     timestamptz,              -- the server's time the completion arrived
    completed_by    text,
    idempotency_key text CHECK (length(idempotency_key) BETWEEN 1 AND 200),
    created_at      timestamptz NOT NULL DEFAULT now()
);
-- At most one open visit per unit: newly due intervals join it, so the job never opens a second.
CREATE UNIQUE INDEX maintenance_visits_open_idx ON maintenance_visits (unit_id) WHERE completed_at IS NULL;
CREATE INDEX maintenance_visits_unit_idx ON maintenance_visits (unit_id, due_on DESC);

-- One row per checklist item of a completed visit.
CREATE TABLE visit_item_results (
    visit_id    uuid NOT NULL REFERENCES maintenance_visits (id),
    item_code   text NOT NULL,
    outcome     text NOT NULL CHECK (outcome IN ('pass', 'fail')),
    value       double precision CHECK (value IS NULL OR value BETWEEN -1e9 AND 1e9),
    value_unit  text,
    evidence    text[],
    note        text,
    PRIMARY KEY (visit_id, item_code)
);

-- Every decision on a unit's routine interval, automatic or by a person, with its reasons.
CREATE TABLE interval_decisions (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    unit_id        text NOT NULL REFERENCES unit_plans (unit_id),
    interval_code  text NOT NULL,
    decided_at     timestamptz NOT NULL,
    interval_days  integer NOT NULL CHECK (interval_days BETWEEN 1 AND 3660),
    previous_days  integer NOT NULL,
    source         text NOT NULL CHECK (source IN ('auto', 'override')),
    actor          text NOT NULL,
    reasons        jsonb NOT NULL CHECK (jsonb_typeof(reasons) = 'array'),
    until          date                        -- an override holds until this date (NULL: until lifted)
);
CREATE INDEX interval_decisions_unit_idx ON interval_decisions (unit_id, decided_at DESC, id DESC);

-- Work orders are opened for the unit's current contract holder: find a unit's contracts without a scan.
CREATE INDEX maintenance_contracts_unit_idx ON maintenance_contracts (unit_id, starts_on DESC);

-- Crews work in a region (a site's city); dispatch prefers crews of the unit's region.
ALTER TABLE crews ADD COLUMN region text CHECK (region IS NULL OR length(region) BETWEEN 1 AND 200);

-- Work orders know what opened them (exactly one per alarm, per due visit...), when they must be done,
-- why they went to their crew, and when the crew accepted.
ALTER TABLE work_orders DROP CONSTRAINT work_orders_source_check;
ALTER TABLE work_orders ADD CONSTRAINT work_orders_source_check
    CHECK (source IN ('manual', 'alarm', 'plan', 'visit'));
CREATE UNIQUE INDEX work_orders_source_ref_idx ON work_orders (source, source_ref) WHERE source_ref IS NOT NULL;
ALTER TABLE work_orders
    ADD COLUMN urgency         text NOT NULL DEFAULT 'routine'
                               CHECK (urgency IN ('entrapment', 'critical', 'fault', 'routine')),
    ADD COLUMN evidence        jsonb CHECK (evidence IS NULL OR jsonb_typeof(evidence) = 'object'),
    ADD COLUMN dispatch        jsonb CHECK (dispatch IS NULL OR jsonb_typeof(dispatch) = 'object'),
    ADD COLUMN accepted_at     timestamptz,
    ADD COLUMN sla_breached_at timestamptz;
-- A crew's workload (its active work orders) is counted at every dispatch: index just those.
CREATE INDEX work_orders_crew_active_idx ON work_orders (crew_id) WHERE status IN ('assigned', 'in_progress');
CREATE INDEX work_orders_open_due_idx ON work_orders (due_at)
    WHERE status IN ('open', 'assigned', 'in_progress') AND sla_breached_at IS NULL;

-- Crews that declined a work order: dispatch passes them over for it.
CREATE TABLE work_order_declines (
    work_order_id  uuid NOT NULL REFERENCES work_orders (id),
    crew_id        uuid NOT NULL REFERENCES crews (id),
    declined_at    timestamptz NOT NULL DEFAULT now(),
    reason         text NOT NULL CHECK (length(reason) BETWEEN 1 AND 500),
    PRIMARY KEY (work_order_id, crew_id)
);
