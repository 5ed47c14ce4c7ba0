"""The sample as Jaeger and Zipkin users have it (used by generate.py).

* Zipkin v2: written by OpenTelemetry's own Zipkin exporter encoder
  (`opentelemetry-exporter-zipkin-json`'s `JsonV2Encoder`, what `ZipkinExporter` POSTs), one
  call per service as the exporter does, then grouped by trace as Zipkin's
  `/api/v2/traces` answers: a list of traces, each a list of spans.
* Jaeger: derived from the OTLP request as Jaeger itself derives it: the OpenTelemetry
  Collector's OTLP -> Jaeger translator (`pkg/translator/jaeger/traces_to_jaegerproto.go`,
  which Jaeger's query service uses) and then Jaeger's JSON model
  (`model/converter/json/from_domain.go`), wrapped as the query API's
  `{"data": [...], "total": 0, ...}` answer. Jaeger's query-time adjusters (clock skew,
  tag sorting...) are not applied.
"""

from __future__ import annotations

import base64
import json
from typing import Any

from opentelemetry.exporter.zipkin.json.v2 import JsonV2Encoder
from opentelemetry.exporter.zipkin.node_endpoint import NodeEndpoint

_KINDS = {1: "internal", 2: "server", 3: "client", 4: "producer", 5: "consumer"}
_JS_MAX_SAFE = (1 << 53) - 1


# -- Zipkin ------------------------------------------------------------------------------

def zipkin_traces(spans: list[Any]) -> list[list[dict[str, Any]]]:
    by_service: dict[str, list[Any]] = {}
    for span in spans:
        by_service.setdefault(span.resource.attributes["service.name"], []).append(span)
    encoded: list[dict[str, Any]] = []
    for service, group in by_service.items():
        endpoint = NodeEndpoint()
        endpoint.service_name = service  # as ZipkinExporter.export() sets it
        encoded.extend(json.loads(JsonV2Encoder().serialize(group, endpoint)))
    traces: dict[str, list[dict[str, Any]]] = {}
    for span in encoded:
        traces.setdefault(span["traceId"], []).append(span)
    return list(traces.values())


# -- Jaeger ------------------------------------------------------------------------------

def _tag(key: str, value: Any) -> dict[str, Any]:
    """attributeToJaegerProtoTag, then from_domain's convertKeyValues."""
    which = value.WhichOneof("value")
    if which == "string_value":
        return {"key": key, "type": "string", "value": value.string_value}
    if which == "bool_value":
        return {"key": key, "type": "bool", "value": value.bool_value}
    if which == "int_value":
        v = value.int_value
        return {"key": key, "type": "int64", "value": v if abs(v) <= _JS_MAX_SAFE else str(v)}
    if which == "double_value":
        return {"key": key, "type": "float64", "value": value.double_value}
    if which == "bytes_value":
        return {"key": key, "type": "binary", "value": base64.b64encode(value.bytes_value).decode()}
    # maps and arrays: pcommon.Value.AsString(), i.e. JSON
    from google.protobuf.json_format import MessageToDict

    return {"key": key, "type": "string",
            "value": json.dumps(_plain(MessageToDict(value)), separators=(",", ":"))}


def _plain(v: Any) -> Any:
    if isinstance(v, dict):
        if "arrayValue" in v:
            return [_plain(x) for x in v["arrayValue"].get("values", [])]
        if "kvlistValue" in v:
            return {kv["key"]: _plain(kv.get("value", {})) for kv in v["kvlistValue"].get("values", [])}
        for key in ("stringValue", "boolValue", "doubleValue"):
            if key in v:
                return v[key]
        if "intValue" in v:
            return int(v["intValue"])
    return v


def _trace_id(raw: bytes) -> str:
    high, low = int.from_bytes(raw[:8], "big"), int.from_bytes(raw[8:], "big")
    return f"{low:016x}" if high == 0 else f"{high:016x}{low:016x}"  # model.TraceID.String()


