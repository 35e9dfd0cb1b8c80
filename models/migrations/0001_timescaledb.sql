-- TimescaleDB must be in shared_preload_libraries; models/migrate.py checks that first with a clear error.
CREATE EXTENSION IF NOT EXISTS timescaledb;
