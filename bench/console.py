"""Console fleet board and alarms page server time on a large fleet, against the JSON /units and /alarms lists
in the same run.

    .venv/bin/python bench/console.py [--units 10000] [--repeat 30]

Starts a throwaway PostgreSQL+TimescaleDB, seeds a fleet (sites, models, five maintainers with contracts, open
work orders, a share of units offline, active alarms of every severity and a history of cleared ones), mints an
admin and a maintainer key, and times requests through the real app in process (Starlette's TestClient: no
network, so the time is the server's: auth, SQL, rendering). The broker is never contacted (only /health
would). Prints a table, then one JSON object as the last line.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

import psycopg
from fastapi.testclient import TestClient

from api.app import create_app
from models.access import api_keys
from models.access.tenancy import Role, TenantScope
from models.db import connect
from models.migrate import migrate
from models.queries import PageParams
from models.registry import organizations
from models.registry.fleet_board import BoardFilter, fleet_board
from runtime.settings import Settings
from stack.postgres import LocalPostgres

GOAL_MS = 300.0
# One unit in twelve offline: a bad morning, so "offline first" has a real page of them to sort.
OFFLINE_EVERY = 12
# Units per site (a few cars per building) and open work orders per hundred units.
UNITS_PER_SITE = 5
OPEN_WORK_PER_100 = 15
MAINTAINERS = 5
UNIT_MODELS = 6
# Alarms: a unit in ten has an active one (a bad morning), and each unit has cleared ones behind it, so the
# list's "most recently seen first" sorts a table several times the fleet's size.
ACTIVE_ALARM_EVERY = 10
CLEARED_PER_UNIT = 3
ALARM_TYPES = ("door_close_fault", "overspeed", "levelling_drift", "offline", "brake_fault")
WARMUP = 3

SEED_SQL = """
INSERT INTO organizations (name, kind) VALUES ('platform', 'platform'), ('Make Org', 'manufacturer');
INSERT INTO organizations (name, kind)
    SELECT 'Maintainer ' || g, 'maintainer' FROM generate_series(1, %(maintainers)s) g;
INSERT INTO manufacturers (name, organization_id) SELECT 'Make', id FROM organizations WHERE name = 'Make Org';
INSERT INTO unit_models (manufacturer_id, name, capacity_kg, rated_speed_mps, drive_type)
    SELECT m.id, 'Model ' || g, 630 + 100 * g, 1.0 + g / 4.0, 'traction_gearless'
    FROM manufacturers m, generate_series(1, %(models)s) g;
INSERT INTO sites (name, address, city) SELECT 'Tower ' || g, g || ' Main Street', 'City ' || (g %% 40)
    FROM generate_series(1, %(sites)s) g;
INSERT INTO units (id, serial, registration_code, model_id, manufacturer_id, site_id, floors, status, online,
                   last_seen)
    SELECT 'U' || lpad(g::text, 6, '0'), 'SN' || g, 'REG' || g, m.ids[1 + g %% %(models)s], m.maker,
           s.ids[1 + (g / %(per_site)s) %% %(sites)s], 10 + g %% 20, 'in_service', g %% %(offline_every)s <> 0,
           now() - (g %% 600) * interval '1 second'
    FROM generate_series(1, %(units)s) g,
         (SELECT array_agg(id ORDER BY name) AS ids, min(manufacturer_id::text)::uuid AS maker FROM unit_models) m,
         (SELECT array_agg(id ORDER BY name) AS ids FROM sites) s;
INSERT INTO maintenance_contracts (unit_id, maintainer_id, starts_on)
    SELECT u.id, o.id, date '2024-01-01' FROM units u
    JOIN (SELECT id, row_number() OVER (ORDER BY name) - 1 AS n FROM organizations WHERE kind = 'maintainer') o
      ON o.n = abs(hashtext(u.id)) %% %(maintainers)s;
