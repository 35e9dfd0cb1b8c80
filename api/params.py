"""Request parameters shared by the routers: pagination, unit ids in paths, ETags."""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import Depends, Header, Path, Query

from models.errors import PreconditionFailed, PreconditionRequired
from models.queries import DEFAULT_LIMIT, MAX_LIMIT, MAX_OFFSET, PageParams
from models.telemetry.contract import UNIT_ID_PATTERN

__all__ = ["IfMatch", "Paging", "UnitIdPath", "etag", "if_match_versions", "is_decimal"]


def _page(
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Items per page")] = DEFAULT_LIMIT,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET, description="Items to skip (use next_offset)")] = 0,
) -> PageParams:
    return PageParams(limit=limit, offset=offset)


Paging = Annotated[PageParams, Depends(_page)]
UnitIdPath = Annotated[str, Path(pattern=UNIT_ID_PATTERN, description="The unit's id (as in its MQTT topics)")]
IfMatch = Annotated[
    str | None,
    Header(
        max_length=1000,
        description='Required to change the object: its ETag as last read (or a list of them, or "*"). '
        "428 without it, 412 when the object moved on since.",
    ),
]
# Versions are PostgreSQL integers: a longer tag cannot name one (and is not worth converting).
MAX_VERSION_DIGITS = 10
# One entity-tag of an If-Match list (RFC 9110 section 8.8.3), with an optional weak marker and the separator.
_ENTITY_TAG = re.compile(r'\s*(W/)?"([\x21\x23-\x7e\x80-\xff]*)"\s*(?:,|$)')


def etag(version: int) -> str:
    """The strong ETag of a version."""
    return f'"{version}"'


def is_decimal(text: str) -> bool:
    """True for ASCII digits only: str.isdigit() also takes "²", which int() refuses (a 500)."""
    return text.isascii() and text.isdigit()


def if_match_versions(if_match: str | None, *, what: str, required: bool = True) -> frozenset[int] | None:
    """The versions a change may apply to, from If-Match: its strong ETags, or None (any) for `*`.

    The models compare them with the version read under the row's lock, so the object is read once. No header:
    428 when `required` (a change must say what it was based on, or updates get lost), else None. A malformed
    header: 412. Weak tags never match (If-Match compares strongly).
    """
    if if_match is None:
        if required:
            raise PreconditionRequired(f"send If-Match with the {what}'s ETag (as returned by GET) to change it")
        return None
    value = if_match.strip()
    if value == "*":
        return None
    strong: set[int] = set()
    position = 0
    while position < len(value):
        match = _ENTITY_TAG.match(value, position)
        if match is None or match.end() == position:
            raise PreconditionFailed('If-Match must be "*" or a list of ETags as returned by GET, e.g. "3"')
        tag = match.group(2)
        if match.group(1) is None and is_decimal(tag) and len(tag) <= MAX_VERSION_DIGITS:
            strong.add(int(tag))
        position = match.end()
    return frozenset(strong)
