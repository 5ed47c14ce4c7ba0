"""Which JSON trace format an input holds (OTLP, Jaeger, Zipkin v2), told from its content:
the first keys that only one format uses. JSON of another known kind is named.

Reading the names of the keys at the head of the input costs microseconds whatever the
size of the file; each loader then checks the structure itself and reports what it found.
"""

from __future__ import annotations

import re

from .report import LoadError

OTLP, JAEGER, ZIPKIN = "otlp", "jaeger", "zipkin"

_HEAD = 1 << 16
# A JSON key: a string followed by a colon (an escaped quote cannot end the string).
_KEY = re.compile(rb'"((?:[^"\\\n]|\\.){1,80})"\s*:')

_MARKERS: dict[bytes, str] = {
    **dict.fromkeys((b"resourceSpans", b"resource_spans", b"batches", b"scopeSpans",
                     b"scope_spans", b"instrumentationLibrarySpans",
                     b"instrumentation_library_spans", b"resourceLogs", b"resource_logs",
                     b"resourceMetrics", b"resource_metrics", b"resourceProfiles",
                     b"resource_profiles", b"startTimeUnixNano", b"start_time_unix_nano"), OTLP),
    # Every Jaeger span has an operationName; traces and UI spans name their process.
    **dict.fromkeys((b"operationName", b"processID", b"processes", b"refType"), JAEGER),
    **dict.fromkeys((b"localEndpoint", b"remoteEndpoint"), ZIPKIN),
}

# Other kinds of JSON people point trace tools at, by a key only they use.
_OTHER: dict[bytes, str] = {
    b"binaryAnnotations": "Zipkin v1 JSON (spans with binaryAnnotations); this tool reads "
                          "Zipkin v2: fetch the trace from /api/v2/trace/{id}",
    b"resultType": "a Prometheus query response (metrics, not traces)",
    b"rootServiceName": "a Tempo search response (trace summaries, not spans): fetch each "
                        "trace with /api/traces/{id}",
    b"rootTraceName": "a Tempo search response (trace summaries, not spans): fetch each "
                      "trace with /api/traces/{id}",
    b"spanSets": "a Tempo search response (trace summaries, not spans): fetch each trace "
                 "with /api/traces/{id}",
}
_OTHER[b"endpoint"] = _OTHER[b"binaryAnnotations"]  # v1 annotations carry their endpoint


def json_format(data: bytes) -> str:
    """OTLP, JAEGER or ZIPKIN; OTLP when nothing tells (its loader says what is missing).
    Raises LoadError for JSON of another known kind."""
    head = data[:_HEAD]
    seen: set[bytes] = set()
    for m in _KEY.finditer(head):
        key = m.group(1)
        fmt = _MARKERS.get(key)
        if fmt is not None:
            return fmt
        other = _OTHER.get(key)
        if other is not None:
            raise LoadError(f"looks like {other}, which is not trace data this tool reads")
        seen.add(key)
    # A Zipkin v2 span needs no more than traceId and id (OTLP and Jaeger spans say spanId).
    if b"traceId" in seen and b"id" in seen:
        return ZIPKIN
    # Jaeger's query API answers {"data": [...], "total", "limit", "offset", "errors"}, also
    # when no trace matched.
    if b"data" in seen and not seen.isdisjoint((b"total", b"limit", b"offset", b"errors")):
        return JAEGER
    return OTLP
