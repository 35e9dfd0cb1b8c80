"""Units and their build: tenancy on reads, a position holds one component at a time."""

from __future__ import annotations

from datetime import timedelta

import pytest

from models.access import api_keys
from models.access.tenancy import Role, TenantScope
from models.db import Connection
from models.errors import Conflict, NotFound
from models.registry import components, units
from tests.support.fleet import FLEET_T0, Fleet


def test_manufacturer_scope_sees_only_its_make(conn: Connection, fleet: Fleet) -> None:
    key = api_keys.resolve_key(conn, secret=fleet.keys[Role.MANUFACTURER])
    assert key is not None
    assert units.get_unit(conn, tenant=key.tenant, unit_id=fleet.unit_a1).manufacturer_id == fleet.ids["manufacturer_a"]
    with pytest.raises(NotFound):
        units.get_unit(conn, tenant=key.tenant, unit_id=fleet.unit_b1)


def test_unknown_or_revoked_key_resolves_to_nothing(conn: Connection, fleet: Fleet) -> None:
    assert api_keys.resolve_key(conn, secret="lb_not-a-key-at-all-not-one") is None
    key = api_keys.resolve_key(conn, secret=fleet.keys[Role.ADMIN])
    assert key is not None
    api_keys.revoke_api_key(conn, key_id=key.key_id)
    assert api_keys.resolve_key(conn, secret=fleet.keys[Role.ADMIN]) is None


def test_bootstrap_admin_key_is_minted_once(conn: Connection) -> None:
    secret = api_keys.ensure_bootstrap_admin_key(conn)
    assert secret is not None
    assert api_keys.ensure_bootstrap_admin_key(conn) is None
    resolved = api_keys.resolve_key(conn, secret=secret)
    assert resolved is not None
    assert resolved.role is Role.ADMIN


def test_scope_cannot_be_forged() -> None:
    with pytest.raises(TypeError):
        TenantScope(TenantScope.internal().visibility)


def test_install_closes_the_previous_component_in_the_position(conn: Connection, fleet: Fleet) -> None:
    first, second = (
        components.create_component(conn, serial=f"BR-{n}", component_type="brake", batch_id=fleet.ids["batch"])
        for n in (1, 2)
    )
    units.install_component(
        conn, tenant=TenantScope.internal(), unit_id=fleet.unit_a1, position="brake", component_id=first.id, at=FLEET_T0
    )
    later = FLEET_T0 + timedelta(days=30)
    units.install_component(
        conn, tenant=TenantScope.internal(), unit_id=fleet.unit_a1, position="brake", component_id=second.id, at=later
    )
    rows = conn.execute("SELECT component_id, removed_at FROM unit_components ORDER BY installed_at").fetchall()
    assert rows == [{"component_id": first.id, "removed_at": later}, {"component_id": second.id, "removed_at": None}]


def test_component_cannot_sit_in_two_units(conn: Connection, fleet: Fleet) -> None:
    brake = components.create_component(conn, serial="BR-9", component_type="brake", batch_id=fleet.ids["batch"])
    units.install_component(
        conn, tenant=TenantScope.internal(), unit_id=fleet.unit_a1, position="brake", component_id=brake.id, at=FLEET_T0
    )
    with pytest.raises(Conflict):
        units.install_component(
            conn,
            tenant=TenantScope.internal(),
            unit_id=fleet.unit_b1,
            position="brake",
            component_id=brake.id,
            at=FLEET_T0,
        )
