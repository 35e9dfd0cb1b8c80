"""Lists as JSON (a page) or as CSV (the same page, one row per item; X-Next-Offset tells where to go on)."""

from __future__ import annotations

import csv
import io
import json
from enum import StrEnum
from typing import Annotated, Any

from fastapi import Query
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel

from models.queries import Page

__all__ = ["CSV_RESPONSE", "ExportFormat", "Format", "export"]

# Spreadsheets run text cells starting with these as formulas; a quote makes them text (CSV injection).
# Numbers are written as they are: a leading minus there is a sign, not a formula.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


class ExportFormat(StrEnum):
    """How a list is returned."""

    JSON = "json"
    CSV = "csv"


Format = Annotated[ExportFormat, Query(description="json (a page object) or csv (rows, next offset in a header)")]
CSV_RESPONSE: dict[int | str, dict[str, Any]] = {
    200: {"content": {"text/csv": {"schema": {"type": "string"}}}, "description": "The page, as JSON or CSV"}
}


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool | int | float):
        return str(value)  # a number stays a number (-0.96 is not a formula)
    text = json.dumps(value, separators=(",", ":")) if isinstance(value, dict | list) else str(value)
    return "'" + text if text.startswith(FORMULA_PREFIXES) else text


def export(page: Page[Any], fmt: ExportFormat, *, item: type[BaseModel], name: str) -> Response:
    """Render a page of `item` rows in the asked format."""
    headers = {} if page.next_offset is None else {"X-Next-Offset": str(page.next_offset)}
    if fmt is ExportFormat.JSON:
        return JSONResponse(page.model_dump(mode="json"), headers=headers)
    items: list[BaseModel] = page.items
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(item.model_fields))
    writer.writeheader()
    writer.writerows({k: _cell(v) for k, v in row.model_dump(mode="json").items()} for row in items)
    headers["Content-Disposition"] = f'attachment; filename="{name}.csv"'
    return Response(out.getvalue(), media_type="text/csv", headers=headers)
