"""Test data made the way real producers make it.

`build_request()` records spans with the real OpenTelemetry Python SDK (TracerProvider +
InMemorySpanExporter, explicit start/end times) and encodes them with the OTLP exporter's
own encoder (`encode_spans`) into an ExportTraceServiceRequest. The writers below turn that
one request into every file flavour the loader must read: OTLP/JSON as the spec writes it,
the flavours protobuf's `json_format` writes, JSON Lines, the Collector file exporter's
length-prefixed proto stream (plain and zstd per message), and gzip/zstd of a whole file.

`span_json()`/`doc_json()` build small hand-made OTLP/JSON documents for the cases no SDK
writes (bad ids, null fields, duplicate spans...).

`snapshot()` reduces a loaded SpanIndex to plain, order-independent values so that two loads
of the same data in different formats can be compared with `==`.
"""

from __future__ import annotations

import base64
import copy
import gzip
import json
import random
import struct
from typing import Any

import zstandard
from google.protobuf.json_format import MessageToDict, MessageToJson
from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import SpanLimits, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.sdk.trace.id_generator import IdGenerator
from opentelemetry.trace import Link, SpanKind, Status, StatusCode

BASE_NS = 1_767_225_600_000_000_000  # 2026-01-01T00:00:00Z


def ms(t: float) -> int:
    """`t` milliseconds after BASE_NS, in ns."""
    return BASE_NS + round(t * 1_000_000)


class SeededIds(IdGenerator):
    """Deterministic ids; one instance shared by every provider so that ids never collide."""

    def __init__(self, seed: int = 7) -> None:
        self._rng = random.Random(seed)

    def generate_span_id(self) -> int:
        return self._rng.getrandbits(64) or 1

    def generate_trace_id(self) -> int:
        return self._rng.getrandbits(128) or 1


# A span of the scenario a test wants to find again: (service, name) is unique in it.
SERVICES = ("frontend", "checkout", "payments-worker", "email-worker")

# Facts about the scenario, written down by hand (not computed by the code under test).
EXPECTED_SPANS = 17
EXPECTED_TRACES = 4
# The span outside the data that email-worker's consumer links to (never loaded).
MISSING_TRACE_ID = bytes.fromhex("deadbeefdeadbeefdeadbeefdeadbeef")
MISSING_SPAN_ID = bytes.fromhex("0123456789abcdef")


class CardDeclined(Exception):
    pass


CardDeclined.__module__ = "payments.gateway"


