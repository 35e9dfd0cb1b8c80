"""The batch writer against the database alone (no broker): one transaction, conflicts, presence, dead letters."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import LiteralString

import pytest

from ingest.batch import KnownUnits, write_batch
from ingest.parse import Limits, Parsed, parse_message
from models.db import Connection, DatabaseError, connect
from models.telemetry.samples import TELEMETRY_COLUMNS
from tests.support.ingest import register

LIMITS = Limits(topic_prefix="lb/v1", max_payload_bytes=65536, max_future=timedelta(minutes=5),
                max_past=timedelta(days=3650))  # fmt: skip
NOW = datetime.now(UTC).replace(microsecond=0)
T = (NOW - timedelta(minutes=1)).isoformat().encode()


def msg(kind: str, payload: bytes, *, unit: str = "u1", retained: bool = False, at: datetime = NOW) -> Parsed:
    """A parsed message as the consumer would queue it."""
    return parse_message(f"lb/v1/{unit}/{kind}", payload, LIMITS, received_at=at, retained=retained)


def sample(speed: float, ts: bytes = T) -> bytes:
    """One telemetry sample at `ts`."""
    return b'{"ts": "' + ts + b'", "speed_mps": ' + str(speed).encode() + b"}"


@pytest.fixture
def db(database_url: str) -> Iterator[Connection]:
    """An autocommit connection with u1 registered, as the ingest writer holds one."""
    register(database_url, "u1")
    with connect(database_url, autocommit=True) as conn:
        yield conn


def rows(conn: Connection, query: LiteralString) -> list[tuple[object, ...]]:
    """Rows of `query` as tuples."""
    return [tuple(r.values()) for r in conn.execute(query).fetchall()]


def test_telemetry_columns_are_the_table_columns(db: Connection) -> None:
    table = rows(db, "SELECT column_name FROM information_schema.columns WHERE table_name = 'telemetry'"
                     " ORDER BY ordinal_position")  # fmt: skip
    assert tuple(name for (name,) in table) == TELEMETRY_COLUMNS


def test_a_batch_is_one_transaction(db: Connection) -> None:
    """A failure at the batch's last write (its dead letters) leaves none of its rows behind."""
    db.execute("CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE 'refused'; END $$")
    db.execute("CREATE TRIGGER refuse BEFORE INSERT ON dead_letters FOR EACH ROW EXECUTE FUNCTION refuse()")
    batch = [
        msg("telemetry", sample(1.0)),
        msg("event", b'{"ts": "' + T + b'", "code": "overspeed"}'),
        msg("status", b'{"state": "online", "ts": "' + T + b'"}'),
        msg("telemetry", b"{broken"),
    ]
    with pytest.raises(DatabaseError, match="refused"):
        write_batch(db, batch, KnownUnits(auto_register=False))
    assert rows(db, "SELECT (SELECT count(*) FROM telemetry) + (SELECT count(*) FROM events)"
                    " + (SELECT count(*) FROM unit_status_changes) AS n") == [(0,)]  # fmt: skip
    db.execute("DROP TRIGGER refuse ON dead_letters")
    result = write_batch(db, batch, KnownUnits(auto_register=False))
    assert (result.telemetry_new, result.events_new, result.status_changes, result.dead_lettered) == (1, 1, 1, 1)


def test_identical_redelivery_is_silent(db: Connection) -> None:
    known = KnownUnits(auto_register=False)
    write_batch(db, [msg("telemetry", sample(1.0)), msg("event", b'{"ts": "' + T + b'", "code": "overspeed"}')], known)
    again = write_batch(db, [msg("telemetry", sample(1.0)), msg("event", b'{"ts": "' + T + b'", "code": "overspeed"}'),
                             msg("telemetry", sample(1.0))], known)  # fmt: skip
    assert (again.telemetry_new, again.events_new, again.conflicts) == (0, 0, 0)
    assert rows(db, "SELECT count(*) FROM ingest_conflicts") == [(0,)]


