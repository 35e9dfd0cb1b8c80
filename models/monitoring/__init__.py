"""Monitoring: alarms, features, detectors and health scores of units."""
