"""Which database an administrative command talks to: the configured one, else the embedded one `liftbrain up`
runs from the data directory (so `liftbrain keys create` works beside a running `up` with no setting)."""

from __future__ import annotations

from runtime.settings import Settings
from stack.ports import embedded_database_url

__all__ = ["database_url"]


def database_url(settings: Settings) -> str:
    """LIFTBRAIN_DATABASE_URL, or the embedded stack's database, or an OperatorError saying neither exists."""
    return settings.database_url or embedded_database_url(settings.data_dir) or settings.require_database_url()
