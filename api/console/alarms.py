"""Alarms: the list the caller may see (filtered, paged in SQL, refreshing itself), one alarm with its history, and
the forms to acknowledge, assign, comment and clear it.

The actions are the JSON API's (models.monitoring.alarm_actions, the same scopes: `alarms:write` for admins,
maintainers and crews; manufacturers and regulators read). Each form carries the alarm's version, so an action
taken from a stale screen is refused (412) instead of applied to an alarm that changed meanwhile.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, TypeVar
from uuid import UUID

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel, ValidationError

from api.auth import Scope
from api.console.pages import PREFIX, is_fragment_request, page, redirect
from api.console.session import ConsoleUser, console_user, verified_form
from api.deps import Conn
from models.db import Connection
from models.errors import BadRequest
from models.monitoring import alarm_actions, alarms, overview
from models.monitoring.alarm_actions import AssignBody, ClearBody, CommentBody, NoteBody
from models.monitoring.alarms import AlarmState, Severity
from models.queries import MAX_OFFSET, PageParams
from models.telemetry.contract import UNIT_ID_PATTERN
from models.work import contracts, crews
from models.work.crews import Crew

router = APIRouter(prefix=PREFIX, include_in_schema=False)
Reader = Annotated[ConsoleUser, Depends(console_user(Scope.ALARMS_READ))]
Actor = Annotated[ConsoleUser, Depends(verified_form(Scope.ALARMS_WRITE))]
Version = Annotated[int, Form(ge=1)]
FilterText = Annotated[str, Query(max_length=100)]
# Rows per page: a screenful; a narrower filter finds the rest.
PAGE_SIZE = 50
# The list refreshes itself as often as the fleet board: alarms open within seconds, a poll costs two queries.
REFRESH_S = 15
# History rows on the alarm page: a flapping alarm repeats often; the rest is a page away.
HISTORY_PAGE = 100
# Crews offered when assigning: a maintainer has a handful.
CREW_LIMIT = 200
ALARM_TYPE = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
UNIT_ID = re.compile(UNIT_ID_PATTERN)
B = TypeVar("B", bound=BaseModel)
E = TypeVar("E", bound=StrEnum)


def _choice(kind: type[E], text: str, what: str) -> E | None:
    """The filter's value as its enum; None for "any" (empty), 400 for anything else."""
    try:
        return kind(text) if text else None
    except ValueError:
        raise BadRequest(f"unknown {what} filter") from None


def _matching(text: str, pattern: re.Pattern[str], what: str) -> str | None:
    """The filter's text when it has the shape of `what`; None when empty, 400 otherwise."""
    text = text.strip()
    if text and not pattern.fullmatch(text):
        raise BadRequest(f"that is not a {what}")
    return text or None


@router.get("/alarms")
def alarm_list(
    request: Request,
    user: Reader,
    conn: Conn,
    state: FilterText = "",
    severity: FilterText = "",
    unit: FilterText = "",
    type: FilterText = "",
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
) -> HTMLResponse:
    """The alarms page (or only the list when htmx refreshes it), most recently seen first."""
    tenant = user.principal.tenant
    found = alarms.list_alarms(
        conn,
        tenant=tenant,
        page=PageParams(limit=PAGE_SIZE, offset=offset),
        state=_choice(AlarmState, state, "state"),
        severity=_choice(Severity, severity, "severity"),
        unit_id=_matching(unit, UNIT_ID, "unit id"),
        alarm_type=_matching(type, ALARM_TYPE, "alarm type"),
    )
    context = {
        "user": user,
        "alarms": found,
        "totals": overview.active_alarm_totals(conn, tenant=tenant),
        "filters": {"state": state, "severity": severity, "unit": unit.strip(), "type": type.strip()},
        "states": list(AlarmState),
        "severities": list(Severity),
        "refresh_s": REFRESH_S,
        "updated": datetime.now(UTC),
    }
    return page(request, "_alarms.html" if is_fragment_request(request) else "alarms.html", context)


