"""liftbrain stack."""
