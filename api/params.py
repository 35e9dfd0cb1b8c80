"""Request parameters shared by the routers: pagination, unit ids in paths, ETags."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Header, Path, Query

from models.contract import UNIT_ID_PATTERN
from models.errors import PreconditionFailed
from models.queries import DEFAULT_LIMIT, MAX_LIMIT, MAX_OFFSET, PageParams

__all__ = ["IfMatch", "Paging", "UnitIdPath", "etag", "expected_etag", "expected_version", "is_decimal"]


def _page(
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Items per page")] = DEFAULT_LIMIT,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET, description="Items to skip (use next_offset)")] = 0,
) -> PageParams:
    return PageParams(limit=limit, offset=offset)


Paging = Annotated[PageParams, Depends(_page)]
UnitIdPath = Annotated[str, Path(pattern=UNIT_ID_PATTERN, description="The unit's id (as in its MQTT topics)")]
IfMatch = Annotated[
    str | None,
    Header(max_length=100, description="The ETag last read; the change is refused (412) if the object moved on"),
]


def etag(token: str) -> str:
    """A strong ETag for a version token."""
    return f'"{token}"'


def expected_etag(if_match: str | None) -> str | None:
    """The version token an If-Match header names (None when absent or `*`)."""
    if if_match is None or if_match.strip() == "*":
        return None
    value = if_match.strip().removeprefix("W/")
    if len(value) < 2 or not (value.startswith('"') and value.endswith('"')):
        raise PreconditionFailed('If-Match must be an ETag as returned by GET, e.g. "3"')
    return value[1:-1]


def is_decimal(text: str) -> bool:
    """True for ASCII digits only: str.isdigit() also takes "²", which int() refuses (a 500)."""
    return text.isascii() and text.isdigit()


def expected_version(if_match: str | None, *, what: str) -> int | None:
    """The integer version an If-Match header names (None when absent or `*`); 412 when it names none."""
    token = expected_etag(if_match)
    if token is None:
        return None
    if not is_decimal(token):
        raise PreconditionFailed(f"the {what} changed since it was read; fetch it again")
    return int(token)
