"""Request parameters shared by the routers: pagination, unit ids in paths, ETags."""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import Depends, Header, Path, Query

from models.errors import PreconditionFailed, PreconditionRequired
from models.queries import DEFAULT_LIMIT, MAX_LIMIT, MAX_OFFSET, PageParams
from models.telemetry.contract import UNIT_ID_PATTERN

__all__ = ["IfMatch", "Paging", "UnitIdPath", "etag", "is_decimal", "matched_version"]


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
# One entity-tag of an If-Match list (RFC 9110 section 8.8.3), with an optional weak marker and the separator.
_ENTITY_TAG = re.compile(r'\s*(W/)?"([\x21\x23-\x7e\x80-\xff]*)"\s*(?:,|$)')


def etag(version: int) -> str:
    """The strong ETag of a version."""
    return f'"{version}"'


def is_decimal(text: str) -> bool:
    """True for ASCII digits only: str.isdigit() also takes "²", which int() refuses (a 500)."""
    return text.isascii() and text.isdigit()


def matched_version(if_match: str | None, *, current: int, what: str) -> int:
    """The version a change may be applied to: `current` when If-Match names it (strongly) or is `*`.

    No header: 428 (a change must say what it was based on, or updates get lost). A header naming other
    versions, only weak tags, or malformed: 412.
    """
    if if_match is None:
        raise PreconditionRequired(f"send If-Match with the {what}'s ETag (as returned by GET) to change it")
    value = if_match.strip()
    if value == "*":
        return current
    strong: list[str] = []
    position = 0
    while position < len(value):
        match = _ENTITY_TAG.match(value, position)
        if match is None or match.end() == position:
            raise PreconditionFailed('If-Match must be "*" or a list of ETags as returned by GET, e.g. "3"')
        if match.group(1) is None:  # If-Match compares strongly: a weak tag never matches
            strong.append(match.group(2))
        position = match.end()
    if str(current) not in strong:
        raise PreconditionFailed(f"the {what} changed since it was read; fetch it again")
    return current
