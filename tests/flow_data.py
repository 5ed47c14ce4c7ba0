"""Flows recorded with the real OpenTelemetry SDK for the flow tests (SPEC §8).

`Recorder` is a small front for TracerProviders that share one seeded id generator and one
in-memory exporter: `rec.span(service, name, start_ms, end_ms, parent=..., links=[...])`
records a finished span with explicit times; `rec.request()` encodes what was recorded
with the OTLP exporter's own encoder. `clone_traces()` copies an encoded request's traces
with fresh ids (big flows: the SDK records ~15,000 spans a second, too slow for 100,000).
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import Any

from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import Link, SpanKind, Status, StatusCode
from sdk_data import SeededIds, ms, split_request

KINDS = {"server": SpanKind.SERVER, "client": SpanKind.CLIENT, "internal": SpanKind.INTERNAL,
         "producer": SpanKind.PRODUCER, "consumer": SpanKind.CONSUMER}


class Recorder:
    def __init__(self, seed: int = 11) -> None:
        self.exporter = InMemorySpanExporter()
        self.ids = SeededIds(seed)
        self.providers: dict[str, TracerProvider] = {}

    def tracer(self, service: str) -> Any:
        provider = self.providers.get(service)
        if provider is None:
            provider = TracerProvider(resource=Resource({"service.name": service}),
                                      id_generator=self.ids, shutdown_on_exit=False)
            provider.add_span_processor(SimpleSpanProcessor(self.exporter))
            self.providers[service] = provider
        return provider.get_tracer("flow.tests")

    def open(self, service: str, name: str, start_ms: float, kind: str = "internal",
             parent: Any = None, links: Sequence[Any] = (), error: bool = False) -> Any:
        """A started span (end it with `close`); `links` are spans or SpanContexts."""
        ctx = Context() if parent is None else trace.set_span_in_context(parent)
        span = self.tracer(service).start_span(
            name, context=ctx, kind=KINDS[kind], start_time=ms(start_ms),
            links=[Link(_context(x)) for x in links])
        if error:
            span.set_status(Status(StatusCode.ERROR, "failed"))
        return span

    def span(self, service: str, name: str, start_ms: float, end_ms: float,
             kind: str = "internal", parent: Any = None, links: Sequence[Any] = (),
             error: bool = False) -> Any:
        span = self.open(service, name, start_ms, kind, parent, links, error)
        span.end(end_time=ms(end_ms))
        return span

    @staticmethod
    def close(span: Any, end_ms: float) -> Any:
        span.end(end_time=ms(end_ms))
        return span

    def request(self) -> ExportTraceServiceRequest:
        return encode_spans(self.exporter.get_finished_spans())

    def shutdown(self) -> None:
        for p in self.providers.values():
            p.shutdown()


def _context(x: Any) -> Any:
    return x.get_span_context() if hasattr(x, "get_span_context") else x


def ids(span: Any) -> tuple[str, str]:
    """(trace id, span id) of an SDK span, as hex."""
    c = span.get_span_context()
    return f"{c.trace_id:032x}", f"{c.span_id:016x}"


def by_trace(req: ExportTraceServiceRequest) -> list[ExportTraceServiceRequest]:
    """One request per trace (each resource and scope kept): a trace per file."""
    out: dict[bytes, ExportTraceServiceRequest] = {}
    for part in split_request(req):
        for rs in part.resource_spans:
            for ss in rs.scope_spans:
                for sp in ss.spans:
                    r = out.setdefault(sp.trace_id, ExportTraceServiceRequest())
                    target = _scope_in(r, rs, ss)
                    target.spans.add().CopyFrom(sp)
    return list(out.values())


def reversed_spans(req: ExportTraceServiceRequest) -> ExportTraceServiceRequest:
    """The same request with each scope's spans in reverse order: the same data as another
    exporter (or a store's fetch) might order it."""
    out = ExportTraceServiceRequest()
    out.CopyFrom(req)
    for rs in out.resource_spans:
        for ss in rs.scope_spans:
            ss.spans.reverse()
    return out


def _scope_in(req: ExportTraceServiceRequest, rs: Any, ss: Any) -> Any:
    for have in req.resource_spans:
        if have.resource == rs.resource:
            for scope in have.scope_spans:
                if scope.scope == ss.scope:
                    return scope
            new = have.scope_spans.add()
            new.scope.CopyFrom(ss.scope)
            return new
    new_rs = req.resource_spans.add()
    new_rs.resource.CopyFrom(rs.resource)
    new = new_rs.scope_spans.add()
    new.scope.CopyFrom(ss.scope)
    return new


def clone_chain(req: ExportTraceServiceRequest, copies: int, shift_ns: int, seed: int = 5
                ) -> ExportTraceServiceRequest:
    """`copies` copies of the request's spans, each with fresh trace and span ids and its
    times shifted by `shift_ns` more than the copy before. The request's links are taken as
    links to the copy before: copy k's span links to copy k-1's span that the template
    link names (the first copy's links are dropped), so the copies form one chain of async
    hops however long."""
    rnd = random.Random(seed)
    trace_of = {sp.span_id: sp.trace_id for rs in req.resource_spans
                for ss in rs.scope_spans for sp in ss.spans}
    out = ExportTraceServiceRequest()
    previous: dict[bytes, tuple[bytes, bytes]] = {}
    for k in range(copies):
        trace_ids = {t: rnd.randbytes(16) for t in dict.fromkeys(trace_of.values())}
        span_ids = {s: rnd.randbytes(8) for s in trace_of}
        shift = k * shift_ns
        for rs in req.resource_spans:
            new_rs = out.resource_spans.add()
            new_rs.resource.CopyFrom(rs.resource)
            for ss in rs.scope_spans:
                new_ss = new_rs.scope_spans.add()
                new_ss.scope.CopyFrom(ss.scope)
                for sp in ss.spans:
                    n = new_ss.spans.add()
                    n.CopyFrom(sp)
                    n.trace_id = trace_ids[sp.trace_id]
                    n.span_id = span_ids[sp.span_id]
                    if sp.parent_span_id:
                        n.parent_span_id = span_ids[sp.parent_span_id]
                    n.start_time_unix_nano = sp.start_time_unix_nano + shift
                    n.end_time_unix_nano = sp.end_time_unix_nano + shift
                    del n.links[:]
                    for link in sp.links if k else ():
                        nl = n.links.add()
                        nl.CopyFrom(link)
                        nl.trace_id, nl.span_id = previous[link.span_id]
        previous = {old: (trace_ids[trace_of[old]], new) for old, new in span_ids.items()}
    return out
