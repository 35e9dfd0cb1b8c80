"""CPU share of each process of a bench, from /proc/<pid>/stat before and after a phase.

A share is CPU seconds over wall seconds: 1.0 is one core busy the whole phase. A process whose children come
and go (PostgreSQL's backends) is counted with its live children plus what it reaped meanwhile (cutime), so a
backend that ended during the phase is still counted. The bottleneck is the process nearest its ceiling: one
core for a single-threaded process (Mosquitto, a Python process under its GIL), the machine for PostgreSQL.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

__all__ = ["CpuMeter", "Share", "children_of", "find_pid", "machine_busy_s", "process_cpu_s", "tree_cpu_s"]

TICKS_PER_S = os.sysconf("SC_CLK_TCK")
CORES = os.cpu_count() or 1
# Above this share of all cores nothing waits on one process: the machine itself is the limit.
MACHINE_BUSY = 0.9


def _stat_fields(pid: int) -> list[str]:
    text = Path(f"/proc/{pid}/stat").read_text()
    return text[text.rindex(")") + 2 :].split()  # the command name may hold spaces: cut after its ')'


def process_cpu_s(pid: int, *, with_reaped: bool = False) -> float:
    """User+system CPU seconds of one process (and of its reaped children); 0 when it is gone."""
    try:
        fields = _stat_fields(pid)
    except (FileNotFoundError, ProcessLookupError):
        return 0.0
    # After the ')': state is field 0, utime 11, stime 12, cutime 13, cstime 14 (proc(5), minus 3).
    ticks = int(fields[11]) + int(fields[12])
    if with_reaped:
        ticks += int(fields[13]) + int(fields[14])
    return ticks / TICKS_PER_S


def children_of(pid: int) -> list[int]:
    """The live direct children of a process."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if int(_stat_fields(int(entry.name))[1]) == pid:
                    found.append(int(entry.name))
            except (FileNotFoundError, ProcessLookupError, IndexError):
                continue
    return found


def find_pid(fragment: str) -> int | None:
    """The first process whose command line contains `fragment` (e.g. its config path)."""
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if fragment in (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace"):
                    return int(entry.name)
            except (FileNotFoundError, ProcessLookupError, PermissionError):
                continue
    return None


def machine_busy_s() -> float:
    """CPU seconds all cores spent busy since boot (every process, ours and anyone else's), from /proc/stat."""
    user, nice, system, _idle, _iowait, irq, softirq, steal = map(int, Path("/proc/stat").read_text().split()[1:9])
    return (user + nice + system + irq + softirq + steal) / TICKS_PER_S


def tree_cpu_s(pid: int) -> float:
    """CPU seconds of a process tree one level deep: the parent, what it reaped, and its live children."""
    return process_cpu_s(pid, with_reaped=True) + sum(process_cpu_s(child) for child in children_of(pid))


@dataclass(frozen=True)
class Share:
    """One process's CPU over a phase."""

    name: str
    cpu_s: float
    share: float  # of one core
    ceiling: float  # the share at which it cannot go faster


class CpuMeter:
    """Reads every named process's CPU at `start` and `stop`; `shares` and `bottleneck` report the phase."""

    def __init__(self, readers: Mapping[str, tuple[Callable[[], float], float]]) -> None:
        self.readers = readers  # name -> (CPU seconds so far, ceiling in cores)
        self._before: dict[str, float] = {}
        self._began = 0.0
        self._machine_before = 0.0
        self.shares: list[Share] = []
        self.machine_share = 0.0  # cores busy over the phase, every process on the machine included

    def start(self) -> None:
        """Take the first reading."""
        self._before = {name: read() for name, (read, _) in self.readers.items()}
        self._machine_before = machine_busy_s()
        self._began = time.monotonic()

    def stop(self, extra_cpu_s: Mapping[str, tuple[float, float]] | None = None) -> list[Share]:
        """Take the second reading; `extra_cpu_s` adds processes that reported their own (cpu_s, ceiling)."""
        wall = time.monotonic() - self._began
        self.machine_share = (machine_busy_s() - self._machine_before) / wall
        self.shares = [
            Share(name, cpu, cpu / wall, ceiling)
            for name, (read, ceiling) in self.readers.items()
            for cpu in [read() - self._before[name]]
        ]
        for name, (cpu, ceiling) in (extra_cpu_s or {}).items():
            self.shares.append(Share(name, cpu, cpu / wall, ceiling))
        return self.shares

    def bottleneck(self) -> str:
        """The process nearest its ceiling, or `cpu` when the machine's cores are (almost) all busy."""
        if self.machine_share >= MACHINE_BUSY * CORES:
            ours = sum(share.share for share in self.shares)
            return f"cpu: all {CORES} cores busy, {self.machine_share - ours:.2f} of them outside this bench"
        return max(self.shares, key=lambda s: s.share / s.ceiling).name

    def figures(self) -> dict[str, float]:
        """Each process's share of one core, and the whole machine's busy cores."""
        return {share.name: round(share.share, 2) for share in self.shares} | {"machine": round(self.machine_share, 2)}
