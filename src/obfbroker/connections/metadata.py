"""A connection's metadata: the customer's own JSON object, the rules it is held to, and the
index rows (``zoom_connection_metadata``, one per top-level scalar) that let the list filter on
``metadata.<key>=<value>`` from an index. Every write of the metadata goes through ``store``, so
the index rows always say what the object says."""

from __future__ import annotations

import json
from typing import Any

from obfbroker.connections.schemas import METADATA_MAX_BYTES
from obfbroker.errors import BadRequest

MAX_KEY_LENGTH = 200
MAX_VALUE_LENGTH = 500


def validate_metadata(value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise BadRequest("metadata must be a JSON object", code="invalid_metadata")
    size = len(json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode())
    if size > METADATA_MAX_BYTES:
        raise BadRequest(f"metadata must be at most {METADATA_MAX_BYTES} bytes as JSON "
                         f"(this one is {size})", code="invalid_metadata")
    return value


def index_text(value: Any) -> str | None:
    """A metadata value as the filter matches it: strings as they are, numbers as JSON text,
    booleans ``true``/``false``, null ``null``; None for what is not filterable (objects,
    arrays, text longer than ``MAX_VALUE_LENGTH``)."""
    if isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, str):
        text = value
    elif value is None or isinstance(value, int | float):
        text = json.dumps(value)
    else:
        return None
    return text if len(text) <= MAX_VALUE_LENGTH else None


def index_entries(metadata: dict[str, Any]) -> dict[str, str]:
    """The (key, value) pairs of ``metadata`` the filter can find."""
    entries = {}
    for key, value in metadata.items():
        text = index_text(value)
        if text is not None and len(key) <= MAX_KEY_LENGTH:
            entries[key] = text
    return entries

