"""`liftbrain dead-letters list|replay`: what ingest refused, and replaying it after a fix (idempotent)."""

from __future__ import annotations

import argparse
import logging
from datetime import datetime
from typing import Any

from cli.database import database_url
from ingest.batch import KnownUnits
from ingest.parse import Limits
from ingest.replay import ReplayResult, replay
from models.db import connect
from models.queries import MAX_LIMIT, PageParams
from models.telemetry.dead_letters import Reason, get_dead_letters, list_dead_letters, pending_dead_letter_ids
from runtime.settings import Settings

__all__ = ["add_parser"]

log = logging.getLogger("liftbrain")

# Letters are read this many at a time during a replay: payloads go up to the ingest limit (256 KiB).
REPLAY_CHUNK = 100
# The reason column of `list` is cut to keep one letter on one line.
REASON_WIDTH = 70


def _aware(text: str) -> datetime:
    value = datetime.fromisoformat(text)
    if value.tzinfo is None:
        raise argparse.ArgumentTypeError(f"{text!r} has no UTC offset (write e.g. 2026-05-01T08:00:00Z)")
    return value


def _filters(args: argparse.Namespace) -> dict[str, Any]:
    return {"unit_id": args.unit, "reason": args.reason, "since": args.since, "until": args.until}


def _list(args: argparse.Namespace, settings: Settings) -> int:
    with connect(database_url(settings)) as conn:
        page = list_dead_letters(conn, page=PageParams(limit=args.limit), pending_only=args.pending,
                                 **_filters(args))  # fmt: skip
    print(f"{'id':>8}  {'received_at':25}  {'reason':16}  {'topic':40}  detail")
    for letter in page.items:
        state = " [replayed]" if letter.replayed_at else ""
        print(f"{letter.id:>8}  {letter.received_at.isoformat(timespec='seconds'):25}  {letter.reason_code:16}  "
              f"{letter.topic[:40]:40}  {letter.reason[:REASON_WIDTH]}{state}")  # fmt: skip
    if page.next_offset is not None:
        print(f"... more: narrow the filters or raise --limit (up to {MAX_LIMIT})")
    return 0


def _replay(args: argparse.Namespace, settings: Settings) -> int:
    limits = Limits.from_settings(settings)
    known = KnownUnits(auto_register=settings.ingest_auto_register)
    total = ReplayResult()
    with connect(database_url(settings), autocommit=True) as conn:
        ids = args.id or pending_dead_letter_ids(conn, **_filters(args))
        for start in range(0, len(ids), REPLAY_CHUNK):
            letters = get_dead_letters(conn, ids=ids[start : start + REPLAY_CHUNK])
            result = replay(conn, letters=letters, limits=limits, known=known)
            total.accepted += result.accepted
            total.refused.update(result.refused)
    refused = ", ".join(f"{count} {reason}" for reason, count in total.refused.most_common()) or "none"
    log.info("replayed %d dead letters: %d accepted now, still refused: %s", len(ids), total.accepted, refused)
    return 0


def add_parser(commands: argparse._SubParsersAction[Any]) -> None:
    """Register `dead-letters list` and `dead-letters replay`."""
    parser = commands.add_parser("dead-letters", help="inspect and replay what ingest refused")
    sub = parser.add_subparsers(dest="dead_letters_command", required=True, metavar="DEAD_LETTERS_COMMAND")
    for name, func, help_text in (
        ("list", _list, "dead letters, newest first"),
        ("replay", _replay, "run pending dead letters through today's ingest again (idempotent)"),
    ):
        command = sub.add_parser(name, help=help_text)
        command.add_argument("--unit", help="only this unit's")
        command.add_argument("--reason", type=Reason, choices=list(Reason), help="only this reason class")
        command.add_argument("--since", type=_aware, help="received at or after (RFC 3339 with offset)")
        command.add_argument("--until", type=_aware, help="received before (RFC 3339 with offset)")
        command.set_defaults(func=func)
    sub.choices["list"].add_argument("--limit", type=int, default=50, choices=range(1, MAX_LIMIT + 1),
                                     metavar="N", help="at most N letters (default 50)")  # fmt: skip
    sub.choices["list"].add_argument("--pending", action="store_true", help="only those not replayed yet")
    sub.choices["replay"].add_argument("--id", type=int, action="append", help="only this letter (repeatable)")