def build_spans() -> list[Any]:
    """Four traces across four services, recorded with the real SDK.

    trace 1 (frontend): GET /checkout SERVER (new http semconv, status OK)
        ├ render cart INTERNAL (no attributes)
        └ POST /orders CLIENT (old http semconv)
            └ checkout: POST /orders SERVER (new http semconv)
                ├ SELECT orders CLIENT (old db semconv: db.system + db.statement)
                ├ orders publish PRODUCER (messaging.system kafka)           <- P1
                └ validate order INTERNAL (int/float/bool/list attributes, an event)
    trace 2 (frontend): GET /checkout SERVER
        └ checkout: orders publish PRODUCER                                  <- P2
    trace 3 (payments-worker): orders process CONSUMER, links P1 and P2 (link attributes)
        ├ orders receive CLIENT (messaging.system: a receive span)
        ├ decode batch INTERNAL
        ├ charge card CLIENT (new http semconv, ERROR "card declined", exception event)
        ├ INSERT payments CLIENT (new db semconv: db.system.name + db.query.text)
        └ email publish PRODUCER                                             <- P3
    trace 4 (email-worker): email process CONSUMER, links P3 and a span never loaded
        └ render email INTERNAL, links its own trace's root (a link inside one trace)
    """
    exporter = InMemorySpanExporter()
    ids = SeededIds()
    limits = SpanLimits(max_attributes=128, max_events=128, max_links=128)
    providers = []

    def tracer(service: str, scope: str, version: str = "") -> Any:
        provider = TracerProvider(
            resource=Resource({"service.name": service, "deployment.environment": "test",
                               "host.name": f"{service}-1"}),
            id_generator=ids, span_limits=limits, shutdown_on_exit=False,
        )
        provider.add_span_processor(SimpleSpanProcessor(exporter))
        providers.append(provider)
        return provider.get_tracer(scope, version or None)

    fe = tracer("frontend", "opentelemetry.instrumentation.fastapi", "0.56b0")
    co = tracer("checkout", "checkout.app", "1.8.3")
    pay = tracer("payments-worker", "payments.worker", "3.2.1")
    mail = tracer("email-worker", "email.worker")

    def start(tr: Any, name: str, t: float, kind: SpanKind = SpanKind.INTERNAL,
              parent: Any = None, **kw: Any) -> Any:
        ctx = Context() if parent is None else trace.set_span_in_context(parent)
        return tr.start_span(name, context=ctx, kind=kind, start_time=ms(t), **kw)

    # -- trace 1
    root1 = start(fe, "GET /checkout", 0, SpanKind.SERVER, attributes={
        "http.request.method": "GET", "url.path": "/checkout", "http.response.status_code": 200})
    render = start(fe, "render cart", 1, parent=root1)
    render.end(end_time=ms(2))
    post = start(fe, "POST /orders", 5, SpanKind.CLIENT, parent=root1,
                 attributes={"http.method": "POST", "http.url": "http://checkout/orders"})
    co_server = start(co, "POST /orders", 6, SpanKind.SERVER, parent=post,
                      attributes={"http.request.method": "POST", "http.route": "/orders"})
    select = start(co, "SELECT orders", 7, SpanKind.CLIENT, parent=co_server, attributes={
        "db.system": "postgresql", "db.statement": "SELECT * FROM orders WHERE id = $1"})
    select.end(end_time=ms(9))
    p1 = start(co, "orders publish", 10, SpanKind.PRODUCER, parent=co_server, attributes={
        "messaging.system": "kafka", "messaging.destination.name": "orders",
        "messaging.kafka.message.offset": 41})
    p1.end(end_time=ms(11))
    validate = start(co, "validate order", 12, parent=co_server, attributes={
        "order.items": 3, "order.total": 99.5, "order.gift": True,
        "order.skus": ("A-1", "B-2"), "order.quantities": (1, 2)})
    validate.add_event("rules checked", {"rules": 12, "passed": True}, timestamp=ms(12.5))
    validate.end(end_time=ms(13))
    co_server.end(end_time=ms(39))
    post.end(end_time=ms(40))
    root1.set_status(Status(StatusCode.OK))
    root1.end(end_time=ms(50))

    # -- trace 2
    root2 = start(fe, "GET /checkout", 100, SpanKind.SERVER, attributes={"http.method": "GET"})
    p2 = start(co, "orders publish", 110, SpanKind.PRODUCER, parent=root2, attributes={
        "messaging.system": "kafka", "messaging.destination.name": "orders",
        "messaging.kafka.message.offset": 42})
    p2.end(end_time=ms(112))
    root2.end(end_time=ms(150))

    # -- trace 3: the consumer links back to both producers
    consumer = start(pay, "orders process", 200, SpanKind.CONSUMER, attributes={
        "messaging.system": "kafka", "messaging.batch.message_count": 2},
        links=[
            Link(p1.get_span_context(), {"messaging.message.id": "m-41", "batch.index": 0}),
            Link(p2.get_span_context(), {"messaging.message.id": "m-42", "batch.index": 1}),
        ])
    receive = start(pay, "orders receive", 201, SpanKind.CLIENT, parent=consumer,
                    attributes={"messaging.system": "kafka", "messaging.operation.type": "receive"})
    receive.end(end_time=ms(202))
    decode = start(pay, "decode batch", 203, parent=consumer)
    decode.end(end_time=ms(204))
    charge = start(pay, "charge card", 205, SpanKind.CLIENT, parent=consumer, attributes={
        "http.request.method": "POST", "url.full": "https://gateway.example/charge",
        "http.response.status_code": 402})
    charge.record_exception(CardDeclined("card declined"), {"payment.attempt": 1},
                            timestamp=ms(249))
    charge.set_status(Status(StatusCode.ERROR, "card declined"))
    charge.end(end_time=ms(250))
    insert = start(pay, "INSERT payments", 251, SpanKind.CLIENT, parent=consumer, attributes={
        "db.system.name": "postgresql", "db.query.text": "INSERT INTO payments VALUES ($1)"})
    insert.end(end_time=ms(255))
    p3 = start(pay, "email publish", 260, SpanKind.PRODUCER, parent=consumer,
               attributes={"messaging.system": "rabbitmq"})
    p3.end(end_time=ms(261))
    consumer.end(end_time=ms(300))

    # -- trace 4: one link resolves, one points outside the data; a link inside the trace
    missing = trace.SpanContext(int.from_bytes(MISSING_TRACE_ID, "big"),
                                int.from_bytes(MISSING_SPAN_ID, "big"), is_remote=True,
                                trace_flags=trace.TraceFlags(1))
    consumer2 = start(mail, "email process", 400, SpanKind.CONSUMER, links=[
        Link(p3.get_span_context(), {"messaging.message.id": "e-1"}),
        Link(missing, {"note": "never exported"}),
    ])
    render_mail = start(mail, "render email", 401, parent=consumer2,
                        links=[Link(consumer2.get_span_context(), {"why": "same trace"})])
    render_mail.end(end_time=ms(402))
    consumer2.end(end_time=ms(420))

    spans = list(exporter.get_finished_spans())
    for p in providers:
        p.shutdown()
    assert len(spans) == EXPECTED_SPANS
    return spans


