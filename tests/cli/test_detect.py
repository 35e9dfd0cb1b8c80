"""`liftbrain detect`: any numeric channels, a planted anomaly flagged, one row out per row in, bad input refused."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import polars as pl

from cli.main import main

ROWS = 600
PLANTED = 450


def _table() -> pl.DataFrame:
    rng = np.random.default_rng(7)
    pressure = rng.normal(4.0, 0.1, ROWS)
    pressure[PLANTED] = 6.0  # a pump's pressure spike: twenty spreads out
    return pl.DataFrame({
        "ts": [datetime(2026, 1, 1, tzinfo=UTC) + timedelta(minutes=i) for i in range(ROWS)],
        "pressure_bar": pressure,
        "flow_lpm": rng.normal(120.0, 5.0, ROWS),
        "rpm": rng.integers(1400, 1500, ROWS),
    })  # fmt: skip


def test_detect_flags_the_planted_anomaly_in_a_csv(tmp_path: Path) -> None:
    source, out = tmp_path / "pump.csv", tmp_path / "scores.csv"
    _table().write_csv(source)
    assert main(["detect", "--input", str(source), "--time-column", "ts", "--train-rows", "300", "--output",
                 str(out)]) == 0  # fmt: skip
    scores = pl.read_csv(out)
    assert scores.columns == ["ts", "score", "anomaly"]
    assert scores.height == ROWS
    assert scores["anomaly"][PLANTED] == 1
    assert scores["score"][PLANTED] == scores["score"].max()
    assert scores["anomaly"].sum() <= 3


def test_detect_reads_parquet_and_trains_until_a_time(tmp_path: Path) -> None:
    source, out = tmp_path / "pump.parquet", tmp_path / "scores.csv"
    table = _table().with_columns(pl.when(pl.int_range(ROWS) == 100).then(None).otherwise(pl.col("flow_lpm"))
                                  .alias("flow_lpm"))  # fmt: skip
    table.write_parquet(source)
    argv = ["detect", "--input", str(source), "--time-column", "ts", "--train-until", "2026-01-01T05:00:00+00:00",
            "--output", str(out)]  # fmt: skip
    assert main(argv) == 0
    scores = pl.read_csv(out)
    assert scores.height == ROWS
    assert scores["anomaly"][PLANTED] == 1


def test_detect_refuses_bad_input_with_a_reason(tmp_path: Path) -> None:
    out = tmp_path / "scores.csv"
    only_text = tmp_path / "text.csv"
    pl.DataFrame({"ts": ["2026-01-01T00:00:00Z"] * 20, "note": ["x"] * 20}).write_csv(only_text)
    good = tmp_path / "good.csv"
    _table().write_csv(good)
    assert main(["detect", "--input", str(only_text), "--time-column", "ts", "--output", str(out)]) == 1
    assert main(["detect", "--input", str(good), "--time-column", "time", "--output", str(out)]) == 1
    assert main(["detect", "--input", str(good), "--time-column", "ts", "--train-rows", "3", "--output",
                 str(out)]) == 1  # fmt: skip
    assert main(["detect", "--input", str(tmp_path / "missing.csv"), "--time-column", "ts", "--output",
                 str(out)]) == 1  # fmt: skip
    assert not out.exists()