def _process(resource: Any) -> dict[str, Any]:
    """resourceToJaegerProtoProcess."""
    attrs = list(resource.attributes)
    if not attrs:
        return {"serviceName": "OTLPResourceNoServiceName", "tags": []}
    service = next((kv.value.string_value for kv in attrs if kv.key == "service.name"), "")
    return {"serviceName": service,
            "tags": [_tag(kv.key, kv.value) for kv in attrs if kv.key != "service.name"]}


def _span(span: Any, scope: Any) -> dict[str, Any]:
    """spanToJaegerProto, then from_domain's convertSpan."""
    tid = _trace_id(span.trace_id)
    refs = []
    if span.parent_span_id:
        refs.append({"refType": "CHILD_OF", "traceID": tid, "spanID": span.parent_span_id.hex()})
    for link in span.links:
        ref_type = next((kv.value.string_value for kv in link.attributes
                         if kv.key == "opentracing.ref_type"), "follows_from")
        ref = {"refType": "CHILD_OF" if ref_type == "child_of" else "FOLLOWS_FROM",
               "traceID": _trace_id(link.trace_id), "spanID": link.span_id.hex()}
        if refs and span.parent_span_id and link.trace_id == span.trace_id \
                and link.span_id == span.parent_span_id:
            refs[0]["refType"] = ref["refType"]
            continue
        refs.append(ref)
    tags = []
    if scope.name:
        tags.append({"key": "otel.scope.name", "type": "string", "value": scope.name})
    if scope.version:
        tags.append({"key": "otel.scope.version", "type": "string", "value": scope.version})
    tags += [_tag(kv.key, kv.value) for kv in span.attributes]
    if span.kind in _KINDS:
        tags.append({"key": "span.kind", "type": "string", "value": _KINDS[span.kind]})
    if span.status.code == 1:
        tags.append({"key": "otel.status_code", "type": "string", "value": "OK"})
    elif span.status.code == 2:
        tags.append({"key": "otel.status_code", "type": "string", "value": "ERROR"})
        tags.append({"key": "error", "type": "bool", "value": True})
    if span.status.message:
        tags.append({"key": "otel.status_description", "type": "string",
                     "value": span.status.message})
    if span.trace_state:
        tags.append({"key": "w3c.tracestate", "type": "string", "value": span.trace_state})
    logs = []
    for ev in span.events:
        fields = []
        if ev.name and not any(kv.key == "event" for kv in ev.attributes):
            fields.append({"key": "event", "type": "string", "value": ev.name})
        fields += [_tag(kv.key, kv.value) for kv in ev.attributes]
        logs.append({"timestamp": ev.time_unix_nano // 1000, "fields": fields})
    start = span.start_time_unix_nano
    return {
        "traceID": tid,
        "spanID": span.span_id.hex(),
        "operationName": span.name,
        "references": refs,
        "startTime": start // 1000,
        "duration": (span.end_time_unix_nano - start) // 1000,
        "tags": tags,
        "logs": logs,
    }


def jaeger_response(request: Any) -> dict[str, Any]:
    """The query API's answer (`GET /api/traces?...`) holding every trace of the request."""
    traces: dict[str, dict[str, Any]] = {}
    for rs in request.resource_spans:
        process = _process(rs.resource)
        for ss in rs.scope_spans:
            for span in ss.spans:
                js = _span(span, ss.scope)
                trace = traces.setdefault(js["traceID"], {"spans": [], "processes": []})
                if process not in trace["processes"]:  # processHashtable: p1, p2... by first use
                    trace["processes"].append(process)
                js["processID"] = f"p{trace['processes'].index(process) + 1}"
                js["warnings"] = None
                trace["spans"].append(js)
    data = [{"traceID": tid, "spans": t["spans"],
             "processes": {f"p{i}": p for i, p in enumerate(t["processes"], 1)},
             "warnings": None}
            for tid, t in traces.items()]
    return {"data": data, "total": 0, "limit": 0, "offset": 0, "errors": None}