def build_request() -> ExportTraceServiceRequest:
    """The scenario as the OTLP exporter would send it."""
    return encode_spans(build_spans())


def split_request(req: ExportTraceServiceRequest) -> list[ExportTraceServiceRequest]:
    """One request per ResourceSpans: what a Collector file exporter writes over time."""
    return [ExportTraceServiceRequest(resource_spans=[rs]) for rs in req.resource_spans]


# -- writers -------------------------------------------------------------------------------

ID_KEYS = ("traceId", "spanId", "parentSpanId", "trace_id", "span_id", "parent_span_id")


def _map_ids(doc: dict[str, Any], fn: Any) -> dict[str, Any]:
    """Apply `fn` to every id string of spans and links (both key spellings)."""
    for rs in doc.get("resourceSpans", doc.get("resource_spans", [])):
        for ss in rs.get("scopeSpans", rs.get("scope_spans", [])):
            for sp in ss.get("spans", []):
                for key in ID_KEYS:
                    if key in sp:
                        sp[key] = fn(sp[key])
                for lk in sp.get("links", []):
                    for key in ID_KEYS:
                        if key in lk:
                            lk[key] = fn(lk[key])
    return doc


def b64_to_hex(text: str) -> str:
    return base64.b64decode(text).hex()


def otlp_json(req: ExportTraceServiceRequest, enums_as_ints: bool = True) -> dict[str, Any]:
    """OTLP/JSON as the spec defines it: camelCase, int64 as strings, hex ids."""
    doc = MessageToDict(req, use_integers_for_enums=enums_as_ints)
    return _map_ids(doc, b64_to_hex)


def to_protobuf(req: ExportTraceServiceRequest) -> bytes:
    return req.SerializeToString()


def to_otlp_json(req: ExportTraceServiceRequest, **kw: Any) -> bytes:
    return json.dumps(otlp_json(req, **kw)).encode()


