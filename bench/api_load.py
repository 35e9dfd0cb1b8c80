"""Benchmark: the API under overload. Every answer must be 2xx, 401, 429 or 503 within 2 s; none a 500.

Starts its own PostgreSQL+TimescaleDB and Mosquitto in a temporary directory, seeds one unit with a maintainer
and KEYS maintainer keys, and runs the API (uvicorn, one process, loopback only) in a child process. Then:

1. baseline: one client at a time (the latency of an idle API);
2. saturation: as many clients as the gate admits at once, in a closed loop for --seconds; the completed 2xx
   rate is the capacity (more clients would only collect 503s);
3. overload: an open loop at --overload times that rate for --seconds, each request sent on schedule whether
   or not earlier ones were answered: 70% with a valid key, 20% with none, 10% with an unknown key.
   The schedule is split over CLIENT_PROCESSES processes, so one client event loop is not the bottleneck.
   A request with no complete answer within DEADLINE_S counts as a timeout (a failure).

    .venv/bin/python bench/api_load.py --seconds 5 --overload 4

Latency is measured from the moment the client sent a request; how far the client itself fell behind its
schedule (it shares the cores) is reported apart, as client_lag. Prints a table, then one JSON line.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing as mp
import random
import shutil
import socket
import sys
import tempfile
import time
from collections import Counter
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from api.gate import Limits
from api.server import SERVER_LIMIT_CONCURRENCY
from models.access import api_keys
from models.access.tenancy import Role, TenantScope
from models.db import connect
from models.migrate import migrate
from models.registry import organizations, units
from models.registry.parties import MANUFACTURERS
from models.registry.unit_models import UNIT_MODELS
from models.work import contracts
from runtime.settings import Settings
from stack.mosquitto import LocalMosquitto
from stack.postgres import LocalPostgres

# The promise under test: an answer (of the allowed kinds) within this long.
DEADLINE_S = 2.0
ALLOWED = frozenset({200, 401, 429, 503})
# Valid keys share the load, so the per-key rate limit is one of the answers, not the only one.
KEYS = 20
# Bounds the bench's own size whatever the arguments: at most this many requests in the overload phase.
MAX_OVERLOAD_REQUESTS = 20_000
BASELINE_REQUESTS = 200
# The first answers (pool connections opening, keys resolved) may take this long on a busy machine.
WARM_UP_TIMEOUT_S = 30.0
# Client processes sharing the overload schedule: one Python event loop cannot open connections at 4x capacity.
CLIENT_PROCESSES = 3
# Checks, 0.1 s apart, that the API process accepts connections (it imports the app first).
SERVER_START_TRIES = 300


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def seed(dsn: str) -> list[str]:
    """One unit maintained by one maintainer; KEYS maintainer keys. Returns the secrets."""
    with connect(dsn) as conn:
        make_org = organizations.create_organization(conn, name="Make Org", kind="manufacturer")
        maint_org = organizations.create_organization(conn, name="Maint Org", kind="maintainer")
        maker = MANUFACTURERS.create(conn, {"name": "Make", "organization_id": make_org.id})
        model = UNIT_MODELS.create(
            conn,
            {
                "manufacturer_id": maker.id,
                "name": "M1",
                "capacity_kg": 1000,
                "rated_speed_mps": 1.6,
                "drive_type": "mrl",
            },
        )
        units.create_unit(
            conn, tenant=TenantScope.internal(), unit_id="U1", serial="SN-U1", registration_code="REG-U1",
            model_id=model.id, site_id=None, floors=10,
        )  # fmt: skip
        contracts.create_contract(
            conn, tenant=TenantScope.internal(), unit_id="U1", maintainer_id=maint_org.id, starts_on=date(2024, 1, 1)
        )
        secrets = [
            api_keys.create_api_key(conn, name=f"k{i}", role=Role.MAINTAINER, organization_id=maint_org.id)[1]
            for i in range(KEYS)
        ]
        conn.commit()
    return secrets


def serve(dsn: str, mqtt_url: str, port: int, limits: Limits, limit_concurrency: int) -> None:
    """The API process, served as `liftbrain api` serves it (uvicorn's own limits included)."""
    from api.server import serve as serve_api

    settings = Settings(database_url=dsn, mqtt_url=mqtt_url)
    serve_api(settings, host="127.0.0.1", port=port, limits=limits, limit_concurrency=limit_concurrency)


def start_api(
    dsn: str, mqtt_url: str, limits: Limits, limit_concurrency: int = SERVER_LIMIT_CONCURRENCY
) -> tuple[mp.process.BaseProcess, int]:
    """The API in a child process on a free port, once it accepts connections."""
    port = free_port()
    args = (dsn, mqtt_url, port, limits, limit_concurrency)
    server = mp.get_context("spawn").Process(target=serve, args=args, daemon=True)
    server.start()
    for _ in range(SERVER_START_TRIES):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            time.sleep(0.1)
    return server, port


async def _request(port: int, path: str, key: str | None) -> int:
    """One GET on a fresh connection; the status once the whole answer is read."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        auth = f"Authorization: Bearer {key}\r\n" if key else ""
        writer.write(f"GET {path} HTTP/1.1\r\nHost: bench\r\n{auth}Connection: close\r\n\r\n".encode())
        await writer.drain()
        status_line = await reader.readline()
        await reader.read()  # to the end: the answer is complete
        return int(status_line.split()[1])
    finally:
        writer.close()


async def _timed(port: int, path: str, key: str | None, due: float) -> tuple[int | str, float, float]:
    """Status, seconds from sending to the whole answer, and how late the client itself sent it."""
    sent = time.perf_counter()
    try:
        status: int | str = await asyncio.wait_for(_request(port, path, key), DEADLINE_S)
    except TimeoutError:
        status = "timeout"
    except (OSError, ValueError, IndexError):
        status = "broken"
    return status, time.perf_counter() - sent, sent - due


def _paths(i: int) -> str:
    return "/units/U1" if i % 2 == 0 else "/units/U1/records"


async def _baseline(port: int, keys: list[str]) -> list[float]:
    for key in keys:  # untimed: the pool's first connections and each key's first lookup
        await asyncio.wait_for(_request(port, _paths(0), key), WARM_UP_TIMEOUT_S)
    latencies = []
    for i in range(BASELINE_REQUESTS):
        status, latency, _ = await _timed(port, _paths(i), keys[i % len(keys)], time.perf_counter())
        assert status == 200, status
        latencies.append(latency)
    return latencies


async def _saturate(port: int, keys: list[str], seconds: float, clients: int) -> tuple[Counter[int | str], list[float]]:
    statuses: Counter[int | str] = Counter()
    latencies: list[float] = []
    end = time.perf_counter() + seconds

    async def worker(n: int) -> None:
        i = n
        while time.perf_counter() < end:
            status, latency, _ = await _timed(port, _paths(i), keys[i % len(keys)], time.perf_counter())
            statuses[status] += 1
            latencies.append(latency)
            i += clients

    await asyncio.gather(*(worker(n) for n in range(clients)))
    return statuses, latencies


async def _overload_share(
    port: int, keys: list[str], rate: float, seconds: float, share: int
) -> list[tuple[int | str, float, float]]:
    """This process's share of the overload schedule: requests share, share + CLIENT_PROCESSES, ..."""
    rng = random.Random(share)
    total = min(MAX_OVERLOAD_REQUESTS, int(rate * seconds))
    start = time.perf_counter()
    tasks = []
    for i in range(share, total, CLIENT_PROCESSES):
        due = start + i / rate
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        draw = rng.random()
        key = keys[i % len(keys)] if draw < 0.7 else None if draw < 0.9 else "lb_unknown_" + "x" * 40
        tasks.append(asyncio.create_task(_timed(port, _paths(i), key, due)))
    return list(await asyncio.gather(*tasks))


def _overload_process(args: tuple[int, list[str], float, float, int]) -> list[tuple[int | str, float, float]]:
    """Run one share of the overload in a client process."""
    return asyncio.run(_overload_share(*args))


def _overload(
    port: int, keys: list[str], rate: float, seconds: float
) -> tuple[Counter[int | str], list[float], list[float]]:
    with mp.get_context("spawn").Pool(CLIENT_PROCESSES) as pool:
        shares = pool.map(_overload_process, [(port, keys, rate, seconds, n) for n in range(CLIENT_PROCESSES)])
    results = [result for share in shares for result in share]
    return Counter(r[0] for r in results), [r[1] for r in results], [r[2] for r in results]


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000, 1) if ordered else 0.0


