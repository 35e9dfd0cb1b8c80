-- The fleet registry: who makes, supplies and maintains what, and which component sits in which unit.

CREATE TABLE organizations (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name        text NOT NULL UNIQUE CHECK (length(name) BETWEEN 1 AND 200),
    kind        text NOT NULL CHECK (kind IN ('platform', 'manufacturer', 'maintainer', 'supplier', 'regulator', 'owner')),
    created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE manufacturers (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name            text NOT NULL UNIQUE CHECK (length(name) BETWEEN 1 AND 200),
    organization_id uuid REFERENCES organizations (id),
    created_at      timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE suppliers (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name            text NOT NULL UNIQUE CHECK (length(name) BETWEEN 1 AND 200),
    organization_id uuid REFERENCES organizations (id),
    created_at      timestamptz NOT NULL DEFAULT now()
);

-- A product line ("model" in the trade); named unit_models to keep "model" free for learned models.
CREATE TABLE unit_models (
    id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    manufacturer_id  uuid NOT NULL REFERENCES manufacturers (id),
    name             text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    capacity_kg      integer NOT NULL CHECK (capacity_kg BETWEEN 100 AND 20000),
    rated_speed_mps  double precision NOT NULL CHECK (rated_speed_mps > 0 AND rated_speed_mps <= 25),
    drive_type       text NOT NULL CHECK (drive_type IN ('traction_geared', 'traction_gearless', 'hydraulic', 'mrl')),
    created_at       timestamptz NOT NULL DEFAULT now(),
    UNIQUE (manufacturer_id, name)
);

CREATE TABLE component_types (
    code  text PRIMARY KEY,
    name  text NOT NULL
);
INSERT INTO component_types (code, name) VALUES
    ('traction_machine', 'Traction machine'),
    ('brake', 'Brake'),
    ('door_operator', 'Door operator'),
    ('door_rollers', 'Door rollers and track'),
    ('controller', 'Controller'),
    ('drive', 'Drive (inverter)'),
    ('ropes', 'Suspension ropes'),
    ('governor', 'Overspeed governor'),
    ('bearing', 'Machine bearing'),
    ('safety_gear', 'Safety gear');

CREATE TABLE component_batches (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    supplier_id     uuid NOT NULL REFERENCES suppliers (id),
    component_type  text NOT NULL REFERENCES component_types (code),
    lot             text NOT NULL CHECK (length(lot) BETWEEN 1 AND 100),
    produced_on     date,
    created_at      timestamptz NOT NULL DEFAULT now(),
    UNIQUE (supplier_id, lot)
);

CREATE TABLE components (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    serial          text NOT NULL UNIQUE CHECK (length(serial) BETWEEN 1 AND 100),
    component_type  text NOT NULL REFERENCES component_types (code),
    batch_id        uuid REFERENCES component_batches (id),
    created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX components_batch_idx ON components (batch_id);

CREATE TABLE sites (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name        text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    address     text,
    city        text,
    created_at  timestamptz NOT NULL DEFAULT now()
);

-- id is the identifier devices use in MQTT topics (lb/v1/<id>/...).
CREATE TABLE units (
    id                 text PRIMARY KEY CHECK (id ~ '^[A-Za-z0-9_.-]{1,64}$'),
    serial             text UNIQUE CHECK (length(serial) BETWEEN 1 AND 100),
    registration_code  text UNIQUE CHECK (length(registration_code) BETWEEN 1 AND 100),
    model_id           uuid REFERENCES unit_models (id),
    manufacturer_id    uuid REFERENCES manufacturers (id),
    site_id            uuid REFERENCES sites (id),
    building           text,
    floors             integer CHECK (floors BETWEEN 2 AND 250),
    status             text NOT NULL DEFAULT 'registered'
                       CHECK (status IN ('registered', 'built', 'shipped', 'installed', 'in_service',
                                         'out_of_service', 'decommissioned')),
    auto_registered    boolean NOT NULL DEFAULT false,
    online             boolean NOT NULL DEFAULT false,
    last_seen          timestamptz,
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX units_manufacturer_idx ON units (manufacturer_id);

-- The build of a unit over time: which component serial sat in which position, and when.
CREATE TABLE unit_components (
    unit_id       text NOT NULL REFERENCES units (id),
    position      text NOT NULL CHECK (length(position) BETWEEN 1 AND 100),
    component_id  uuid NOT NULL REFERENCES components (id),
    installed_at  timestamptz NOT NULL,
    removed_at    timestamptz,
    PRIMARY KEY (unit_id, position, installed_at),
    CHECK (removed_at IS NULL OR removed_at >= installed_at)
);
CREATE UNIQUE INDEX unit_components_current_idx ON unit_components (unit_id, position) WHERE removed_at IS NULL;
CREATE UNIQUE INDEX unit_components_component_current_idx ON unit_components (component_id) WHERE removed_at IS NULL;

-- A maintainer (maintenance company) sees the units it holds a contract for.
CREATE TABLE maintenance_contracts (
    id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    unit_id          text NOT NULL REFERENCES units (id),
    maintainer_id    uuid NOT NULL REFERENCES organizations (id),
    starts_on        date NOT NULL,
    ends_on          date,
    created_at       timestamptz NOT NULL DEFAULT now(),
    CHECK (ends_on IS NULL OR ends_on >= starts_on)
);
CREATE INDEX maintenance_contracts_maintainer_idx ON maintenance_contracts (maintainer_id, unit_id);

CREATE TABLE crews (
    id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    maintainer_id  uuid NOT NULL REFERENCES organizations (id),
    name           text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    created_at     timestamptz NOT NULL DEFAULT now(),
    UNIQUE (maintainer_id, name)
);

-- API keys: only a SHA-256 of the secret is stored; the prefix finds the row.
CREATE TABLE api_keys (
    id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    prefix           text NOT NULL UNIQUE,
    secret_hash      bytea NOT NULL,
    name             text NOT NULL,
    role             text NOT NULL,
    organization_id  uuid NOT NULL REFERENCES organizations (id),
    crew_id          uuid REFERENCES crews (id),
    created_at       timestamptz NOT NULL DEFAULT now(),
    revoked_at       timestamptz
);
