"""Keep the broker's password and ACL files in step with the mqtt_credentials table; have it reload on change.

Mosquitto re-reads both files on SIGHUP and disconnects the clients whose credential is gone, leaving the
others connected: a revocation takes effect within one run of this job. The broker's pid is read from
`broker.pid` in the auth directory (the embedded broker writes it); a broker elsewhere must reload by itself
when the files change (docker-compose's Mosquitto watches them).

The job runs every few seconds and a fleet has thousands of identities: it renders them only when the
table's change marker (`identities_marker`, one aggregate) or the files themselves moved since its last
render, so a quiet fleet costs one small query per run. Each run also reads what the broker appended to its
log and counts refused clients (brain/broker_log.py).
"""

from __future__ import annotations

import logging
import os
import signal
from datetime import datetime
from pathlib import Path

from brain.broker_log import count_refusals
from models.access.mqtt_credentials import (
    ACL_FILE,
    CREDENTIALS_FILE,
    PID_FILE,
    BrokerAuthFiles,
    active_identities,
    identities_marker,
    render_broker_auth,
)
from models.db import Connection

__all__ = ["reload_broker", "run", "write_auth_files"]

log = logging.getLogger(__name__)

# Hashes only, but still nobody else's business: the broker reads them through the directory's group.
FILE_MODE = 0o640

# The files' (mtime, size) pairs, or None when one is missing: an edit or a deletion by hand is seen too.
FilesState = tuple[tuple[int, int], ...] | None
# Per auth directory, the identities' marker and the files' state as this process last left them.
_rendered: dict[Path, tuple[tuple[object, ...], FilesState]] = {}


def _files_state(auth_dir: Path) -> FilesState:
    try:
        stats = [(auth_dir / name).stat() for name in (CREDENTIALS_FILE, ACL_FILE)]
    except FileNotFoundError:
        return None
    return tuple((st.st_mtime_ns, st.st_size) for st in stats)


def write_auth_files(auth_dir: Path, files: BrokerAuthFiles) -> bool:
    """Write both files atomically where they differ; True when either changed."""
    changed = False
    group = auth_dir.stat().st_gid
    for name, text in ((CREDENTIALS_FILE, files.passwords), (ACL_FILE, files.acl)):
        path = auth_dir / name
        if path.exists() and path.read_text() == text:
            continue
        staging = path.with_suffix(".new")
        staging.write_text(text)
        staging.chmod(FILE_MODE)
        if os.geteuid() == 0:
            os.chown(staging, -1, group)
        staging.replace(path)
        changed = True
    return changed


def reload_broker(auth_dir: Path) -> bool:
    """Send SIGHUP to the broker named in `broker.pid`; False when there is none here to signal."""
    try:
        pid = int((auth_dir / PID_FILE).read_text().strip())
    except FileNotFoundError:
        return False  # a broker elsewhere (docker-compose) watches the files itself
    except ValueError as exc:
        log.warning("unreadable %s in %s: %s", PID_FILE, auth_dir, exc)
        return False
    try:
        os.kill(pid, signal.SIGHUP)
    except (ProcessLookupError, PermissionError) as exc:
        log.warning("broker auth files changed in %s but the broker (pid %d) could not be told: %s", auth_dir, pid, exc)
        return False
    return True


def run(conn: Connection, *, now: datetime, auth_dir: Path, topic_prefix: str) -> None:
    """Render the active identities into the broker's files when they may have changed; reload the broker then.

    Also counts the clients the broker refused since the last run (`liftbrain_mqtt_auth_failures_total`)."""
    count_refusals(auth_dir)
    marker = identities_marker(conn, now=now)
    if _rendered.get(auth_dir) == (marker, _files_state(auth_dir)):
        return
    identities = active_identities(conn, now=now)
    if write_auth_files(auth_dir, render_broker_auth(identities, topic_prefix=topic_prefix)):
        reloaded = reload_broker(auth_dir)
        log.info("broker auth updated: %d identities%s", len(identities), " (broker reloaded)" if reloaded else "")
    # A change committed after the marker was read shows in the next run's marker: rendered again, harmlessly.
    _rendered[auth_dir] = (marker, _files_state(auth_dir))
