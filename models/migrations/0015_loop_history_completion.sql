-- The rest of the maintenance loop: every change of a work order in its audit history, a crew's completion
-- (with the parts it used) made idempotent by its key, and verification from telemetry.

-- Who did what to a work order, when (the server's time, and the crew's own when it sent one) and why.
-- Appended by people and by the brain, never changed.
CREATE TABLE work_order_history (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    work_order_id  uuid NOT NULL REFERENCES work_orders (id),
    at             timestamptz NOT NULL,
    client_at      timestamptz,
    actor          text NOT NULL CHECK (length(actor) BETWEEN 1 AND 200),
    action         text NOT NULL CHECK (action IN (
                       'opened', 'dispatched', 'reassigned', 'accepted', 'declined', 'updated', 'completed',
                       'verified', 'reopened', 'sla_breached')),
    from_status    text,
    to_status      text,
    crew_id        uuid,
    reason         text CHECK (reason IS NULL OR length(reason) BETWEEN 1 AND 2000),
    data           jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(data) = 'object')
);
CREATE INDEX work_order_history_order_idx ON work_order_history (work_order_id, id);

-- A crew's completion: its idempotency key (a resend with it answers the same, another key is a conflict),
-- when the server received it, and what the crew reported (parts, note, evidence).
ALTER TABLE work_orders
    ADD COLUMN completion_key         text CHECK (completion_key IS NULL OR length(completion_key) BETWEEN 1 AND 200),
    ADD COLUMN completion_recorded_at timestamptz,
    ADD COLUMN completion             jsonb CHECK (completion IS NULL OR jsonb_typeof(completion) = 'object'),
    ADD COLUMN reopened_count         integer NOT NULL DEFAULT 0 CHECK (reopened_count >= 0);

-- The verification job watches completed corrective work orders: find them without a scan.
CREATE INDEX work_orders_awaiting_verification_idx ON work_orders (completed_at)
    WHERE status = 'done' AND kind = 'corrective';