def test_conflicting_versions_keep_the_first_and_record_the_others(db: Connection) -> None:
    known = KnownUnits(auto_register=False)
    first = write_batch(db, [msg("telemetry", sample(1.0)), msg("telemetry", sample(2.0))], known)
    later = write_batch(db, [msg("telemetry", sample(3.0)), msg("telemetry", sample(2.0))], known)
    assert (first.telemetry_new, first.conflicts, later.telemetry_new, later.conflicts) == (1, 1, 0, 1)
    assert rows(db, "SELECT speed_mps FROM telemetry") == [(1.0,)]
    recorded = rows(db, "SELECT kind, unit_id, kept->>'speed_mps' AS k, refused->>'speed_mps' AS r"
                        " FROM ingest_conflicts ORDER BY id")  # fmt: skip
    assert recorded == [("telemetry", "u1", "1", "2"), ("telemetry", "u1", "1", "3")]


def test_two_versions_inside_one_message_keep_the_first(db: Connection) -> None:
    payload = b'{"samples": [' + sample(4.0) + b", " + sample(5.0) + b"]}"
    result = write_batch(db, [msg("telemetry", payload)], KnownUnits(auto_register=False))
    assert (result.telemetry_rows, result.telemetry_new, result.conflicts) == (2, 1, 1)
    assert rows(db, "SELECT speed_mps FROM telemetry") == [(4.0,)]


def test_an_event_with_the_same_time_and_code_but_another_floor_is_a_conflict(db: Connection) -> None:
    known = KnownUnits(auto_register=False)
    write_batch(db, [msg("event", b'{"ts": "' + T + b'", "code": "door_close_fault", "floor": 3}')], known)
    result = write_batch(db, [msg("event", b'{"ts": "' + T + b'", "code": "door_close_fault", "floor": 4}')], known)
    assert (result.events_new, result.conflicts) == (0, 1)
    assert rows(
        db, "SELECT kept->>'floor' AS k, refused->>'floor' AS r FROM ingest_conflicts WHERE kind = 'event'"
    ) == [("3", "4")]


def test_retained_and_untimed_statuses_are_never_sightings(db: Connection) -> None:
    known = KnownUnits(auto_register=False)
    write_batch(db, [msg("status", b'{"state": "online", "ts": "' + T + b'"}', retained=True)], known)
    assert rows(db, "SELECT online, last_seen FROM units") == [(True, None)]
    write_batch(db, [msg("status", b'{"state": "offline"}', retained=True)], known)  # a will replayed: no news
    assert rows(db, "SELECT count(*) FROM unit_status_changes") == [(1,)]
    write_batch(db, [msg("status", b'{"state": "offline"}')], known)  # the will, live: the unit is gone
    assert rows(db, "SELECT online, last_seen FROM units") == [(False, None)]
    assert rows(db, "SELECT count(*) FROM unit_status_changes WHERE state = 'offline'") == [(1,)]


def test_a_live_timestamped_status_is_a_sighting(db: Connection) -> None:
    write_batch(db, [msg("status", b'{"state": "online", "ts": "' + T + b'"}')], KnownUnits(auto_register=False))
    assert rows(db, "SELECT online, last_seen FROM units") == [(True, NOW)]


def test_retained_data_is_not_a_sighting(db: Connection) -> None:
    write_batch(db, [msg("telemetry", sample(1.0), retained=True)], KnownUnits(auto_register=False))
    assert rows(db, "SELECT count(*), (SELECT last_seen FROM units) FROM telemetry") == [(1, None)]


def test_a_retained_bad_payload_is_one_dead_letter_across_reconnects(db: Connection) -> None:
    known = KnownUnits(auto_register=False)
    results = [write_batch(db, [msg("status", b'{"state": "asleep"}', retained=True, at=NOW + timedelta(seconds=i))],
                           known) for i in range(3)]  # fmt: skip
    assert [sum(r.stored_letters.values()) for r in results] == [1, 0, 0]
    write_batch(db, [msg("status", b'{"state": "asleep"}')], known)  # published live again: a new fact
    assert rows(db, "SELECT retained, count(*) FROM dead_letters GROUP BY retained ORDER BY retained") == [
        (False, 1),
        (True, 1),
    ]


def test_a_nul_in_a_field_name_keeps_its_reason(db: Connection) -> None:
    payload = b'{"ts": "' + T + b'", "a\\u0000b": 1}'
    write_batch(db, [msg("telemetry", payload)], KnownUnits(auto_register=False))
    assert rows(db, "SELECT reason_code, reason, payload FROM dead_letters") == [
        ("invalid", "invalid: Object contains unknown field `a\\x00b`", payload)
    ]
