"""The `liftbrain` command: what an operator can fix is one line and exit 1; a bug keeps its traceback."""

from __future__ import annotations

from pathlib import Path

import pytest

from cli import keys
from cli.main import main


def test_an_operator_error_is_one_line_and_exit_code_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "nope.csv"
    argv = ["detect", "--input", str(missing), "--time-column", "t", "--output", str(tmp_path / "out.csv")]
    assert main(argv) == 1
    errors = [line for line in capsys.readouterr().err.splitlines() if " ERROR " in line]
    assert len(errors) == 1
    assert errors[0].endswith(f"no such input file: {missing}")


def test_a_bug_is_not_turned_into_an_exit_code(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*_: object) -> int:
        raise RuntimeError("a bug")

    monkeypatch.setattr(keys, "_create", broken)
    with pytest.raises(RuntimeError, match="a bug"):
        main(["keys", "create", "--role", "admin", "--org", "x"])
