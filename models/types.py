"""Field types shared by the aggregates: text and JSON the database accepts, strict numbers, unit ids.

Validation follows what PostgreSQL stores, not only what JSON allows: no NUL characters or lone surrogates
in text or jsonb, no NaN/Infinity, no integers beyond bigint, bounded nesting.
"""

from __future__ import annotations

import math
from typing import Annotated, Any

from pydantic import AfterValidator, AwareDatetime, Field, StringConstraints

from models.contract import UNIT_ID_PATTERN
from models.storable import BIGINT_MAX, check_text

__all__ = [
    "MAX_JSON_DEPTH",
    "Code",
    "JsonObject",
    "LongText",
    "Name",
    "Text",
    "Timestamp",
    "UnitId",
    "check_json",
    "check_text",
]

# Lifecycle data is a handful of nested findings; deeper documents are a mistake or an attack.
MAX_JSON_DEPTH = 8
# Per object or array: room for a full report, while one request cannot make the server walk millions of values.
MAX_JSON_ITEMS = 1000


def _check_json_value(value: Any, depth: int) -> None:
    if depth > MAX_JSON_DEPTH:
        raise ValueError(f"JSON nested deeper than {MAX_JSON_DEPTH} levels")
    if isinstance(value, str):
        check_text(value)
    elif isinstance(value, bool) or value is None:
        return
    elif isinstance(value, int):
        if abs(value) > BIGINT_MAX:
            raise ValueError("JSON integer out of range")
    elif isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError("JSON numbers must be finite (no NaN or Infinity)")
    elif isinstance(value, dict):
        if len(value) > MAX_JSON_ITEMS:
            raise ValueError(f"JSON object with more than {MAX_JSON_ITEMS} keys")
        for key, item in value.items():
            check_text(str(key))
            _check_json_value(item, depth + 1)
    elif isinstance(value, list):
        if len(value) > MAX_JSON_ITEMS:
            raise ValueError(f"JSON array with more than {MAX_JSON_ITEMS} items")
        for item in value:
            _check_json_value(item, depth + 1)
    else:
        raise ValueError(f"not a JSON value: {type(value).__name__}")


def check_json(value: dict[str, Any]) -> dict[str, Any]:
    """Refuse a JSON object jsonb would reject or that is unreasonably large."""
    _check_json_value(value, 1)
    return value


Text = Annotated[str, StringConstraints(min_length=1, max_length=200), AfterValidator(check_text)]
Name = Text
LongText = Annotated[str, StringConstraints(max_length=5000), AfterValidator(check_text)]
Code = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,63}$")]
UnitId = Annotated[str, StringConstraints(pattern=UNIT_ID_PATTERN)]
JsonObject = Annotated[dict[str, Any], AfterValidator(check_json)]
Timestamp = Annotated[AwareDatetime, Field(description="RFC 3339 time with an explicit UTC offset")]
