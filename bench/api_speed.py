"""Benchmark: the API's speed on its hot read routes, against the gate-and-routing floor of the same run.

Starts its own PostgreSQL+TimescaleDB and Mosquitto in a temporary directory, seeds one unit with a maintainer
and its keys (bench/api_load.py), and serves the API as `liftbrain api` does (uvicorn, loopback). The gate's
per-key rate is raised out of the way: this measures serving, not limiting. For each route:

1. throughput: CLIENT_PROCESSES client processes, each with --connections keep-alive connections in a closed
   loop for --seconds after a warm-up; req/s counts the route's expected status only;
2. latency at a fixed rate: an open loop at --rate requests/s for --seconds (each request due on schedule,
   latency from when it was due, so a stalled server is not hidden by a waiting client): p50 and p99.

CPU seconds of the API process(es), the client processes and PostgreSQL are read from /proc around each
throughput run: the busiest one is the bottleneck. Prints a table, then one JSON line.

    .venv/bin/python bench/api_speed.py --seconds 10 --rate 200
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing as mp
import os
import shutil
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from api_load import seed, start_api

from api.gate import Limits
from models.migrate import migrate
from stack.mosquitto import LocalMosquitto
from stack.postgres import LocalPostgres

# The baseline: an unknown route with a valid key passes the gate, routing and the error handler but no
# database (/health is no baseline: it opens an MQTT connection to probe the broker on every call).
BASELINE = "floor_404"
ROUTES: dict[str, tuple[str, int]] = {  # name: (path, the status it answers)
    BASELINE: ("/no-such-route", 404),
    "unit": ("/units/U1", 200),
    "unit_list": ("/units?limit=50", 200),
    "lifecycle": ("/units/U1/lifecycle", 200),
}
# Client processes: one Python event loop tops out near the API's own rate, so the load is spread.
CLIENT_PROCESSES = 2
# Out of the way of the bench (the gate's default is 50/s per key): serving is measured, not the limiter.
UNLIMITED = Limits(rate_per_s=1e9, burst=10**9)
# The goals (issue 20): throughput on the unit, list and lifecycle routes, and p99 at a fixed rate.
GOAL_RPS = 1000.0
GOAL_P99_MS = 50.0
TICKS_PER_S = os.sysconf("SC_CLK_TCK")
# Each throughput run starts with this long unmeasured (key cache, prepared plans, the pool's connections).
WARM_UP_S = 1.0


class Connection:
    """One keep-alive HTTP/1.1 connection that sends GETs and reads whole answers (Content-Length framed)."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    @classmethod
    async def open(cls, port: int) -> Connection:
        """A connection to the API on loopback."""
        return cls(*await asyncio.open_connection("127.0.0.1", port))

    async def get(self, request: bytes) -> int:
        """Send a prepared request; the status once the whole body is read."""
        self.writer.write(request)
        head = await self.reader.readuntil(b"\r\n\r\n")
        status = int(head.split(b" ", 2)[1])
        length = 0
        for line in head.split(b"\r\n"):
            if line[:15].lower() == b"content-length:":
                length = int(line[15:])
        await self.reader.readexactly(length)
        return status

    def close(self) -> None:
        """Close the socket."""
        self.writer.close()


def _request(path: str, key: str) -> bytes:
    return f"GET {path} HTTP/1.1\r\nHost: bench\r\nAuthorization: Bearer {key}\r\n\r\n".encode()


async def _closed_loop(port: int, request: bytes, connections: int, seconds: float) -> tuple[Counter[int], list[float]]:
    statuses: Counter[int] = Counter()
    latencies: list[float] = []
    warm = time.perf_counter() + WARM_UP_S
    end = warm + seconds

    async def worker() -> None:
        conn = await Connection.open(port)
        try:
            while time.perf_counter() < end:
                started = time.perf_counter()
                status = await conn.get(request)
                if time.perf_counter() > warm:
                    statuses[status] += 1
                    latencies.append(time.perf_counter() - started)
        finally:
            conn.close()

    await asyncio.gather(*(worker() for _ in range(connections)))
    return statuses, latencies


async def _open_loop(
    port: int, request: bytes, connections: int, rate: float, seconds: float
) -> tuple[Counter[int], list[float]]:
    statuses: Counter[int] = Counter()
    latencies: list[float] = []
    idle: asyncio.Queue[Connection] = asyncio.Queue()
    for _ in range(connections):
        idle.put_nowait(await Connection.open(port))

    async def one(due: float) -> None:
        conn = await idle.get()
        try:
            statuses[await conn.get(request)] += 1
            latencies.append(time.perf_counter() - due)
        finally:
            idle.put_nowait(conn)

    start = time.perf_counter()
    tasks = []
    for i in range(int(rate * seconds)):
        due = start + i / rate
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(due)))
    await asyncio.gather(*tasks)
    while not idle.empty():
        idle.get_nowait().close()
    return statuses, latencies


async def _ready(port: int, requests: list[bytes]) -> None:
    """One answer on every route first: the app's pool is open and the key resolved before anything is timed."""
    conn = await Connection.open(port)
    try:
        for request in requests:
            await conn.get(request)
    finally:
        conn.close()


