"""liftbrain models."""
