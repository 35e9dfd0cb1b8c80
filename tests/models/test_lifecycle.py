"""The lifecycle chain: appended in order, linked by hash, append-only, and tampering is detected."""

from __future__ import annotations

import itertools
from datetime import timedelta

import pytest

from models.access.tenancy import TenantScope
from models.db import Connection
from models.errors import Conflict
from models.lifecycle import ledger
from models.queries import PageParams
from models.registry import units
from tests.support.fleet import FLEET_T0, Fleet

ALL = TenantScope.internal()


def _append_three(conn: Connection, unit_id: str) -> None:
    for n, kind in enumerate(("factory_test", "shipment", "installation"), start=1):
        ledger.append_record(
            conn,
            tenant=ALL,
            unit_id=unit_id,
            kind=kind,
            occurred_at=FLEET_T0 + timedelta(days=n),
            data={"n": n},
            actor="t",
        )


def test_records_are_numbered_and_linked_per_unit(conn: Connection, fleet: Fleet) -> None:
    _append_three(conn, fleet.unit_a1)
    records = ledger.list_records(conn, tenant=ALL, unit_id=fleet.unit_a1, page=PageParams()).items
    assert [r.seq for r in records] == [1, 2, 3, 4]
    assert records[0].prev_hash is None
    assert all(later.prev_hash == earlier.hash for earlier, later in itertools.pairwise(records))
    assert ledger.verify_chain(conn, tenant=ALL, unit_id=fleet.unit_a1, trusted_key=None).intact


def test_record_kind_moves_the_unit_status(conn: Connection, fleet: Fleet) -> None:
    _append_three(conn, fleet.unit_a1)
    assert units.get_unit(conn, tenant=ALL, unit_id=fleet.unit_a1).status == "installed"


def test_records_refuse_update(conn: Connection, fleet: Fleet) -> None:
    with pytest.raises(Exception, match="append-only"):
        conn.execute("UPDATE lifecycle_records SET actor = 'mallory'")


def test_altered_record_breaks_the_chain(conn: Connection, fleet: Fleet) -> None:
    _append_three(conn, fleet.unit_a1)
    conn.execute("SET session_replication_role = replica")  # what someone with superuser rights could do
    conn.execute("UPDATE lifecycle_records SET data = '{\"n\": 99}' WHERE unit_id = 'A1' AND seq = 3")
    conn.execute("SET session_replication_role = DEFAULT")
    report = ledger.verify_chain(conn, tenant=ALL, unit_id=fleet.unit_a1, trusted_key=None)
    assert not report.intact
    assert report.first_broken_seq == 3
    assert report.reason is not None
    assert "hash" in report.reason


def test_removed_record_breaks_the_chain(conn: Connection, fleet: Fleet) -> None:
    _append_three(conn, fleet.unit_a1)
    conn.execute("SET session_replication_role = replica")
    conn.execute("DELETE FROM lifecycle_records WHERE unit_id = 'A1' AND seq = 2")
    conn.execute("SET session_replication_role = DEFAULT")
    report = ledger.verify_chain(conn, tenant=ALL, unit_id=fleet.unit_a1, trusted_key=None)
    assert report.first_broken_seq == 3


def test_decommissioned_unit_takes_no_more_records(conn: Connection, fleet: Fleet) -> None:
    ledger.append_record(
        conn, tenant=ALL, unit_id=fleet.unit_a1, kind="decommission", occurred_at=FLEET_T0, data={}, actor="owner"
    )
    with pytest.raises(Conflict):
        ledger.append_record(
            conn, tenant=ALL, unit_id=fleet.unit_a1, kind="maintenance", occurred_at=FLEET_T0, data={}, actor="crew"
        )
