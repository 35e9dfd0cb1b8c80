"""What people do to alarms: acknowledge, assign to a crew, comment, clear; each change is a history row."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from psycopg import sql
from pydantic import BaseModel, ConfigDict, Field

from models.access.tenancy import TenantScope, Visibility
from models.db import Connection
from models.errors import Conflict, ExpectedVersion, NotFound, check_version
from models.monitoring.alarms import ALARM_COLUMNS, Alarm, AlarmState, get_alarm, record_change
from models.queries import set_clause
from models.types import LongText, Text
from models.work.contracts import current_maintainer_id
from models.work.crews import crew_maintainer_id

__all__ = ["AssignBody", "ClearBody", "CommentBody", "NoteBody", "acknowledge", "assign", "clear", "comment"]


class NoteBody(BaseModel):
    """An optional note on an acknowledgement."""

    model_config = ConfigDict(extra="forbid")
    reason: Text | None = None


class ClearBody(BaseModel):
    """Why a person clears the alarm."""

    model_config = ConfigDict(extra="forbid")
    reason: Text


class CommentBody(BaseModel):
    """A comment on the alarm."""

    model_config = ConfigDict(extra="forbid")
    text: LongText = Field(min_length=1)


class AssignBody(BaseModel):
    """The crew the alarm goes to (null: nobody)."""

    model_config = ConfigDict(extra="forbid")
    crew_id: UUID | None
    reason: Text | None = None


def _current(conn: Connection, tenant: TenantScope, alarm_id: UUID, expected_version: ExpectedVersion) -> Alarm:
    """The alarm, locked for the change, at a version the change expected (the one read of it)."""
    alarm = get_alarm(conn, tenant=tenant, alarm_id=alarm_id, for_update=True)
    check_version(alarm.version, expected_version, what="alarm")
    return alarm


def _update(conn: Connection, alarm: Alarm, values: dict[str, Any]) -> Alarm:
    bump = sql.SQL("version = version + 1, updated_at = clock_timestamp()")
    sets = sql.SQL("{}, {}").format(set_clause(values), bump) if values else bump
    query = sql.SQL("UPDATE alarms SET {} WHERE id = %(_id)s RETURNING {}").format(sets, ALARM_COLUMNS)
    return Alarm.model_validate(conn.execute(query, {**values, "_id": alarm.id}).fetchone())


def _now(conn: Connection) -> datetime:
    row = conn.execute("SELECT clock_timestamp() AS now").fetchone()
    assert row is not None
    now = row["now"]
    assert isinstance(now, datetime)
    return now


def acknowledge(
    conn: Connection,
    *,
    tenant: TenantScope,
    alarm_id: UUID,
    actor: str,
    reason: str | None,
    expected_version: ExpectedVersion,
) -> Alarm:
    """Take an open alarm on; Conflict when it is already acknowledged or cleared."""
    alarm = _current(conn, tenant, alarm_id, expected_version)
    if alarm.state is not AlarmState.OPEN:
        raise Conflict(f"an alarm that is {alarm.state} cannot be acknowledged")
    at = _now(conn)
    updated = _update(conn, alarm, {"state": "acknowledged", "acknowledged_at": at, "acknowledged_by": actor})
    record_change(conn, alarm_id=alarm.id, at=at, actor=actor, action="acknowledged", reason=reason)
    return updated


def clear(
    conn: Connection, *, tenant: TenantScope, alarm_id: UUID, actor: str, reason: str, expected_version: ExpectedVersion
) -> Alarm:
    """Clear an active alarm by hand (the condition is over, or it was a false alarm)."""
    alarm = _current(conn, tenant, alarm_id, expected_version)
    if alarm.state is AlarmState.CLEARED:
        raise Conflict("the alarm is already cleared")
    at = _now(conn)
    updated = _update(conn, alarm, {"state": "cleared", "cleared_at": at, "cleared_by": actor})
    record_change(conn, alarm_id=alarm.id, at=at, actor=actor, action="cleared", reason=reason)
    return updated


def comment(conn: Connection, *, tenant: TenantScope, alarm_id: UUID, actor: str, text: str) -> Alarm:
    """Add a comment to the alarm's history (in any state)."""
    alarm = _current(conn, tenant, alarm_id, None)
    at = _now(conn)
    updated = _update(conn, alarm, {})
    record_change(conn, alarm_id=alarm.id, at=at, actor=actor, action="commented", reason=text)
    return updated


def _check_crew(conn: Connection, tenant: TenantScope, alarm: Alarm, crew_id: UUID) -> None:
    """NotFound unless the crew works for the unit's maintainer and the caller may hand work to it."""
    maintainer = crew_maintainer_id(conn, crew_id=crew_id)
    if maintainer is None or maintainer != current_maintainer_id(conn, tenant=tenant, unit_id=alarm.unit_id):
        raise NotFound("no such crew at this unit's maintainer")
    if tenant.visibility is Visibility.CONTRACT and maintainer != tenant.organization_id:
        raise NotFound("no such crew at this unit's maintainer")
    if tenant.visibility is Visibility.CREW and crew_id != tenant.crew_id:
        raise NotFound("a crew may only take an alarm on itself")


def assign(
    conn: Connection, *, tenant: TenantScope, alarm_id: UUID, actor: str, crew_id: UUID | None, reason: str | None,
    expected_version: ExpectedVersion,
) -> Alarm:  # fmt: skip
    """Hand an active alarm to a crew of the unit's maintainer (or to nobody)."""
    alarm = _current(conn, tenant, alarm_id, expected_version)
    if alarm.state is AlarmState.CLEARED:
        raise Conflict("a cleared alarm cannot be assigned")
    if crew_id is not None:
        _check_crew(conn, tenant, alarm, crew_id)
    at = _now(conn)
    updated = _update(conn, alarm, {"assignee_crew_id": crew_id})
    record_change(conn, alarm_id=alarm.id, at=at, actor=actor, action="assigned", reason=reason,
                  data={"crew_id": None if crew_id is None else str(crew_id)})  # fmt: skip
    return updated