@router.get("/alarms/{alarm_id}")
def alarm_page(
    request: Request,
    alarm_id: UUID,
    user: Reader,
    conn: Conn,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
) -> HTMLResponse:
    """One alarm with its history and the actions its state and the caller's role allow."""
    tenant = user.principal.tenant
    detail = alarms.alarm_history(
        conn, tenant=tenant, alarm_id=alarm_id, page=PageParams(limit=HISTORY_PAGE, offset=offset)
    )
    may_act = user.may(Scope.ALARMS_WRITE)
    teams: list[Crew] = []
    if may_act and detail.alarm.state is not AlarmState.CLEARED:
        maintainer = contracts.current_maintainer_id(conn, tenant=tenant, unit_id=detail.alarm.unit_id)
        visible = crews.list_crews(conn, tenant=tenant, page=PageParams(limit=CREW_LIMIT)).items
        teams = [crew for crew in visible if crew.maintainer_id == maintainer]
    context = {"user": user, "alarm": detail.alarm, "history": detail.history, "may_act": may_act, "crews": teams}
    return page(request, "alarm.html", context)


def _body(model: type[B], **fields: object) -> B:
    """A form's fields as the JSON API's body model (the same limits), or 400 naming the first problem."""
    try:
        return model.model_validate(fields)
    except ValidationError as exc:
        raise BadRequest(f"the form is not valid: {exc.errors()[0]['msg']}") from None


def _done(conn: Connection, alarm_id: UUID) -> Response:
    conn.commit()  # before the redirect, so the page it loads shows the change
    return redirect(f"{PREFIX}/alarms/{alarm_id}")


@router.post("/alarms/{alarm_id}/acknowledge")
def acknowledge(
    alarm_id: UUID, user: Actor, conn: Conn, version: Version, reason: Annotated[str, Form(max_length=300)] = ""
) -> Response:
    """Take an open alarm on, with an optional note."""
    body = _body(NoteBody, reason=reason.strip() or None)
    alarm_actions.acknowledge(
        conn, tenant=user.principal.tenant, alarm_id=alarm_id, actor=user.principal.actor, reason=body.reason,
        expected_version=version,
    )  # fmt: skip
    return _done(conn, alarm_id)


@router.post("/alarms/{alarm_id}/assign")
def assign(
    alarm_id: UUID,
    user: Actor,
    conn: Conn,
    version: Version,
    crew_id: Annotated[str, Form(max_length=40)] = "",
    reason: Annotated[str, Form(max_length=300)] = "",
) -> Response:
    """Hand the alarm to a crew of the unit's maintainer, or to nobody (an empty choice)."""
    body = _body(AssignBody, crew_id=crew_id or None, reason=reason.strip() or None)
    alarm_actions.assign(
        conn, tenant=user.principal.tenant, alarm_id=alarm_id, actor=user.principal.actor, crew_id=body.crew_id,
        reason=body.reason, expected_version=version,
    )  # fmt: skip
    return _done(conn, alarm_id)


@router.post("/alarms/{alarm_id}/comment")
def comment(alarm_id: UUID, user: Actor, conn: Conn, text: Annotated[str, Form(max_length=6000)] = "") -> Response:
    """Add a comment to the alarm's history."""
    body = _body(CommentBody, text=text.strip())
    alarm_actions.comment(
        conn, tenant=user.principal.tenant, alarm_id=alarm_id, actor=user.principal.actor, text=body.text
    )
    return _done(conn, alarm_id)


@router.post("/alarms/{alarm_id}/clear")
def clear(
    alarm_id: UUID, user: Actor, conn: Conn, version: Version, reason: Annotated[str, Form(max_length=300)] = ""
) -> Response:
    """Clear the alarm by hand, saying why."""
    body = _body(ClearBody, reason=reason.strip())
    alarm_actions.clear(
        conn, tenant=user.principal.tenant, alarm_id=alarm_id, actor=user.principal.actor, reason=body.reason,
        expected_version=version,
    )  # fmt: skip
    return _done(conn, alarm_id)
