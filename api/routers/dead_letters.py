"""`/dead-letters`: what ingest refused, with the reason and the raw payload (base64), for operators."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query
from pydantic import AwareDatetime

from api.auth import Principal, Scope, require
from api.deps import Conn
from api.params import Paging
from models.queries import Page
from models.telemetry import dead_letters
from models.telemetry.contract import UNIT_ID_PATTERN
from models.telemetry.dead_letters import Reason, StoredDeadLetter

router = APIRouter(prefix="/dead-letters", tags=["dead letters"])
Admin = Annotated[Principal, Depends(require(Scope.DEAD_LETTERS_READ))]


@router.get("")
def list_dead_letters(
    conn: Conn,
    _: Admin,
    page: Paging,
    unit_id: Annotated[str | None, Query(pattern=UNIT_ID_PATTERN, description="the unit of the topic")] = None,
    reason: Annotated[Reason | None, Query(description="the reason class")] = None,
    since: Annotated[AwareDatetime | None, Query(description="received at or after (RFC 3339 with offset)")] = None,
    until: Annotated[AwareDatetime | None, Query(description="received before (RFC 3339 with offset)")] = None,
    pending: Annotated[bool, Query(description="only those no replay has accepted yet")] = False,
) -> Page[StoredDeadLetter]:
    """Dead letters, newest first; `payload` is the message exactly as received, base64-encoded."""
    return dead_letters.list_dead_letters(
        conn, page=page, unit_id=unit_id, reason=reason, since=since, until=until, pending_only=pending
    )
