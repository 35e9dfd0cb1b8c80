"""Ground-truth labels of simulated runs: loaded from the simulator's JSONL, read back to score detectors."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import msgspec
from psycopg import sql
from psycopg.rows import class_row

from models.db import Connection
from models.queries import identifiers

__all__ = ["LABEL_COLUMNS", "Label", "load_labels_file", "read_labels", "unit_labels"]

LABEL_COLUMNS = (
    "kind", "unit_id", "cause", "onset_at", "component_type", "component_serial", "batch_lot", "batch_defective",
    "event_code", "event_at", "predicted_failure_at", "failure_at", "repaired_at", "ends_at", "arrived_at",
    "detected_at", "signal", "magnitude", "precursor",
)  # fmt: skip


class Label(msgspec.Struct, omit_defaults=True, forbid_unknown_fields=True):
    """One ground-truth record: a line of the simulator's labels file, a row of simulation_labels.

    kind "confounder": `cause` names it (sensor_drift, stuck_value, ...), active from `onset_at` to `ends_at`,
    on `signal` (a telemetry field, when it touches one) by `magnitude`. A fault's `precursor` says whether
    wear announced it. A degradation's `detected_at` is the visit that found it and `magnitude` the severity
    left after the fix (0: replaced). An entrapment's `arrived_at` is the crew's arrival, `ends_at` the release.
    """

    kind: str
    unit_id: str
    cause: str
    onset_at: datetime
    component_type: str | None = None
    component_serial: str | None = None
    batch_lot: str | None = None
    batch_defective: bool | None = None
    event_code: str | None = None
    event_at: datetime | None = None
    predicted_failure_at: datetime | None = None
    failure_at: datetime | None = None
    repaired_at: datetime | None = None
    ends_at: datetime | None = None
    arrived_at: datetime | None = None
    detected_at: datetime | None = None
    signal: str | None = None
    magnitude: float | None = None
    precursor: bool | None = None


def read_labels(path: Path) -> list[Label]:
    """Every label in a labels file."""
    decoder = msgspec.json.Decoder(Label)
    return [decoder.decode(line) for line in path.read_bytes().splitlines() if line.strip()]


def load_labels_file(conn: Connection, *, run_id: str, path: Path) -> int:
    """Replace run `run_id`'s labels with the file's (loading the same run again is idempotent); return the count."""
    conn.execute("DELETE FROM simulation_labels WHERE run_id = %s", (run_id,))
    count = 0
    copy_sql = sql.SQL("COPY simulation_labels ({}) FROM STDIN").format(identifiers(("run_id", "seq", *LABEL_COLUMNS)))
    with conn.cursor() as cur, cur.copy(copy_sql) as copy:
        for count, label in enumerate(read_labels(path), start=1):
            copy.write_row((run_id, count, *(getattr(label, name) for name in LABEL_COLUMNS)))
    return count


def unit_labels(conn: Connection, *, run_id: str, unit_id: str) -> list[Label]:
    """A unit's labels in a run, in onset order."""
    with conn.cursor(row_factory=class_row(Label)) as cur:
        query = sql.SQL(
            "SELECT {} FROM simulation_labels WHERE run_id = %s AND unit_id = %s ORDER BY onset_at, seq"
        ).format(identifiers(LABEL_COLUMNS))
        cur.execute(query, (run_id, unit_id))
        return cur.fetchall()
