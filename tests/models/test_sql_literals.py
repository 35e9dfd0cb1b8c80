"""SQL in models is a literal or a psycopg composition: no f-string, `+` or str.format builds a query.

Ruff's S608 catches most f-strings; this scan also catches the concatenations and `.format` calls it lets through
(`_SELECT + " WHERE ..."`). Values go in as parameters, identifiers and fragments through `sql.SQL(...).format`.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import models

# Upper-case SQL words: error messages and docstrings are prose in lower case, queries are written in capitals.
SQL_WORDS = re.compile(r"\b(SELECT|INSERT INTO|UPDATE|DELETE FROM|WHERE|RETURNING|ON CONFLICT|COPY)\b")
MODELS = Path(models.__file__).parent


def _literal_text(node: ast.expr) -> str:
    """The literal text of a string constant or f-string, else ''."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(_literal_text(part) for part in node.values)
    return ""


def _built_sql(tree: ast.AST) -> list[int]:
    """Lines where a string that reads as SQL is built at run time."""
    lines = []
    for node in ast.walk(tree):
        if isinstance(node, ast.JoinedStr) and any(isinstance(v, ast.FormattedValue) for v in node.values):
            built = SQL_WORDS.search(_literal_text(node))
        elif isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Mod)):
            built = SQL_WORDS.search(_literal_text(node.left) + _literal_text(node.right))
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "format":
            built = SQL_WORDS.search(_literal_text(node.func.value))
        else:
            continue
        if built:
            lines.append(node.lineno)
    return lines


def test_the_scan_finds_built_sql() -> None:
    source = (
        'a = f"SELECT {x} FROM t"\nb = COLUMNS + " WHERE id = 1"\nc = "UPDATE {} SET".format(t)\n'
        'd = sql.SQL("SELECT {} FROM t").format(columns)\ne = f"no such {what}"'
    )
    assert _built_sql(ast.parse(source)) == [1, 2, 3]


def test_models_build_no_sql_from_strings() -> None:
    found = {
        f"{path.relative_to(MODELS.parent)}:{line}"
        for path in sorted(MODELS.rglob("*.py"))
        for line in _built_sql(ast.parse(path.read_text(), str(path)))
    }
    assert not found, f"SQL built from strings (compose with psycopg.sql instead): {sorted(found)}"
