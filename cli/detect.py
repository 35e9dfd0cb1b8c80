"""`liftbrain detect`: score an exported table offline with the brain's detector (backtesting).

The input is a CSV or Parquet file with a time column and any numeric channels (an elevator's, a pump's, an
escalator's). The detector learns each channel's median and robust spread from the training rows (those
before --train-until, or the first --train-rows, by default the first half) and scores every row: `score`
is the row's largest deviation in robust spreads (higher = more anomalous), `anomaly` is 1 past the learned
threshold. The output CSV has the time column, `score` and `anomaly`, one row per input row, in input order.
"""

from __future__ import annotations

import argparse
import logging
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from brain.detection.detector import DEFAULT_THRESHOLD, RobustBaseline
from runtime.errors import OperatorError
from runtime.settings import Settings

__all__ = ["add_parser", "detect_frame"]

log = logging.getLogger("liftbrain")

# Without --train-until or --train-rows, the first half of the rows is taken as the healthy history.
DEFAULT_TRAIN_SHARE = 0.5
# A channel needs this many training values to get a baseline (fewer: it is left out of the score).
MIN_TRAIN_ROWS = 10


def add_parser(commands: argparse._SubParsersAction[Any]) -> None:
    """Register the `detect` subcommand."""
    parser = commands.add_parser(
        "detect",
        help="score a CSV/Parquet table of numeric channels with the detector (offline backtesting)",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--input", type=Path, required=True, metavar="FILE", help="a .csv or .parquet file")
    parser.add_argument("--time-column", required=True, metavar="COL", help="the column holding each row's time")
    train = parser.add_mutually_exclusive_group()
    train.add_argument("--train-until", type=datetime.fromisoformat, metavar="TIME",
                       help="learn from rows before this ISO 8601 time")  # fmt: skip
    train.add_argument("--train-rows", type=int, metavar="N", help="learn from the first N rows")
    parser.add_argument("--channels", metavar="A,B", help="only these numeric columns (default: all but the time)")
    parser.add_argument("--threshold", type=float, default=DEFAULT_THRESHOLD, metavar="Z",
                        help=f"minimum anomaly score in robust spreads (default {DEFAULT_THRESHOLD:g})")  # fmt: skip
    parser.add_argument("--output", type=Path, required=True, metavar="OUT.csv", help="where to write the scores")
    parser.set_defaults(func=_run)


def _read(path: Path) -> pl.DataFrame:
    if not path.is_file():
        raise OperatorError(f"no such input file: {path}")
    suffix = path.suffix.lower()
    try:
        if suffix == ".csv":
            return pl.read_csv(path, infer_schema_length=10_000)
        if suffix == ".parquet":
            return pl.read_parquet(path)
    except (pl.exceptions.PolarsError, OSError) as error:
        raise OperatorError(f"cannot read {path}: {error}") from error
    raise OperatorError(f"unsupported input {path.name}: use a .csv or .parquet file")


def _times(frame: pl.DataFrame, column: str) -> pl.Series:
    series = frame[column]
    if series.dtype == pl.Utf8:
        try:
            series = series.str.to_datetime(time_zone="UTC")
        except pl.exceptions.PolarsError as error:
            raise OperatorError(f"time column {column!r} does not parse as times: {error}") from error
    if not isinstance(series.dtype, pl.Datetime):
        raise OperatorError(f"time column {column!r} is {series.dtype}, not a time; --train-rows works without one")
    return series.dt.replace_time_zone("UTC") if series.dtype.time_zone is None else series


def _training_mask(frame: pl.DataFrame, column: str, train_until: datetime | None, train_rows: int | None) -> Any:
    if train_until is not None:
        if train_until.tzinfo is None:
            raise OperatorError("--train-until needs an explicit UTC offset (e.g. 2026-03-01T00:00:00+00:00)")
        return (_times(frame, column) < train_until).fill_null(False).to_numpy()
    count = train_rows if train_rows is not None else int(frame.height * DEFAULT_TRAIN_SHARE)
    if count < 1:
        raise OperatorError("--train-rows must be at least 1")
    return np.arange(frame.height) < count


def detect_frame(
    frame: pl.DataFrame,
    *,
    time_column: str,
    train_until: datetime | None = None,
    train_rows: int | None = None,
    channels: list[str] | None = None,
    threshold: float = DEFAULT_THRESHOLD,
) -> pl.DataFrame:
    """Time column, `score` and `anomaly` of every row, from a detector fitted on the training rows."""
    if time_column not in frame.columns:
        raise OperatorError(f"no column {time_column!r}; columns are {', '.join(frame.columns)}")
    numeric = [name for name, dtype in frame.schema.items() if name != time_column and dtype.is_numeric()]
    chosen = channels or numeric
    unknown = sorted(set(chosen) - set(numeric))
    if unknown:
        raise OperatorError(f"not numeric channels of the input: {', '.join(unknown)}")
    if not chosen:
        raise OperatorError("the input has no numeric channel besides the time column")
    train = _training_mask(frame, time_column, train_until, train_rows)
    if int(train.sum()) < MIN_TRAIN_ROWS:
        raise OperatorError(f"{int(train.sum())} training row(s): at least {MIN_TRAIN_ROWS} are needed")
    values = frame.select(pl.col(chosen).cast(pl.Float64).fill_nan(None)).to_numpy()
    values = np.where(np.isfinite(values), values, np.nan)
    detector = RobustBaseline(threshold=threshold, min_rows=MIN_TRAIN_ROWS).fit(values[train])
    if not detector.usable_.any():
        raise OperatorError("no channel has enough training values with any spread to learn a baseline from")
    score = detector.anomaly_score(values)
    return pl.DataFrame({
        time_column: frame[time_column],
        "score": np.round(score, 4),
        "anomaly": (score > detector.threshold_).astype(np.int64),
    })  # fmt: skip


def _run(args: argparse.Namespace, settings: Settings) -> int:
    frame = _read(args.input)
    channels = [c.strip() for c in args.channels.split(",") if c.strip()] if args.channels else None
    scored = detect_frame(frame, time_column=args.time_column, train_until=args.train_until,
                          train_rows=args.train_rows, channels=channels, threshold=args.threshold)  # fmt: skip
    scored.write_csv(args.output)
    log.info("scored %d row(s): %d anomalous -> %s", scored.height, int(scored["anomaly"].sum()), args.output)
    return 0
