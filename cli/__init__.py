"""liftbrain cli."""