INSERT INTO work_orders (unit_id, maintainer_id, kind, status, priority, title)
    SELECT c.unit_id, c.maintainer_id, 'corrective', 'open', 1 + abs(hashtext(c.unit_id)) %% 5, 'check ' || c.unit_id
    FROM maintenance_contracts c WHERE abs(hashtext(c.unit_id || 'w')) %% 100 < %(work)s;
INSERT INTO alarms (unit_id, alarm_type, severity, state, source, reason, first_seen, last_seen, cleared_at)
    SELECT u.id, (%(alarm_types)s::text[])[1 + (g + n) %% cardinality(%(alarm_types)s::text[])],
           (ARRAY['critical', 'major', 'minor', 'warning'])[1 + (n + g) %% 4],
           CASE WHEN g = 0 THEN (ARRAY['open', 'acknowledged'])[1 + n %% 2] ELSE 'cleared' END, 'bench', 'seeded',
           now() - (g * 86400 + n %% 3600) * interval '1 second' - interval '1 hour',
           now() - (g * 86400 + n %% 3600) * interval '1 second',
           CASE WHEN g = 0 THEN NULL ELSE now() - (g * 86400 + n %% 3600) * interval '1 second' END
    FROM (SELECT id, row_number() OVER (ORDER BY id) AS n FROM units) u, generate_series(0, %(cleared)s) g
    WHERE g > 0 OR u.n %% %(active_every)s = 0;
"""


def _seed(dsn: str, units: int) -> dict[str, str]:
    """The fleet, and a key per measured role: {role: secret}."""
    params = {
        "units": units,
        "sites": max(1, units // UNITS_PER_SITE),
        "per_site": UNITS_PER_SITE,
        "models": UNIT_MODELS,
        "maintainers": MAINTAINERS,
        "offline_every": OFFLINE_EVERY,
        "work": OPEN_WORK_PER_100,
        "alarm_types": list(ALARM_TYPES),
        "cleared": CLEARED_PER_UNIT,
        "active_every": ACTIVE_ALARM_EVERY,
    }
    with psycopg.connect(dsn) as conn:
        for statement in filter(str.strip, SEED_SQL.split(";")):
            conn.execute(statement, params)
        conn.execute("ANALYZE")
    with connect(dsn) as conn:
        platform = organizations.get_organization_by_name(conn, name="platform").id
        maintainer_org = organizations.get_organization_by_name(conn, name="Maintainer 1").id
        admin = api_keys.create_api_key(conn, name="bench admin", role=Role.ADMIN, organization_id=platform)
        maintainer = api_keys.create_api_key(
            conn, name="bench maintainer", role=Role.MAINTAINER, organization_id=maintainer_org
        )
    return {"admin": admin[1], "maintainer": maintainer[1]}


def _time(call: Callable[[], object], repeat: int) -> dict[str, float]:
    """Milliseconds per call: median, 95th percentile, worst (after a warm-up)."""
    for _ in range(WARMUP):
        call()
    samples = []
    for _ in range(repeat):
        began = time.perf_counter()
        call()
        samples.append((time.perf_counter() - began) * 1000)
    samples.sort()
    p95 = samples[min(len(samples) - 1, round(0.95 * (len(samples) - 1)))]
    return {"p50_ms": round(statistics.median(samples), 1), "p95_ms": round(p95, 1), "max_ms": round(samples[-1], 1)}


def _get(client: TestClient, path: str, headers: dict[str, str]) -> None:
    client.get(path, headers=headers).raise_for_status()


def _signed_in(client: TestClient, key: str) -> None:
    form = client.get("/console/sign-in").text
    token = form.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    response = client.post("/console/sign-in", data={"api_key": key, "csrf_token": token}, follow_redirects=False)
    assert response.status_code == 303, response.text


def main() -> None:
    """Seed, measure, print."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--units", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=30)
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="liftbrain-bench-", dir="/tmp"))
    workdir.chmod(0o755)
    postgres = LocalPostgres(workdir / "pg")
    try:
        postgres.start()
        dsn = postgres.create_database("bench")
        migrate(dsn)
        began = time.perf_counter()
        keys = _seed(dsn, args.units)
        print(f"seeded {args.units} units in {time.perf_counter() - began:.1f} s", flush=True)
        results = _measure(dsn, keys, args)
    finally:
        postgres.stop()
        shutil.rmtree(workdir, ignore_errors=True)
    _report(results, args)


