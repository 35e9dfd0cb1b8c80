"""Translate database refusals into domain errors, so a user's bad input never becomes a 500."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
from psycopg import errors as pg

from models.errors import BadRequest, Conflict, NotFound

__all__ = ["translate_errors"]


def _detail(exc: psycopg.Error) -> str:
    return exc.diag.message_detail or exc.diag.message_primary or str(exc)


@contextmanager
def translate_errors() -> Iterator[None]:
    """Re-raise constraint and data errors from the block as Conflict, NotFound or BadRequest."""
    try:
        yield
    except pg.UniqueViolation as exc:
        raise Conflict(f"already exists: {_detail(exc)}") from exc
    except pg.ForeignKeyViolation as exc:
        raise NotFound(f"a referenced object does not exist: {_detail(exc)}") from exc
    except pg.RestrictViolation as exc:
        raise Conflict(_detail(exc)) from exc
    except pg.CheckViolation as exc:
        raise BadRequest(f"value out of range or not allowed ({exc.diag.constraint_name})") from exc
    except (pg.NotNullViolation, psycopg.DataError) as exc:
        raise BadRequest(f"invalid value: {_detail(exc)}") from exc
