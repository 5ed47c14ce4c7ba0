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


def json_any(value: Any) -> Any:
    """One OTLP/JSON AnyValue (`{"stringValue": "x"}`) as a Python value."""
    if not isinstance(value, dict):
        return value
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
            return [json_any(x) for x in values] if isinstance(values, list) else []
        if tag == "k":
            values = v.get("values", []) if isinstance(v, dict) else []
            return json_attributes(values)
        if tag == "y":
            try:
                return base64.b64decode(v)
            except (TypeError, ValueError):
                return v
    return None


def json_attributes(items: Any) -> dict[str, Any]:
    """An OTLP/JSON KeyValue list as a dict (later duplicates win, as in the SDKs)."""
    out: dict[str, Any] = {}
    if not isinstance(items, list):
        return out
    for kv in items:
        if isinstance(kv, dict):
            key = kv.get("key")
            if isinstance(key, str):
                out[key] = json_any(kv.get("value"))
    return out


def proto_any(value: Any) -> Any:
    """One protobuf AnyValue message as a Python value."""
    which = value.WhichOneof("value")
    if which is None:
        return None
    if which == "array_value":
        return [proto_any(v) for v in value.array_value.values]
    if which == "kvlist_value":
        return proto_attributes(value.kvlist_value.values)
    return getattr(value, which)


def proto_attributes(items: Any) -> dict[str, Any]:
    return {kv.key: proto_any(kv.value) for kv in items}