def to_json_format_default(req: ExportTraceServiceRequest) -> bytes:
    """`MessageToJson` with its defaults: base64 ids, enum names, indent 2."""
    return MessageToJson(req).encode()


def to_snake_case(req: ExportTraceServiceRequest) -> bytes:
    """`MessageToJson(preserving_proto_field_name=True)`: snake_case keys, base64 ids."""
    return MessageToJson(req, preserving_proto_field_name=True, use_integers_for_enums=True,
                         indent=None).encode()


def to_json_lines(req: ExportTraceServiceRequest) -> bytes:
    """JSON Lines, one request per line, as the Collector file exporter writes them."""
    return b"".join(json.dumps(otlp_json(r)).encode() + b"\n" for r in split_request(req))


def to_proto_stream(req: ExportTraceServiceRequest, zstd: bool = False) -> bytes:
    """Collector file exporter `format: proto`: [u32 BE length][message]...; with `zstd`,
    each message is a zstd frame (`compression: zstd`)."""
    out = bytearray()
    cctx = zstandard.ZstdCompressor(write_checksum=True)
    for r in split_request(req):
        body = r.SerializeToString()
        if zstd:
            body = cctx.compress(body)
        out += struct.pack(">I", len(body)) + body
    return bytes(out)


def gzipped(data: bytes) -> bytes:
    return gzip.compress(data, mtime=0)


def zstded(data: bytes) -> bytes:
    return zstandard.ZstdCompressor(write_checksum=True).compress(data)


# Every flavour of the same request: name -> (file name, writer). File names are neutral on
# purpose for some: the loader must tell the format from the content.
FLAVOURS: dict[str, tuple[str, Any]] = {
    "protobuf": ("request.binpb", to_protobuf),
    "otlp-json": ("request.json", to_otlp_json),
    "json-format-base64": ("request.json", to_json_format_default),
    "snake-case": ("request.json", to_snake_case),
    "json-lines": ("traces.jsonl", to_json_lines),
    "proto-stream": ("traces.binpb", to_proto_stream),
    "proto-stream-zstd": ("traces.bin", lambda r: to_proto_stream(r, zstd=True)),
    "json-gz": ("request.json.gz", lambda r: gzipped(to_otlp_json(r))),
    "json-zst": ("request.json.zst", lambda r: zstded(to_otlp_json(r))),
    "jsonl-zst": ("traces.jsonl.zst", lambda r: zstded(to_json_lines(r))),
    "protobuf-gz": ("request.binpb.gz", lambda r: gzipped(to_protobuf(r))),
    "proto-stream-zst": ("traces.binpb.zst", lambda r: zstded(to_proto_stream(r))),
}


# -- hand-made OTLP/JSON -------------------------------------------------------------------

TRACE_A = "0af7651916cd43dd8448eb211c80319c"
TRACE_B = "4bf92f3577b34da6a3ce929d0e0e4736"
TRACE_C = "c0ffee00c0ffee00c0ffee00c0ffee00"


def sid(n: int) -> str:
    """A valid hex span id, easy to read back: sid(1) == '00000000000000a1'."""
    return f"{0xA0 + n:016x}"


def span_json(span_id: str, name: str = "op", trace_id: str = TRACE_A, parent: str = "",
              kind: Any = 2, start: Any = 1_000, end: Any = 2_000,
              **extra: Any) -> dict[str, Any]:
    """One OTLP/JSON span; times are ns (int64 as strings, as the spec writes them)."""
    d = {"traceId": trace_id, "spanId": span_id, "parentSpanId": parent, "name": name,
         "kind": kind,
         "startTimeUnixNano": str(start) if isinstance(start, int) else start,
         "endTimeUnixNano": str(end) if isinstance(end, int) else end}
    d.update(extra)
    return d


