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
    "models.telemetry.rollups": "the rollups job rolls every unit's telemetry up",
    "models.telemetry.cold": "the cold-tier job moves every unit's old chunks to Parquet",
    "models.telemetry.dead_letters": "ingest's rejects",
    "models.telemetry.simulation_labels": "the simulator's ground truth",
    "models.lifecycle.checkpoints": "the operator signs every unit's chain head at once",
    "models.monitoring.alarm_sources": "the alarm jobs read new events and silent units fleet-wide",
    "models.monitoring.features": "the features job reads every active unit's telemetry",
    "models.quality.lives": "the quality job rolls up every part's life and counters",
    "models.quality.energy_rollup": "the quality job classifies every unit's energy by month",
    "models.work.alarm_orders": "the brain opens the work orders that alarms call for",
    "models.work.verification": "the brain verifies or reopens completed alarm work orders fleet-wide",
}
# Single functions of caller-facing modules that only the platform's jobs call (the module's others take a tenant).
PLATFORM_FUNCTIONS = {
    "models.monitoring.alarms.service_state": "the rules ask whether a unit is in inspection or under work",
    "models.work.completion.part_swaps": "the simulator follows the parts crews swapped, fleet-wide",
    "models.work.dispatch.assign_crew": "dispatch of a just-opened order to its contract holder's crews",
    "models.work.dispatch.dispatch_work_orders": "the planning job dispatches undispatched orders",
    "models.work.intervals.unit_signals": "the planning job's view of a unit's record",
    "models.work.orders.flag_sla_breaches": "the planning job flags breaches fleet-wide",
    "models.work.orders.open_work_orders": "the jobs open orders for plans, visits and alarms",
    "models.work.schedules.assign_default_plans": "the planning job gives new units their plan",
    "models.work.visits.units_needing_visits": "the planning job finds the units due",
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
    for info in pkgutil.walk_packages(models.__path__, prefix="models."):
        name = info.name
        if info.ispkg or name in PLATFORM_ONLY:
            continue
        module = importlib.import_module(name)
        for attr in getattr(module, "__all__", ()):
            value = getattr(module, attr)
            if (
                isinstance(value, FunctionType)
                and value.__module__ == name
                and f"{name}.{attr}" not in PLATFORM_FUNCTIONS
            ):
                found.append((f"{name}.{attr}", value, module))
    return found


TOUCHING = [(name, fn) for name, fn, module in _public_functions() if _TABLE.search(_text(module, fn))]


def test_the_scan_sees_the_writers_that_once_took_no_tenant() -> None:
    names = {name for name, _ in TOUCHING}
    assert {
        "models.lifecycle.ledger.append_record",
        "models.registry.units.install_component",
        "models.registry.units.create_unit",
    } <= names


@pytest.mark.parametrize(("name", "function"), TOUCHING, ids=[name for name, _ in TOUCHING])
def test_unit_keyed_functions_take_a_required_tenant(name: str, function: FunctionType) -> None:
    parameter = inspect.signature(function).parameters.get("tenant")
    assert parameter is not None, f"{name} touches a unit-keyed table without a tenant"
    assert parameter.kind is inspect.Parameter.KEYWORD_ONLY
    assert parameter.default is inspect.Parameter.empty, f"{name}'s tenant must be required"
