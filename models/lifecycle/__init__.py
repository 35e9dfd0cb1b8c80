"""Lifecycle: each unit's hash-chained record, its merged timeline, part genealogy and recall."""
