"""liftbrain simulators."""
