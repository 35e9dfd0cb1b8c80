"""liftbrain ingest."""
