"""`/alarms`: list and export, one alarm with its history, acknowledge, assign, comment, clear.

Tenancy is the units': an alarm of a unit the caller cannot see answers 404. Admins, maintainers and crews
act on alarms; manufacturers read them. Changes take If-Match (the alarm's version) like work orders.
"""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Response

from api.auth import Principal, Scope, require
from api.deps import Conn
from api.export import CSV_RESPONSE, ExportFormat, Format, export
from api.params import IfMatch, Paging, etag, if_match_versions
from models.db import Connection
from models.monitoring import alarm_actions, alarms
from models.monitoring.alarm_actions import AssignBody, ClearBody, CommentBody, NoteBody
from models.monitoring.alarms import Alarm, AlarmDetail, AlarmState, Severity
from models.queries import Page
from models.telemetry.contract import UNIT_ID_PATTERN
from models.types import Code, Timestamp

router = APIRouter(prefix="/alarms", tags=["alarms"])
Reader = Annotated[Principal, Depends(require(Scope.ALARMS_READ))]
Actor = Annotated[Principal, Depends(require(Scope.ALARMS_WRITE))]


def _based_on(if_match: str | None) -> frozenset[int] | None:
    """The alarm versions an action applies to when If-Match names them (412 when stale); None without it.

    Unlike a PATCH, an action is a state transition the alarm checks for itself (409 from the wrong state),
    so a crew acting from a stale screen cannot overwrite anything by omitting the header.
    """
    return if_match_versions(if_match, what="alarm", required=False)


def _acted(conn: Connection, alarm: Alarm, response: Response) -> Alarm:
    """Commit the action before answering, and tag the answer with the alarm's new version."""
    conn.commit()
    response.headers["ETag"] = etag(alarm.version)
    return alarm


@router.get("", response_model=Page[Alarm], responses=CSV_RESPONSE)
def list_alarms(
    conn: Conn,
    principal: Reader,
    page: Paging,
    state: AlarmState | None = None,
    severity: Severity | None = None,
    unit_id: Annotated[str | None, Query(pattern=UNIT_ID_PATTERN)] = None,
    alarm_type: Annotated[Code | None, Query(alias="type")] = None,
    since: Annotated[Timestamp | None, Query(description="Only alarms seen at or after this time")] = None,
    suppressed: bool | None = None,
    format: Format = ExportFormat.JSON,
) -> Response:
    """Alarms of the units the caller may see, most recently seen first."""
    found = alarms.list_alarms(
        conn, tenant=principal.tenant, page=page, state=state, severity=severity, unit_id=unit_id,
        alarm_type=alarm_type, since=since, suppressed=suppressed,
    )  # fmt: skip
    return export(found, format, item=Alarm, name="alarms")


@router.get("/{alarm_id}")
def get_alarm(alarm_id: UUID, conn: Conn, principal: Reader, page: Paging, response: Response) -> AlarmDetail:
    """One alarm with its history (who, when, what, why), oldest first; page through long histories."""
    detail = alarms.alarm_history(conn, tenant=principal.tenant, alarm_id=alarm_id, page=page)
    response.headers["ETag"] = etag(detail.alarm.version)
    return detail


@router.post("/{alarm_id}/acknowledge")
def acknowledge(
    alarm_id: UUID, body: NoteBody, conn: Conn, principal: Actor, response: Response, if_match: IfMatch = None
) -> Alarm:
    """Take an open alarm on."""
    alarm = alarm_actions.acknowledge(
        conn, tenant=principal.tenant, alarm_id=alarm_id, actor=principal.actor, reason=body.reason,
        expected_version=_based_on(if_match),
    )  # fmt: skip
    return _acted(conn, alarm, response)


@router.post("/{alarm_id}/assign")
def assign(
    alarm_id: UUID, body: AssignBody, conn: Conn, principal: Actor, response: Response, if_match: IfMatch = None
) -> Alarm:
    """Hand the alarm to a crew of the unit's maintainer (a crew: to itself), or to nobody."""
    alarm = alarm_actions.assign(
        conn, tenant=principal.tenant, alarm_id=alarm_id, actor=principal.actor, crew_id=body.crew_id,
        reason=body.reason, expected_version=_based_on(if_match),
    )  # fmt: skip
    return _acted(conn, alarm, response)


@router.post("/{alarm_id}/comments")
def add_comment(alarm_id: UUID, body: CommentBody, conn: Conn, principal: Actor, response: Response) -> Alarm:
    """Add a comment to the alarm's history."""
    alarm = alarm_actions.comment(
        conn, tenant=principal.tenant, alarm_id=alarm_id, actor=principal.actor, text=body.text
    )
    return _acted(conn, alarm, response)


@router.post("/{alarm_id}/clear")
def clear(
    alarm_id: UUID, body: ClearBody, conn: Conn, principal: Actor, response: Response, if_match: IfMatch = None
) -> Alarm:
    """Clear the alarm by hand, saying why."""
    alarm = alarm_actions.clear(
        conn, tenant=principal.tenant, alarm_id=alarm_id, actor=principal.actor, reason=body.reason,
        expected_version=_based_on(if_match),
    )  # fmt: skip
    return _acted(conn, alarm, response)