def attrs_json(**values: Any) -> list[dict[str, Any]]:
    """An OTLP/JSON KeyValue list; keys with dots are written with `__` for `.`."""
    out = []
    for key, v in values.items():
        key = key.replace("__", ".")
        if isinstance(v, bool):
            value = {"boolValue": v}
        elif isinstance(v, int):
            value = {"intValue": str(v)}
        elif isinstance(v, float):
            value = {"doubleValue": v}
        else:
            value = {"stringValue": str(v)}
        out.append({"key": key, "value": value})
    return out


def link_json(trace_id: str, span_id: str, **attributes: Any) -> dict[str, Any]:
    d: dict[str, Any] = {"traceId": trace_id, "spanId": span_id}
    if attributes:
        d["attributes"] = attrs_json(**attributes)
    return d


def doc_json(*spans: dict[str, Any], service: str | None = "svc") -> dict[str, Any]:
    """One ExportTraceServiceRequest holding `spans` under one resource and scope."""
    resource = {"attributes": attrs_json(service__name=service)} if service else {}
    return {"resourceSpans": [{"resource": resource,
                               "scopeSpans": [{"scope": {"name": "test"},
                                               "spans": list(spans)}]}]}


def resources_json(*groups: tuple[str, list[dict[str, Any]]]) -> dict[str, Any]:
    """A document with one ResourceSpans per (service, spans) group."""
    return {"resourceSpans": [
        doc_json(*spans, service=service)["resourceSpans"][0] for service, spans in groups]}


# -- comparing loads -----------------------------------------------------------------------

def _freeze(value: Any) -> Any:
    if isinstance(value, dict):
        return tuple(sorted((k, _freeze(v)) for k, v in value.items()))
    if isinstance(value, list | tuple):
        return tuple(_freeze(v) for v in value)
    return value


def span_key(index: Any, row: int) -> tuple[str, str]:
    return index.trace_id_of(row).hex(), index.span_id[row].hex()


def snapshot(index: Any, details: bool = True) -> list[tuple[Any, ...]]:
    """Everything a user can see of each span, as sorted plain tuples (no row numbers)."""
    out = []
    for row in range(len(index)):
        parent = index.parent[row]
        links = tuple(
            (t.hex(), s.hex(), None if r is None else span_key(index, r))
            for t, s, r in index.links_of(row)
        )
        linked_from = tuple(sorted(span_key(index, r) for r in index.linked_from(row)))
        item: tuple[Any, ...] = (
            *span_key(index, row),
            index.parent_id[row].hex(),
            None if parent < 0 else span_key(index, parent),
            index.name[row], index.kind[row], index.status[row],
            index.start[row], index.end[row],
            index.service(row), _freeze(index.resource(row).attributes),
            index.scope(row).name, index.scope(row).version,
            links, linked_from,
        )
        if details:
            d = index.detail(row)
            item += (
                _freeze(d.attributes),
                tuple((e.name, e.time_ns, _freeze(e.attributes)) for e in d.events),
                tuple((lk.trace_id.hex(), lk.span_id.hex(), _freeze(lk.attributes))
                      for lk in d.links),
                d.status_message,
                index.shape(row),
            )
        out.append(item)
    out.sort(key=repr)
    return out


def trace_table(index: Any) -> list[tuple[Any, ...]]:
    """The Traces table as plain tuples: (trace id, root key, start, end, spans, errors,
    links in, links out), sorted."""
    return sorted(
        (s.trace_id.hex(), span_key(index, s.root) if s.root >= 0 else None, s.start, s.end,
         s.spans, s.errors, s.links_in, s.links_out)
        for s in index.traces
    )


def rewrite(doc: dict[str, Any], fn: Any) -> dict[str, Any]:
    """A deep copy of `doc` with `fn(span)` applied to every span dict."""
    doc = copy.deepcopy(doc)
    for rs in doc.get("resourceSpans", []):
        for ss in rs.get("scopeSpans", []):
            for sp in ss.get("spans", []):
                fn(sp)
    return doc
