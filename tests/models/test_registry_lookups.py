"""Registry rows found by what names them (name, lot, city), as seeding and the CLI look them up."""

from __future__ import annotations

import pytest

from models.db import Connection
from models.errors import NotFound
from models.registry import components, organizations
from models.registry.parties import MANUFACTURERS, SUPPLIERS
from models.registry.sites import SITES
from models.registry.unit_models import UNIT_MODELS


def test_organization_manufacturer_and_supplier_are_found_by_name(conn: Connection) -> None:
    org = organizations.create_organization(conn, name="Lift Care", kind="maintainer")
    maker = MANUFACTURERS.create(conn, {"name": "Aufzug AG"})
    supplier = SUPPLIERS.create(conn, {"name": "Brakes Ltd"})
    assert organizations.get_organization_by_name(conn, name="Lift Care") == org
    assert MANUFACTURERS.find(conn, {"name": "Aufzug AG"}) == maker
    assert SUPPLIERS.find(conn, {"name": "Brakes Ltd"}) == supplier
    with pytest.raises(NotFound):
        organizations.get_organization_by_name(conn, name="Nobody")


def test_unit_model_and_batch_are_found_within_their_owner(conn: Connection) -> None:
    maker = MANUFACTURERS.create(conn, {"name": "Aufzug AG"})
    other = MANUFACTURERS.create(conn, {"name": "Other AG"})
    model = UNIT_MODELS.create(
        conn,
        {"manufacturer_id": maker.id, "name": "M1", "capacity_kg": 630, "rated_speed_mps": 1.0, "drive_type": "mrl"},
    )
    assert UNIT_MODELS.find(conn, {"manufacturer_id": maker.id, "name": "M1"}) == model
    with pytest.raises(NotFound):
        UNIT_MODELS.find(conn, {"manufacturer_id": other.id, "name": "M1"})
    supplier = SUPPLIERS.create(conn, {"name": "Brakes Ltd"})
    batch = components.create_batch(conn, supplier_id=supplier.id, component_type="brake", lot="L-1", produced_on=None)
    assert components.get_batch_by_lot(conn, supplier_id=supplier.id, lot="L-1") == batch
    with pytest.raises(NotFound):
        components.get_batch_by_lot(conn, supplier_id=supplier.id, lot="L-2")


def test_site_is_found_by_name_and_city_including_no_city(conn: Connection) -> None:
    in_city = SITES.create(conn, {"name": "Tower", "address": None, "city": "Lyon"})
    no_city = SITES.create(conn, {"name": "Tower", "address": None, "city": None})
    assert SITES.find(conn, {"name": "Tower", "city": "Lyon"}) == in_city
    assert SITES.find(conn, {"name": "Tower", "city": None}) == no_city
    with pytest.raises(NotFound):
        SITES.find(conn, {"name": "Tower", "city": "Paris"})
