"""The ground floor: span kinds, status codes, shapes and the plain records the rest shares.

Nothing here knows about files, protobuf, JSON or Textual.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

# OTLP SpanKind values.
KIND_UNSPECIFIED = 0
KIND_INTERNAL = 1
KIND_SERVER = 2
KIND_CLIENT = 3
KIND_PRODUCER = 4
KIND_CONSUMER = 5

KIND_NAMES = ("UNSPECIFIED", "INTERNAL", "SERVER", "CLIENT", "PRODUCER", "CONSUMER")

# OTLP StatusCode values.
STATUS_UNSET = 0
STATUS_OK = 1
STATUS_ERROR = 2

STATUS_NAMES = ("UNSET", "OK", "ERROR")

SHAPE_PUBSUB = "pubsub"
SHAPE_DATABASE = "database"
SHAPE_HTTP = "http"
SHAPE_GENERIC = "generic"
SHAPES = (SHAPE_HTTP, SHAPE_PUBSUB, SHAPE_DATABASE, SHAPE_GENERIC)

UNKNOWN_SERVICE = "unknown_service"

_DB_KEYS = ("db.statement", "db.query.text", "db.system", "db.system.name")
_HTTP_KEYS = ("http.method", "http.request.method")


def kind_from_any(value: Any) -> int | None:
    """An OTLP kind given as an int or as its enum name (`SPAN_KIND_SERVER` or `SERVER`)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value if 0 <= value <= 5 else None
    if isinstance(value, str):
        name = value.upper().removeprefix("SPAN_KIND_")
        try:
            return KIND_NAMES.index(name)
        except ValueError:
            if name.isascii() and name.isdigit() and len(name) < 20:
                return kind_from_any(int(name))
    return None


def status_from_any(value: Any) -> int | None:
    """An OTLP status code given as an int or enum name (`STATUS_CODE_ERROR` or `ERROR`)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value if 0 <= value <= 2 else None
    if isinstance(value, str):
        name = value.upper().removeprefix("STATUS_CODE_")
        try:
            return STATUS_NAMES.index(name)
        except ValueError:
            if name.isascii() and name.isdigit() and len(name) < 20:
                return status_from_any(int(name))
    return None


def classify_shape(kind: int, attributes: Collection[str] | Mapping[str, Any]) -> str:
    """SPEC §2: the legend glyph of a span, first rule that matches."""
    if kind == KIND_PRODUCER or kind == KIND_CONSUMER or "messaging.system" in attributes:
        return SHAPE_PUBSUB
    for key in _DB_KEYS:
        if key in attributes:
            return SHAPE_DATABASE
    for key in _HTTP_KEYS:
        if key in attributes:
            return SHAPE_HTTP
    return SHAPE_GENERIC


def is_internal_kind(kind: int) -> bool:
    """The OTel spec lets receivers read UNSPECIFIED as INTERNAL."""
    return kind == KIND_INTERNAL or kind == KIND_UNSPECIFIED


def hex_id(raw: bytes) -> str:
    return raw.hex()


class Resource:
    """A resource shared by every span that names it (never copied per span)."""

    __slots__ = ("attributes", "service")

    def __init__(self, attributes: dict[str, Any]) -> None:
        self.attributes = attributes
        service = attributes.get("service.name")
        self.service = str(service) if service not in (None, "") else UNKNOWN_SERVICE


class Scope:
    """An instrumentation scope, shared like resources."""

    __slots__ = ("name", "version", "attributes")

    def __init__(self, name: str, version: str, attributes: dict[str, Any]) -> None:
        self.name = name
        self.version = version
        self.attributes = attributes


class SpanEvent:
    __slots__ = ("name", "time_ns", "attributes")

    def __init__(self, name: str, time_ns: int, attributes: dict[str, Any]) -> None:
        self.name = name
        self.time_ns = time_ns
        self.attributes = attributes


class LinkDetail:
    __slots__ = ("trace_id", "span_id", "attributes")

    def __init__(self, trace_id: bytes, span_id: bytes, attributes: dict[str, Any]) -> None:
        self.trace_id = trace_id
        self.span_id = span_id
        self.attributes = attributes


class SpanDetail:
    """What the index does not keep in memory: read again from the source when shown.
    `error` says why it could not be read (then the rest is empty): the span still shows
    what the index holds."""

    __slots__ = ("attributes", "events", "links", "status_message", "trace_state", "error")

    def __init__(
        self,
        attributes: dict[str, Any],
        events: list[SpanEvent],
        links: list[LinkDetail],
        status_message: str,
        trace_state: str = "",
        error: str = "",
    ) -> None:
        self.attributes = attributes
        self.events = events
        self.links = links
        self.status_message = status_message
        self.trace_state = trace_state
        self.error = error

    @classmethod
    def unreadable(cls, why: str) -> SpanDetail:
        return cls({}, [], [], "", "", why)
