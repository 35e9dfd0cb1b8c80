"""Translate database refusals into domain errors, so a user's bad input never becomes a 500.

The messages are our own, built from the constraint's name: PostgreSQL's detail text quotes the offending
row (`Failing row contains (...)`, `Key (id)=(...) already exists`) and must never reach a client.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
from psycopg import errors as pg

from models.errors import BadRequest, Conflict, NotFound

__all__ = ["translate_errors"]

# PostgreSQL's default constraint-name suffixes: <table>_<columns>_<suffix>.
_SUFFIXES = ("_pkey", "_key", "_fkey", "_check", "_idx")


def _columns(exc: psycopg.Error) -> str:
    """The columns a constraint names, as words ("site id"), or "value" when the name says nothing."""
    name, table = exc.diag.constraint_name or "", exc.diag.table_name or ""
    stem = name.removeprefix(f"{table}_") if table else name
    if stem == "pkey":
        return "id"
    for suffix in _SUFFIXES:
        stem = stem.removesuffix(suffix)
    return stem.replace("_", " ") or "value"


def _thing(exc: psycopg.Error) -> str:
    table = exc.diag.table_name or "object"
    return table.removesuffix("s").replace("_", " ")


@contextmanager
def translate_errors() -> Iterator[None]:
    """Re-raise constraint and data errors from the block as Conflict, NotFound or BadRequest, in our words."""
    try:
        yield
    except pg.UniqueViolation as exc:
        raise Conflict(f"a {_thing(exc)} with this {_columns(exc)} already exists") from exc
    except pg.ForeignKeyViolation as exc:
        referenced = _columns(exc).removesuffix(" id")
        raise NotFound(f"no such {referenced} (referenced by the {_thing(exc)})") from exc
    except pg.RestrictViolation as exc:
        raise Conflict(f"the {_thing(exc)} cannot be changed or removed") from exc
    except pg.CheckViolation as exc:
        raise BadRequest(f"{_thing(exc)}: {_columns(exc)} out of range or not allowed") from exc
    except pg.NotNullViolation as exc:
        raise BadRequest(f"{_thing(exc)}: {exc.diag.column_name or 'a value'} is required") from exc
    except psycopg.DataError as exc:
        raise BadRequest(f"invalid value for the {_thing(exc)}") from exc
