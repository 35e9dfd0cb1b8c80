"""Schemathesis against the app's OpenAPI schema, with an admin key: no input makes the API answer 5xx, and
every answer is documented: its status, its body's schema and its content type."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.checks import content_type_conformance, response_schema_conformance, status_code_conformance
from schemathesis.core.result import Ok
from schemathesis.python.asgi import shutdown_lifespans

from api.app import create_app
from models.access.tenancy import Role
from runtime.settings import Settings
from stack.mosquitto import LocalMosquitto
from tests.support.api import auth
from tests.support.fleet import Fleet

# The slow tier (a schema fuzzer over every route): `scripts/check.sh --fast` leaves it out.
pytestmark = pytest.mark.slow

# Enough to hit each operation's edge cases (bad UUIDs, huge ints, odd strings) while the run stays under a minute.
EXAMPLES_PER_OPERATION = 12
# /health probes the broker with a 2 s timeout per call; its behaviour is covered by its own tests.
SKIPPED_PATHS = frozenset({"/health"})
CONFORMANCE = (status_code_conformance, response_schema_conformance, content_type_conformance)


@pytest.fixture
def schema(database_url: str, mosquitto: LocalMosquitto, fleet: Fleet) -> Iterator[schemathesis.BaseSchema]:
    """The app's schema; schemathesis runs the app (and its lifespan) in-process."""
    app = create_app(Settings(database_url=database_url, mqtt_url=mosquitto.url))
    try:
        yield schemathesis.openapi.from_asgi("/openapi.json", app)
    finally:
        shutdown_lifespans()


def test_no_operation_answers_5xx(schema: schemathesis.BaseSchema, fleet: Fleet) -> None:
    headers = auth(fleet.keys[Role.ADMIN])
    operations = []
    for result in schema.get_all_operations():
        assert isinstance(result, Ok), f"the schema has an operation schemathesis cannot read: {result.err()}"
        if result.ok().path not in SKIPPED_PATHS:
            operations.append(result.ok())
    assert len(operations) > 40
    failures: list[str] = []
    seeded = {"unit_id": "A1", "work_order_id": str(fleet.ids["wo_a"]), "crew_id": str(fleet.ids["crew_a"])}

    @settings(
        max_examples=EXAMPLES_PER_OPERATION * len(operations),
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
        derandomize=True,
    )
    @given(data=st.data())
    def exercise(data: st.DataObject) -> None:
        operation = data.draw(st.sampled_from(operations))
        mode = data.draw(st.sampled_from(list(schemathesis.GenerationMode)))
        # Half the time aim at seeded objects, so handlers get past the 404 and into their real work.
        known = {name: value for name, value in seeded.items() if "{" + name + "}" in operation.path}
        aim = data.draw(st.booleans()) and mode is schemathesis.GenerationMode.POSITIVE
        case = data.draw(operation.as_strategy(mode, path_parameters=known if aim and known else None))
        response = case.call(headers=headers)
        if response.status_code >= 500:
            failures.append(f"{response.status_code} {case.as_curl_command(headers=headers)}\n{response.text[:300]}")
        try:
            case.validate_response(response, checks=CONFORMANCE, headers=headers)
        except AssertionError as exc:  # schemathesis' failures are AssertionErrors
            failures.append(f"{response.status_code} {case.method} {case.formatted_path}: {str(exc)[:300]}")

    exercise()
    assert failures == []
