"""Telemetry: the MQTT contract, samples and events, windows, dead letters, presence, retention."""
