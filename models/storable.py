"""What PostgreSQL can store, checked before a write: one definition for the MQTT contract and the API types."""

from __future__ import annotations

__all__ = ["BIGINT_MAX", "check_text"]

# bigint is the widest integer column; larger JSON integers must be refused, not overflow a COPY.
BIGINT_MAX = 2**63 - 1


def check_text(value: str) -> str:
    """Refuse text PostgreSQL cannot store (NUL characters, lone surrogates) with a ValueError."""
    if "\x00" in value:
        raise ValueError("text must not contain NUL characters")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ValueError("text must be valid Unicode (no lone surrogates)") from exc
    return value
