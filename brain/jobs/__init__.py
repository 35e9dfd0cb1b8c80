"""Brain jobs: one module per job, each exposing `run(conn, *, now, <its configuration>)`.

The scheduler binds a job's configuration when it registers it (`brain.scheduler.jobs_for`), so a job sees
only the settings it uses. Jobs that work unit by unit go through `brain.units.for_each_unit`, so one bad
unit is logged and skipped instead of failing the fleet.
"""
