"""Tenancy is decided in the models: every public function that reads or writes a unit-keyed table takes the
tenant as a required keyword-only argument named `tenant`."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import re
from types import CodeType, FunctionType, ModuleType

import pytest
from psycopg import sql

import models

# Tables whose rows belong to a unit, so to whoever may see that unit.
UNIT_KEYED = (
    "units",
    "unit_components",
    "lifecycle_records",
    "maintenance_contracts",
    "work_orders",
    "telemetry",
    "events",
    "unit_status_changes",
)
# Modules that touch unit-keyed tables for the platform's own processes only (never on a caller's behalf).
PLATFORM_ONLY = {
    "models.telemetry.samples": "ingest's COPY path",
    "models.telemetry.presence": "ingest and brain keep online/last_seen",
    "models.telemetry.retention": "the brain drops old chunks",
    "models.telemetry.dead_letters": "ingest's rejects",
    "models.telemetry.simulation_labels": "the simulator's ground truth",
    "models.lifecycle.checkpoints": "the operator signs every unit's chain head at once",
}
_TABLE = re.compile(r"\b(?:FROM|JOIN|INTO|UPDATE)\s+(" + "|".join(UNIT_KEYED) + r")\b", re.IGNORECASE)


def _names(code: CodeType) -> set[str]:
    """The global names a function's code uses, its comprehensions' included."""
    names = set(code.co_names)
    for const in code.co_consts:
        if isinstance(const, CodeType):
            names |= _names(const)
    return names


def _text(module: ModuleType, function: FunctionType) -> str:
    """The function's source plus the module-level SQL constants it names."""
    parts = [inspect.getsource(function)]
    for name in _names(function.__code__):
        value = getattr(module, name, None)
        if isinstance(value, str):
            parts.append(value)
        elif isinstance(value, sql.Composable):
            parts.append(value.as_string())
        elif isinstance(value, dict):
            parts.extend(str(v) for v in value.values())
    return "\n".join(parts)


def _public_functions() -> list[tuple[str, FunctionType, ModuleType]]:
    found = []
    for info in pkgutil.iter_modules(models.__path__):
        name = f"models.{info.name}"
        if name in PLATFORM_ONLY:
            continue
        module = importlib.import_module(name)
        for attr in getattr(module, "__all__", ()):
            value = getattr(module, attr)
            if isinstance(value, FunctionType) and value.__module__ == name:
                found.append((f"{name}.{attr}", value, module))
    return found


TOUCHING = [(name, fn) for name, fn, module in _public_functions() if _TABLE.search(_text(module, fn))]


def test_the_scan_sees_the_writers_that_once_took_no_tenant() -> None:
    names = {name for name, _ in TOUCHING}
    assert {"models.lifecycle.append_record", "models.units.install_component", "models.units.create_unit"} <= names


@pytest.mark.parametrize(("name", "function"), TOUCHING, ids=[name for name, _ in TOUCHING])
def test_unit_keyed_functions_take_a_required_tenant(name: str, function: FunctionType) -> None:
    parameter = inspect.signature(function).parameters.get("tenant")
    assert parameter is not None, f"{name} touches a unit-keyed table without a tenant"
    assert parameter.kind is inspect.Parameter.KEYWORD_ONLY
    assert parameter.default is inspect.Parameter.empty, f"{name}'s tenant must be required"
