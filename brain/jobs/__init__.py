"""Brain jobs: one module per job, each exposing `run(conn, *, now, settings)`."""
