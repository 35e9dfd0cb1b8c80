"""JSON Schema documents generated from the contract types (kept in models/telemetry/schemas/, checked by a test)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import msgspec

from models.telemetry.contract import EventMessage, StatusMessage, TelemetryBatch, TelemetrySample

__all__ = ["SCHEMA_DIR", "render_schemas", "write_schemas"]

SCHEMA_DIR = Path(__file__).parent / "schemas"
_DOCUMENTS: dict[str, tuple[str, tuple[Any, ...]]] = {
    # A telemetry message is either shape; msgspec renders an untagged union of structs only as oneOf.
    "telemetry.schema.json": ("A telemetry message: one sample or a batch", (TelemetrySample, TelemetryBatch)),
    "event.schema.json": ("A controller fault, event or alarm", (EventMessage,)),
    "status.schema.json": ("A unit's connection state (retained; last will: offline)", (StatusMessage,)),
}


def render_schemas() -> dict[str, str]:
    """File name -> JSON Schema text for each message kind."""
    rendered = {}
    for name, (title, kinds) in _DOCUMENTS.items():
        refs, definitions = msgspec.json.schema_components(kinds, ref_template="#/$defs/{name}")
        shape: dict[str, Any] = refs[0] if len(refs) == 1 else {"oneOf": list(refs)}
        schema = {"$schema": "https://json-schema.org/draft/2020-12/schema", "title": title, **shape,
                  "$defs": definitions}  # fmt: skip
        rendered[name] = json.dumps(schema, indent=2, sort_keys=True) + "\n"
    return rendered


def write_schemas(directory: Path = SCHEMA_DIR) -> list[Path]:
    """Write the schema files; return their paths."""
    directory.mkdir(exist_ok=True)
    paths = []
    for name, text in render_schemas().items():
        path = directory / name
        path.write_text(text)
        paths.append(path)
    return paths
