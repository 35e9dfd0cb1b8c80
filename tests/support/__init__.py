"""Helpers the tests share (seeded fleets, API and ingest clients); the conftest files hold fixtures only."""
