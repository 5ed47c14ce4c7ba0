"""`--save FILE`: every accepted trace export appended as one OTLP/JSON line, the format
the Collector's file exporter writes, so `trace-tui FILE` reopens the recording."""

from __future__ import annotations

import base64
import threading
from typing import Any

import msgspec

from ..loading.sniff import PROTO

_ID_KEYS = ("traceId", "spanId", "parentSpanId")
_encode = msgspec.json.Encoder().encode
_decode = msgspec.json.Decoder().decode


class SaveFile:
    """Appends lines; called from the decoding thread, before the request is answered."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._f = open(path, "ab")  # noqa: SIM115 - open for the whole session
        self._lock = threading.Lock()
        self.lines = 0

    def append(self, body: bytes, fmt: str) -> None:
        """One request body (already inflated) as one line; flushed to the OS at once so
        that nothing acknowledged is lost when the process dies."""
        line = proto_to_json_line(body) if fmt == PROTO else json_to_line(body)
        with self._lock:
            self._f.write(line)
            self._f.flush()
            self.lines += 1

    def close(self) -> None:
        with self._lock:
            if not self._f.closed:
                self._f.flush()
                self._f.close()


def json_to_line(body: bytes) -> bytes:
    """A JSON body on one line (a pretty-printed one is re-encoded; values kept as sent)."""
    body = body.strip()
    if b"\n" in body or b"\r" in body:
        body = _encode(_decode(body))
    return body + b"\n"


def proto_to_json_line(body: bytes) -> bytes:
    """A protobuf ExportTraceServiceRequest as OTLP/JSON: camelCase, hex ids, int64 as
    strings, enums as integers (what the OTLP/JSON spec and the file exporter write)."""
    from google.protobuf.json_format import MessageToDict
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
        ExportTraceServiceRequest,
    )

    doc = MessageToDict(ExportTraceServiceRequest.FromString(body),
                        use_integers_for_enums=True)
    for rs in doc.get("resourceSpans", ()):
        for ss in rs.get("scopeSpans", ()):
            for sp in ss.get("spans", ()):
                _hex_ids(sp)
                for lk in sp.get("links", ()):
                    _hex_ids(lk)
    return _encode(doc) + b"\n"


def _hex_ids(d: dict[str, Any]) -> None:
    for key in _ID_KEYS:
        v = d.get(key)
        if v:
            d[key] = base64.b64decode(v).hex()
