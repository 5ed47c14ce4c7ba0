"""OTLP AnyValue / KeyValue lists to plain Python values, from JSON dicts or protobuf."""

from __future__ import annotations

import base64
from typing import Any

# camelCase and snake_case spellings of each AnyValue field.
_JSON_FIELDS = {
    "stringValue": "s", "string_value": "s",
    "intValue": "i", "int_value": "i",
    "doubleValue": "d", "double_value": "d",
    "boolValue": "b", "bool_value": "b",
    "arrayValue": "a", "array_value": "a",
    "kvlistValue": "k", "kvlist_value": "k",
    "bytesValue": "y", "bytes_value": "y",
}


# Deeper than this, an array or kvlist value is shown as this marker, not walked: the
# walk is recursive, and a hostile file nests thousands of levels.
MAX_DEPTH = 64
TOO_DEEP = "(nested too deeply to show)"


def json_any(value: Any, depth: int = 0) -> Any:
    """One OTLP/JSON AnyValue (`{"stringValue": "x"}`) as a Python value."""
    if not isinstance(value, dict):
        return value
    if depth > MAX_DEPTH:
        return TOO_DEEP
    for key, v in value.items():
        tag = _JSON_FIELDS.get(key)
        if tag is None:
            continue
        if tag == "s":
            return v if isinstance(v, str) else str(v)
        if tag == "i":
            try:
                return int(v)
            except (TypeError, ValueError):
                return v
        if tag == "d":
            try:
                return float(v)
            except (TypeError, ValueError):
                return v
        if tag == "b":
            return v if isinstance(v, bool) else str(v).lower() == "true"
        if tag == "a":
            values = v.get("values", []) if isinstance(v, dict) else []
            return [json_any(x, depth + 1) for x in values] if isinstance(values, list) else []
        if tag == "k":
            values = v.get("values", []) if isinstance(v, dict) else []
            return json_attributes(values, depth + 1)
        if tag == "y":
            try:
                return base64.b64decode(v)
            except (TypeError, ValueError):
                return v
    return None


def json_attributes(items: Any, depth: int = 0) -> dict[str, Any]:
    """An OTLP/JSON KeyValue list as a dict (later duplicates win, as in the SDKs)."""
    out: dict[str, Any] = {}
    if not isinstance(items, list):
        return out
    for kv in items:
        if isinstance(kv, dict):
            key = kv.get("key")
            if isinstance(key, str):
                out[key] = json_any(kv.get("value"), depth)
    return out


def proto_any(value: Any, depth: int = 0) -> Any:
    """One protobuf AnyValue message as a Python value."""
    which = value.WhichOneof("value")
    if which is None:
        return None
    if depth > MAX_DEPTH and which in ("array_value", "kvlist_value"):
        return TOO_DEEP
    if which == "array_value":
        return [proto_any(v, depth + 1) for v in value.array_value.values]
    if which == "kvlist_value":
        return proto_attributes(value.kvlist_value.values, depth + 1)
    return getattr(value, which)


def proto_attributes(items: Any, depth: int = 0) -> dict[str, Any]:
    return {kv.key: proto_any(kv.value, depth) for kv in items}