def _measure(dsn: str, keys: dict[str, str], args: argparse.Namespace) -> dict[str, dict[str, float]]:
    app = create_app(Settings(database_url=dsn, mqtt_url="mqtt://127.0.0.1:1883"))
    results: dict[str, dict[str, float]] = {}
    last_page = (args.units - 1) // 50 * 50
    # A deep page of alarms: 90 % down each role's list (a maintainer holds about a fifth of the fleet).
    alarms = args.units * CLEARED_PER_UNIT + args.units // ACTIVE_ALARM_EVERY
    deep_alarms = {"admin": alarms * 9 // 10 // 50 * 50, "maintainer": alarms * 9 // 10 // MAINTAINERS // 50 * 50}
    with TestClient(app) as client, connect(dsn) as conn:
        admin = {"Authorization": f"Bearer {keys['admin']}"}
        results["baseline: GET /units?limit=50 (JSON, admin)"] = _time(
            partial(_get, client, "/units?limit=50", admin), args.repeat
        )
        board = partial(
            fleet_board, conn, tenant=TenantScope.internal(), page=PageParams(limit=50), board_filter=BoardFilter()
        )
        results["fleet_board() SQL only (admin)"] = _time(board, args.repeat)
        results["baseline: GET /alarms?limit=50 (JSON, admin)"] = _time(
            partial(_get, client, "/alarms?limit=50", admin), args.repeat
        )
        for role in ("admin", "maintainer"):
            _signed_in(client, keys[role])
            pages = {
                f"board page ({role})": "/console/fleet",
                f"board live refresh fragment ({role})": "/console/fleet",
                f"board, search 'Tower 7' ({role})": "/console/fleet?q=Tower+7",
                f"board, offline only ({role})": "/console/fleet?presence=offline",
                f"board, last page ({role})": f"/console/fleet?offset={last_page}",
            }
            pages.update(
                {
                    f"alarms page ({role})": "/console/alarms",
                    f"alarms live refresh fragment ({role})": "/console/alarms",
                    f"alarms, critical only ({role})": "/console/alarms?severity=critical",
                    f"alarms, open only ({role})": "/console/alarms?state=open",
                    f"alarms, 90 % deep page ({role})": f"/console/alarms?offset={deep_alarms[role]}",
                }
            )
            for name, path in pages.items():
                headers = {"HX-Request": "true"} if "fragment" in name else {}
                results[name] = _time(partial(_get, client, path, headers), args.repeat)
            client.cookies.clear()
    return results


def _report(results: dict[str, dict[str, float]], args: argparse.Namespace) -> None:
    width = max(len(name) for name in results)
    print(f"\nfleet board and alarms on {args.units} units, {args.repeat} requests each (in process, no network)")
    print(f"{'request':<{width}}  {'p50 ms':>8}  {'p95 ms':>8}  {'max ms':>8}")
    for name, figures in results.items():
        print(f"{name:<{width}}  {figures['p50_ms']:>8}  {figures['p95_ms']:>8}  {figures['max_ms']:>8}")
    summary: dict[str, object] = {"units": args.units, "repeat": args.repeat, "goal_ms": GOAL_MS}
    for page in ("board", "alarms"):
        worst = max(f["p95_ms"] for name, f in results.items() if name.startswith(page))
        verdict = "meets" if worst < GOAL_MS else "misses"
        print(f"worst {page} p95 {worst} ms: {verdict} the {GOAL_MS:.0f} ms goal")
        summary[f"worst_{page}_p95_ms"] = worst
    print(json.dumps({**summary, "results": results}))


if __name__ == "__main__":
    main()
