"""A crew completes a work order with the parts it used: part replacements and lifecycle records in the same
transaction, idempotent by key, every bad completion a clear 4xx with nothing written, and an audit history."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import UUID

import pytest

from models.access import api_keys
from models.access.tenancy import Role, TenantScope
from models.db import Connection
from models.errors import BadRequest, Conflict, NotFound
from models.queries import PageParams
from models.registry import components, units
from models.work import work_orders
from models.work.completion import WorkCompletion, complete_work_order
from models.work.history import work_order_history
from tests.support.fleet import Fleet

PLATFORM = TenantScope.internal()
NOW = datetime.now(UTC).replace(microsecond=0)
# The server receives a completion a little after the crew's phone stamped it.
LATER = timedelta(minutes=2)


def _crew(conn: Connection, fleet: Fleet) -> TenantScope:
    resolved = api_keys.resolve_key(conn, secret=fleet.keys[Role.CREW])
    assert resolved is not None
    return resolved.tenant


def _part(conn: Connection, serial: str, *, unit: str | None = None, position: str = "brake") -> UUID:
    part = components.create_component(conn, serial=serial, component_type="brake", batch_id=None)
    if unit is not None:
        units.install_component(
            conn, tenant=PLATFORM, unit_id=unit, position=position, component_id=part.id, at=NOW - timedelta(days=30)
        )
    return part.id


def _completion(key: str = "phone-1", **parts: str) -> WorkCompletion:
    swaps = [{"position": "brake", "removed_serial": parts.get("removed"), "installed_serial": parts["installed"]}]
    return WorkCompletion.model_validate(
        {
            "idempotency_key": key,
            "completed_at": datetime.now(UTC),  # after the fixture opened the order
            "note": "brake pads worn through",
            "parts": swaps,
        }
    )


def _counts(conn: Connection, order: UUID) -> tuple[int, str]:
    row = conn.execute(
        "SELECT (SELECT count(*) FROM lifecycle_records WHERE work_order_id = %(id)s) AS records,"
        " (SELECT status FROM work_orders WHERE id = %(id)s) AS status",
        {"id": order},
    ).fetchone()
    assert row is not None
    records = row["records"]
    assert isinstance(records, int)
    return records, str(row["status"])


def test_completion_swaps_the_part_and_records_it_once(conn: Connection, fleet: Fleet) -> None:
    _part(conn, "BR-OLD", unit=fleet.unit_a1)
    _part(conn, "BR-NEW")
    order, crew = fleet.ids["wo_a"], _crew(conn, fleet)
    completion = _completion(removed="BR-OLD", installed="BR-NEW")
    done = complete_work_order(
        conn, tenant=crew, work_order_id=order, completion=completion, actor="crew:a", now=datetime.now(UTC) + LATER
    )
    assert done.work_order.status == "done"
    assert done.work_order.completed_at == completion.completed_at
    kinds = [(r.kind, r.data.get("removed_serial"), r.data.get("installed_serial")) for r in done.records]
    assert kinds == [("part_replacement", "BR-OLD", "BR-NEW"), ("repair", None, None)]
    current = conn.execute(
        "SELECT c.serial FROM unit_components uc JOIN components c ON c.id = uc.component_id"
        " WHERE uc.unit_id = %s AND uc.position = 'brake' AND uc.removed_at IS NULL",
        (fleet.unit_a1,),
    ).fetchone()
    assert current is not None
    assert current["serial"] == "BR-NEW"
    again = complete_work_order(
        conn,
        tenant=crew,
        work_order_id=order,
        completion=_completion(removed="BR-OLD", installed="BR-NEW"),
        actor="crew:a",
        now=datetime.now(UTC) + LATER,
    )
    assert [r.id for r in again.records] == [r.id for r in done.records]
    assert _counts(conn, order) == (2, "done")
    with pytest.raises(Conflict, match="another idempotency key"):
        complete_work_order(
            conn,
            tenant=crew,
            work_order_id=order,
            completion=_completion("phone-2", removed="BR-OLD", installed="BR-NEW"),
            actor="crew:a",
            now=datetime.now(UTC) + LATER,
        )
    history = work_order_history(conn, tenant=crew, work_order_id=order, page=PageParams()).items
    assert [h.action for h in history] == ["opened", "updated", "completed"]
    completed = history[-1]
    assert (completed.actor, completed.client_at, completed.from_status) == (
        "crew:a",
        completion.completed_at,
        "assigned",
    )
    assert completed.client_at is not None
    assert completed.at > completed.client_at
    assert completed.data["parts"][0]["installed_serial"] == "BR-NEW"


@pytest.mark.parametrize(
    ("setup", "removed", "error", "message"),
    [
        ("elsewhere", "BR-OLD", Conflict, "installed in unit B1"),
        ("other", "BR-OTHER", Conflict, "BR-OTHER is not in position brake of unit A1"),
        ("unknown", "BR-OLD", BadRequest, "no component with serial"),
        ("cancelled", "BR-OLD", Conflict, "cancelled"),
    ],
)
def test_a_bad_completion_writes_nothing(
    conn: Connection, fleet: Fleet, setup: str, removed: str, error: type[Exception], message: str
) -> None:
    _part(conn, "BR-OLD", unit=fleet.unit_a1)
    _part(conn, "BR-OTHER")
    installed = "BR-NEW"
    if setup == "elsewhere":
        _part(conn, installed, unit=fleet.unit_b1)
    elif setup != "unknown":
        _part(conn, installed)
    order = fleet.ids["wo_a"]
    if setup == "cancelled":
        current = work_orders.get_work_order(conn, tenant=PLATFORM, work_order_id=order)
        work_orders.update_work_order(
            conn,
            tenant=PLATFORM,
            work_order_id=order,
            expected_version=current.version,
            changes=work_orders.WorkOrderUpdate(status="cancelled"),
        )
    before = _counts(conn, order)
    with pytest.raises(error, match=message):
        complete_work_order(
            conn,
            tenant=_crew(conn, fleet),
            work_order_id=order,
            completion=_completion(removed=removed, installed=installed),
            actor="crew:a",
            now=datetime.now(UTC) + LATER,
        )
    assert _counts(conn, order) == before


def test_history_keeps_the_tenancy_of_its_order(conn: Connection, fleet: Fleet) -> None:
    other = api_keys.resolve_key(conn, secret=fleet.other_keys[Role.MAINTAINER])
    assert other is not None
    with pytest.raises(NotFound):
        work_order_history(conn, tenant=other.tenant, work_order_id=fleet.ids["wo_a"], page=PageParams())
    own = work_order_history(conn, tenant=PLATFORM, work_order_id=fleet.ids["wo_b"], page=PageParams()).items
    assert [(h.action, h.to_status) for h in own] == [("opened", "open"), ("updated", "assigned")]
