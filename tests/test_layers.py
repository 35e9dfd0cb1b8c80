"""The layering of DESIGN.md, enforced: who may import whom, and the SQL driver only in models."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
OURS = {"models", "runtime", "ingest", "brain", "api", "simulators", "stack", "cli"}
# models: the domain, by context (registry, access, telemetry, lifecycle, work, monitoring, quality) over a small
# shared kernel (db, migrate, queries, errors, types); runtime: process infrastructure (settings, logs, probes).
# Neither imports anything else of ours; the services import them; cli composes everything.
ALLOWED = {
    "models": set(),
    "runtime": set(),
    "ingest": {"models", "runtime"},
    "brain": {"models", "runtime"},
    "api": {"models", "runtime"},
    "simulators": {"models", "runtime"},
    "stack": {"models", "runtime"},
    "cli": OURS - {"cli"},
}
# Only models speaks to the database driver: the others get its Connection, Pool and errors from models.db.
DRIVERS = {"psycopg", "psycopg_pool"}


def _imports(package: str) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for path in (ROOT / package).rglob("*.py"):
        tree = ast.parse(path.read_text(), filename=str(path))
        names: set[str] = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names.add(node.module)
        found[str(path.relative_to(ROOT))] = names
    return found


@pytest.mark.parametrize("package", sorted(ALLOWED))
def test_package_imports_only_the_layers_below_it(package: str) -> None:
    wrong = {
        path: sorted(top for name in names if (top := name.split(".")[0]) in OURS - {package} - ALLOWED[package])
        for path, names in _imports(package).items()
    }
    assert {path: tops for path, tops in wrong.items() if tops} == {}


@pytest.mark.parametrize("package", sorted(OURS - {"models"}))
def test_only_models_imports_the_database_driver(package: str) -> None:
    offenders = {
        path: sorted(n for n in names if n.split(".")[0] in DRIVERS) for path, names in _imports(package).items()
    }
    assert {path: names for path, names in offenders.items() if names} == {}
