-- Alarms: one open alarm per unit + type (+ component), its full history, and the event-rule job's cursor.

CREATE TABLE alarms (
    id                uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    unit_id           text NOT NULL REFERENCES units (id),
    alarm_type        text NOT NULL CHECK (alarm_type ~ '^[a-z][a-z0-9_]{0,63}$'),
    component_type    text REFERENCES component_types (code),
    severity          text NOT NULL CHECK (severity IN ('critical', 'major', 'minor', 'warning')),
    state             text NOT NULL DEFAULT 'open' CHECK (state IN ('open', 'acknowledged', 'cleared')),
    -- True while the unit is in inspection or under a work order and the alarm's policy says to suppress it.
    suppressed        boolean NOT NULL DEFAULT false,
    source            text NOT NULL CHECK (length(source) BETWEEN 1 AND 100),
    reason            text NOT NULL CHECK (length(reason) BETWEEN 1 AND 1000),
    evidence          jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(evidence) = 'object'),
    count             integer NOT NULL DEFAULT 1 CHECK (count >= 1),
    first_seen        timestamptz NOT NULL,
    last_seen         timestamptz NOT NULL,
    assignee_crew_id  uuid REFERENCES crews (id),
    acknowledged_at   timestamptz,
    acknowledged_by   text,
    cleared_at        timestamptz,
    cleared_by        text,
    -- Bumped on every change: the ETag the API hands out and expects back in If-Match.
    version           integer NOT NULL DEFAULT 1,
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now(),
    CHECK ((state = 'cleared') = (cleared_at IS NOT NULL))
);
-- The aggregate's invariant: at most one alarm not yet cleared per unit + type + component.
CREATE UNIQUE INDEX alarms_one_active_idx ON alarms (unit_id, alarm_type, (coalesce(component_type, '')))
    WHERE state <> 'cleared';
CREATE INDEX alarms_last_seen_idx ON alarms (last_seen DESC, id);
CREATE INDEX alarms_unit_idx ON alarms (unit_id, last_seen DESC);

-- Who did what to an alarm, when and why; appended by the brain and by people, never changed.
CREATE TABLE alarm_history (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    alarm_id    uuid NOT NULL REFERENCES alarms (id),
    at          timestamptz NOT NULL,
    actor       text NOT NULL CHECK (length(actor) BETWEEN 1 AND 200),
    action      text NOT NULL CHECK (action IN (
                    'opened', 'repeated', 'escalated', 'suppressed', 'downgraded', 'acknowledged', 'assigned',
                    'commented', 'cleared')),
    reason      text,
    data        jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(data) = 'object'),
    recorded_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX alarm_history_alarm_idx ON alarm_history (alarm_id, id);

-- The event-rule job reads events by receive time; this index keeps each pass a short range scan per chunk.
CREATE INDEX events_received_idx ON events (received_at);

-- Events the rule job has applied, so an overlapping re-read (late commits) never counts one twice.
CREATE TABLE alarm_rule_events (
    unit_id      text NOT NULL,
    time         timestamptz NOT NULL,
    code         text NOT NULL,
    received_at  timestamptz NOT NULL,
    PRIMARY KEY (unit_id, time, code)
);
CREATE INDEX alarm_rule_events_received_idx ON alarm_rule_events (received_at);

CREATE TABLE alarm_cursors (
    name         text PRIMARY KEY,
    received_at  timestamptz NOT NULL
);
-- The rules apply to events received from now on: installing alarms on a database with years of events must
-- not replay them all as alarms.
INSERT INTO alarm_cursors (name, received_at) VALUES ('event_rules', now());
