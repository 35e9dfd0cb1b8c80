"""liftbrain brain."""
