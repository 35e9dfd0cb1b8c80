"""Helpers shared by the embedded servers: free ports, system users, waiting for a port."""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import time
from collections.abc import Callable
from pathlib import Path

from runtime.errors import OperatorError

__all__ = ["chown_tree", "ensure_reachable_dir", "free_port", "run_as_prefix", "wait_for_port"]


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def run_as_prefix(system_user: str) -> list[str]:
    """The command prefix that runs a server as `system_user` when we are root (servers refuse root)."""
    if os.geteuid() != 0:
        return []
    runuser = shutil.which("runuser") or "/usr/sbin/runuser"
    return [runuser, "-u", system_user, "--"]


def chown_tree(path: Path, system_user: str) -> None:
    """Give `path` (recursively) to `system_user` when we are root; a no-op otherwise."""
    if os.geteuid() != 0:
        return
    entry = pwd.getpwnam(system_user)
    for root, dirs, files in os.walk(path):
        os.chown(root, entry.pw_uid, entry.pw_gid)
        for name in dirs + files:
            os.chown(os.path.join(root, name), entry.pw_uid, entry.pw_gid, follow_symlinks=False)


def ensure_reachable_dir(path: Path) -> None:
    """Create `path` and let other system users traverse it (servers drop root for their own user)."""
    path.mkdir(parents=True, exist_ok=True)
    path.chmod(0o755)


def wait_for_port(host: str, port: int, *, timeout: float, is_alive: Callable[[], bool] | None = None) -> None:
    """Block until something accepts TCP connections on host:port, or raise TimeoutError."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if is_alive is not None and not is_alive():
            raise OperatorError(f"server for {host}:{port} exited during start-up")
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise TimeoutError(f"nothing listens on {host}:{port} after {timeout:.0f}s")
