"""Refusals the embedded broker logged, as a metric: Mosquitto 2.0 keeps no counter of them, only log lines.

The broker appends its notices to `broker.log` in its auth directory; each call reads what was appended since
the previous one and counts the lines that say a client was refused. Lines as Mosquitto 2.0.11 writes them:

    1796223642: Client <unknown> disconnected, not authorised.          (wrong or revoked password, anonymous)
    1796223643: Client dev1 already connected, closing old connection.  (a second device with the same identity)

A denied publish or subscribe is not logged at notice level; the ACL drops it silently (nothing is stored).
"""

from __future__ import annotations

import logging
from pathlib import Path

from prometheus_client import Counter

from models.access.mqtt_credentials import BROKER_LOG_FILE

__all__ = ["AUTH_FAILURES", "REFUSALS", "count_refusals"]

log = logging.getLogger(__name__)

AUTH_FAILURES = Counter(
    "liftbrain_mqtt_auth_failures", "clients the broker refused or displaced, from its log", ["reason"]
)
# Log text -> the metric's reason label.
REFUSALS = {
    "disconnected, not authorised.": "not_authorised",
    "already connected, closing old connection.": "client_id_taken",
}
# The broker never rotates its file: past this size it is emptied once read (it appends, so it carries on).
MAX_LOG_BYTES = 16 * 1024 * 1024

# Per log file, how far it has been read.
_offsets: dict[Path, int] = {}


def count_refusals(auth_dir: Path) -> dict[str, int]:
    """Count the refusals appended to the broker's log since the last call (into AUTH_FAILURES); new ones by reason."""
    path = auth_dir / BROKER_LOG_FILE
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        return {}
    offset = _offsets.get(path, 0)
    if size < offset:
        offset = 0  # emptied or replaced since the last read
    with path.open("rb") as file:
        file.seek(offset)
        appended = file.read(size - offset)
    complete = appended.rfind(b"\n") + 1  # a line still being written is read next time
    found: dict[str, int] = {}
    for line in appended[:complete].decode("utf-8", "replace").splitlines():
        for text, reason in REFUSALS.items():
            if line.endswith(text):
                found[reason] = found.get(reason, 0) + 1
    for reason, count in found.items():
        AUTH_FAILURES.labels(reason=reason).inc(count)
        log.info("broker refused %d client(s): %s", count, reason)
    offset += complete
    if offset >= MAX_LOG_BYTES:
        path.write_bytes(b"")
        offset = 0
    _offsets[path] = offset
    return found