def _client(args: tuple[str, int, bytes, int, float, float]) -> tuple[Counter[int], list[float], float]:
    """One client process's share of a phase; returns its statuses, latencies and CPU seconds."""
    mode, port, request, connections, rate, seconds = args
    before = time.process_time()
    if mode == "closed":
        statuses, latencies = asyncio.run(_closed_loop(port, request, connections, seconds))
    else:
        statuses, latencies = asyncio.run(_open_loop(port, request, connections, rate, seconds))
    return statuses, latencies, time.process_time() - before


def _cpu_seconds(pids: list[int]) -> float:
    """User + system CPU seconds of these processes so far (0 for one that is gone)."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except (FileNotFoundError, ProcessLookupError):
            continue
        total += int(fields[11]) + int(fields[12])
    return total / TICKS_PER_S


def _tree(pid: int) -> list[int]:
    """`pid` and all its descendants."""
    found = [pid]
    for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split():
        found += _tree(int(child))
    return found


def _phase(
    pool: mp.pool.Pool, mode: str, port: int, request: bytes, connections: int, rate: float, seconds: float
) -> tuple[Counter[int], list[float], float]:
    shares = pool.map(
        _client, [(mode, port, request, connections, rate / CLIENT_PROCESSES, seconds)] * CLIENT_PROCESSES
    )
    statuses: Counter[int] = Counter()
    latencies: list[float] = []
    for share_statuses, share_latencies, _ in shares:
        statuses += share_statuses
        latencies += share_latencies
    return statuses, latencies, sum(share[2] for share in shares)


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000, 1) if ordered else 0.0


def main() -> None:
    """Measure every route's throughput and fixed-rate latency; print the table and the JSON line."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=10.0, help="length of each phase per route")
    parser.add_argument("--rate", type=float, default=200.0, help="the fixed rate of the latency phase")
    parser.add_argument("--connections", type=int, default=4, help="keep-alive connections per client process")
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="liftbrain-bench-", dir="/tmp"))
    workdir.chmod(0o755)
    postgres = LocalPostgres(workdir / "postgres")
    broker = LocalMosquitto(workdir / "mosquitto", auth_dir=None)
    server = None
    rows: dict[str, dict[str, object]] = {}
    cpu_share: dict[str, dict[str, float]] = {}
    try:
        postgres.start()
        broker.start()
        dsn = postgres.create_database("bench")
        migrate(dsn)
        key = seed(dsn)[0]
        server, port = start_api(dsn, broker.url, UNLIMITED)
        assert server.pid is not None
        postmaster = int((postgres.pgdata / "postmaster.pid").read_text().split()[0])
        asyncio.run(_ready(port, [_request(path, key) for path, _ in ROUTES.values()]))
        with mp.get_context("spawn").Pool(CLIENT_PROCESSES) as pool:
            for name, (path, expected) in ROUTES.items():
                request = _request(path, key)
                groups = {"api": _tree(server.pid), "postgres": _tree(postmaster)}
                before = {group: _cpu_seconds(pids) for group, pids in groups.items()}
                started = time.perf_counter()
                closed = _phase(pool, "closed", port, request, args.connections, 0, args.seconds)
                statuses, latencies, client_cpu = closed
                wall = time.perf_counter() - started  # CPU shares over the whole run, warm-up included
                used = {group: _cpu_seconds(pids) - before[group] for group, pids in groups.items()}
                used["clients"] = client_cpu
                cpu_share[name] = {group: round(seconds / wall, 2) for group, seconds in used.items()}
                fixed_statuses, fixed_latencies, _ = _phase(
                    pool, "open", port, request, args.connections, args.rate, args.seconds
                )
                rows[name] = {
                    "rps": round(statuses[expected] / args.seconds, 1),
                    "p50_ms": _pct(latencies, 0.5),
                    "p99_ms": _pct(latencies, 0.99),
                    "unexpected": sum(n for status, n in (statuses + fixed_statuses).items() if status != expected),
                    f"at_{int(args.rate)}_p50_ms": _pct(fixed_latencies, 0.5),
                    f"at_{int(args.rate)}_p99_ms": _pct(fixed_latencies, 0.99),
                }
    finally:
        if server is not None:
            server.terminate()
            server.join(10)
        broker.stop()
        postgres.stop()
        shutil.rmtree(workdir, ignore_errors=True)
    fixed_p99 = f"at_{int(args.rate)}_p99_ms"
    goal_routes = [name for name in ROUTES if name != BASELINE]
    bottleneck = {name: max(shares, key=lambda group: shares[group]) for name, shares in cpu_share.items()}
    columns = list(rows[BASELINE])
    print(f"{'route':<12}" + "".join(f"{column:>16}" for column in columns) + "   cpu (cores) api/postgres/clients")
    for name, row in rows.items():
        shares = cpu_share[name]
        print(
            f"{name:<12}" + "".join(f"{row[column]!s:>16}" for column in columns)
            + f"   {shares['api']}/{shares['postgres']}/{shares['clients']} -> {bottleneck[name]}"
        )  # fmt: skip
    figures: dict[str, object] = {
        "seconds": args.seconds,
        "rate": args.rate,
        "connections": args.connections * CLIENT_PROCESSES,
        "routes": rows,
        "cpu_cores": cpu_share,
        "bottleneck": bottleneck,
        "baseline": BASELINE,
        "goal_rps_met": all(float(str(rows[name]["rps"])) >= GOAL_RPS for name in goal_routes),
        "goal_p99_met": all(float(str(rows[name][fixed_p99])) < GOAL_P99_MS for name in goal_routes),
    }
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