def main() -> None:
    """Measure baseline, saturation and overload; print the table and the JSON line."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=5.0, help="length of the saturation and overload phases")
    parser.add_argument("--overload", type=float, default=4.0, help="overload rate as a multiple of capacity")
    parser.add_argument("--max-in-flight", type=int, default=Limits().max_in_flight, help="the gate's admission limit")
    parser.add_argument(
        "--limit-concurrency", type=int, default=SERVER_LIMIT_CONCURRENCY, help="uvicorn's own connection bound"
    )
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="liftbrain-bench-", dir="/tmp"))
    workdir.chmod(0o755)
    postgres = LocalPostgres(workdir / "postgres")
    broker = LocalMosquitto(workdir / "mosquitto", auth_dir=None)
    server = None
    try:
        postgres.start()
        broker.start()
        dsn = postgres.create_database("bench")
        migrate(dsn)
        keys = seed(dsn)
        limits = Limits(max_in_flight=args.max_in_flight)
        server, port = start_api(dsn, broker.url, limits, args.limit_concurrency)
        baseline = asyncio.run(_baseline(port, keys))
        saturated, saturated_lat = asyncio.run(_saturate(port, keys, args.seconds, args.max_in_flight))
        capacity = saturated[200] / args.seconds
        time.sleep(1.0)  # let the rate buckets refill
        overloaded, overload_lat, client_lag = _overload(port, keys, capacity * args.overload, args.seconds)
    finally:
        if server is not None:
            server.terminate()
            server.join(10)
        broker.stop()
        postgres.stop()
        shutil.rmtree(workdir, ignore_errors=True)
    wrong = sum(n for status, n in overloaded.items() if status not in ALLOWED)
    late = sum(1 for latency in overload_lat if latency > DEADLINE_S)
    figures: dict[str, object] = {
        "max_in_flight": args.max_in_flight,
        "limit_concurrency": args.limit_concurrency,
        "baseline_p50_ms": _pct(baseline, 0.5),
        "baseline_p99_ms": _pct(baseline, 0.99),
        "capacity_rps": round(capacity, 1),
        "saturation_p50_ms": _pct(saturated_lat, 0.5),
        "saturation_p99_ms": _pct(saturated_lat, 0.99),
        "saturation_statuses": {str(k): v for k, v in sorted(saturated.items(), key=str)},
        "overload_x": args.overload,
        "overload_offered_rps": round(capacity * args.overload, 1),
        "overload_requests": sum(overloaded.values()),
        "overload_statuses": {str(k): v for k, v in sorted(overloaded.items(), key=str)},
        "overload_p50_ms": _pct(overload_lat, 0.5),
        "overload_p99_ms": _pct(overload_lat, 0.99),
        "overload_max_ms": _pct(overload_lat, 1.0),
        "client_lag_p99_ms": _pct(client_lag, 0.99),
        "overload_wrong_answers": wrong,
        "overload_late_answers": late,
        "ok": wrong == 0 and late == 0,
    }
    print(f"{'figure':<24}value")
    for name, value in figures.items():
        print(f"{name:<24}{value}")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
