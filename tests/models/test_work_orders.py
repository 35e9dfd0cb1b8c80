"""Work orders: the active queue is ordered by urgency and holds only what is still to be done."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import UUID

from models.access.tenancy import TenantScope
from models.db import Connection
from models.queries import PageParams
from models.work import work_orders
from models.work.work_orders import WorkOrderCreate, WorkOrderStatus, WorkOrderUpdate
from tests.support.fleet import seed_fleet


def test_work_queue_is_most_urgent_first_and_only_active(conn: Connection) -> None:
    seed_fleet(conn)
    scope = TenantScope.internal()

    def order(title: str, priority: int, due: datetime | None = None) -> UUID:
        created = work_orders.create_work_order(
            conn,
            tenant=scope,
            order=WorkOrderCreate(unit_id="A1", kind="corrective", title=title, priority=priority, due_at=due),
        )
        return created.id

    order("later", 2, datetime(2026, 3, 1, tzinfo=UTC))
    order("sooner", 2, datetime(2026, 2, 1, tzinfo=UTC))
    order("urgent", 1)
    cancelled = order("cancelled", 1)
    work_orders.update_work_order(
        conn,
        tenant=scope,
        work_order_id=cancelled,
        changes=WorkOrderUpdate(status=WorkOrderStatus.CANCELLED),
        expected_version=work_orders.get_work_order(conn, tenant=scope, work_order_id=cancelled).version,
    )
    queue = work_orders.work_queue(conn, tenant=scope, page=PageParams())
    assert [o.title for o in queue.items] == ["urgent", "sooner", "later", "door fault", "door fault"]
