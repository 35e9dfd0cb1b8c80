"""liftbrain api."""
