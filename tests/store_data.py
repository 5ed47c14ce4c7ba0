"""Two hours of traffic for the store tests, recorded with the real OpenTelemetry SDK.

Every 30 s a checkout (frontend GET /checkout SERVER -> checkout POST /orders SERVER ->
orders publish PRODUCER); every 6th checkout is followed by a batch consumer
(payments-worker `orders process` CONSUMER linking the producers of the 3 checkouts before
it, `charge card` CLIENT failing every other time, `email publish` PRODUCER, and under it
email-worker's `email process` CONSUMER child: an async pair through the parent). Eight
nightly jobs run 20 minutes each (a root and children at its start, middle and end), so
their spans straddle any slice of the window; two spans lost their parent (an orphan
beside a root, and a trace with no root at all).

`write_store(path)` writes the OTLP/JSON file and exports it into chDB at `path` with
`trace-tui export` (the exporter's DDL and column mapping).
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import Link, SpanKind, Status, StatusCode
from sdk_data import BASE_NS, SeededIds, to_otlp_json

MINUTE = 60 * 10**9
CHECKOUTS = 240
WINDOW = ["--since", "2020-01-01T00:00:00Z", "--until", "2035-01-01T00:00:00Z"]


def build_traffic() -> list[Any]:
    exporter = InMemorySpanExporter()
    ids = SeededIds(seed=13)
    providers = []
    rnd = random.Random(5)

    def tracer(service: str) -> Any:
        provider = TracerProvider(resource=Resource({"service.name": service,
                                                     "deployment.environment": "store-test"}),
                                  id_generator=ids, shutdown_on_exit=False)
        provider.add_span_processor(SimpleSpanProcessor(exporter))
        providers.append(provider)
        return provider.get_tracer(f"{service}.app")

    fe, co, pay, mail, jobs = (tracer(s) for s in (
        "frontend", "checkout", "payments-worker", "email-worker", "reports"))

    def span(tr: Any, name: str, start: int, end: int, kind: SpanKind = SpanKind.INTERNAL,
             parent: Any = None, links: list[Link] | None = None, error: bool = False,
             **attrs: Any) -> Any:
        ctx = Context() if parent is None else trace.set_span_in_context(parent)
        s = tr.start_span(name, context=ctx, kind=kind, start_time=start, links=links,
                          attributes=attrs or None)
        if error:
            s.set_status(Status(StatusCode.ERROR, "declined"))
        s.end(end_time=end)
        return s

    producers = []
    for i in range(CHECKOUTS):
        t = BASE_NS + i * 30 * 10**9 + rnd.randrange(10**9)
        dur = rnd.randrange(40, 400) * 10**6
        root = span(fe, "GET /checkout", t, t + dur, SpanKind.SERVER, **{"http.method": "GET"})
        server = span(co, "POST /orders", t + 2 * 10**6, t + dur - 10**6, SpanKind.SERVER,
                      parent=root, **{"http.request.method": "POST"})
        producers.append(span(co, "orders publish", t + 5 * 10**6, t + 7 * 10**6,
                              SpanKind.PRODUCER, parent=server, **{"messaging.system": "kafka"}))
        if i % 6 == 5:
            c = t + dur + rnd.randrange(1, 20) * 10**9
            batch = [Link(p.get_span_context(), {"batch.index": k})
                     for k, p in enumerate(producers[-3:])]
            consumer = span(pay, "orders process", c, c + 300 * 10**6, SpanKind.CONSUMER,
                            links=batch, **{"messaging.system": "kafka"})
            span(pay, "charge card", c + 10**7, c + 2 * 10**8, SpanKind.CLIENT, parent=consumer,
                 error=i % 12 == 5, **{"http.request.method": "POST"})
            publish = span(pay, "email publish", c + 2 * 10**8, c + 21 * 10**7,
                           SpanKind.PRODUCER, parent=consumer, **{"messaging.system": "rabbitmq"})
            span(mail, "email process", c + 2 * 10**9, c + 25 * 10**8, SpanKind.CONSUMER,
                 parent=publish, **{"messaging.system": "rabbitmq"})
    for j in range(8):
        t = BASE_NS + (5 + j * 14) * MINUTE
        job = span(jobs, "nightly report", t, t + 20 * MINUTE, SpanKind.SERVER)
        for at in (0, 10, 19):
            span(jobs, "render page", t + at * MINUTE, t + (at + 1) * MINUTE - 1, parent=job)
        if j == 3:  # its only link: to a checkout's producer, an hour apart
            span(jobs, "archive orders", t + 15 * MINUTE, t + 16 * MINUTE, parent=job,
                 links=[Link(producers[2].get_span_context())])
    lost = trace.NonRecordingSpan(trace.SpanContext(
        0x5EED0000000000000000000000000001, 0x00000000DEADBEEF, is_remote=True,
        trace_flags=trace.TraceFlags(trace.TraceFlags.SAMPLED)))
    span(jobs, "orphan step", BASE_NS + 61 * MINUTE, BASE_NS + 62 * MINUTE, parent=lost)
    spans = list(exporter.get_finished_spans())
    for p in providers:
        p.shutdown()
    return spans


def write_store(directory: Path) -> tuple[str, str]:
    """(OTLP/JSON file, chDB directory) holding the same spans."""
    from async_trace_tui.cli import main

    f = directory / "traffic.json"
    f.write_bytes(to_otlp_json(encode_spans(build_traffic())))
    db = directory / "db"
    assert main(["export", str(f), "--to", f"chdb:{db}"]) == 0
    return str(f), str(db)


def minutes(n: float) -> int:
    return BASE_NS + int(n * MINUTE)


def rfc3339(ns: int) -> str:
    from async_trace_tui.sources.window import format_ns

    assert ns % 10**9 == 0
    return format_ns(ns)


def window_rows(index: Any, lo: int, hi: int) -> list[dict[str, Any]]:
    """The Traces table's rows over the spans of `index` starting in [lo, hi], worked out
    here span by span (SPEC §5 fields; the root is the earliest span without a parent id,
    else the earliest span; links_in counts links from those spans that name one of them)."""
    keep = [r for r in range(len(index)) if lo <= index.start[r] <= hi]
    there = {(index.trace_id_of(r), index.span_id[r]) for r in keep}
    by_trace: dict[bytes, list[int]] = {}
    for r in keep:
        by_trace.setdefault(index.trace_id_of(r), []).append(r)
    links_in: dict[bytes, int] = {}
    came_from: dict[bytes, set[bytes]] = {}
    went_to: dict[bytes, set[bytes]] = {}
    for r in keep:
        own = index.trace_id_of(r)
        for lk in index.detail(r).links:
            if (lk.trace_id, lk.span_id) in there:
                links_in[lk.trace_id] = links_in.get(lk.trace_id, 0) + 1
            if lk.trace_id != own:
                came_from.setdefault(own, set()).add(lk.trace_id)
                if lk.trace_id in by_trace:
                    went_to.setdefault(lk.trace_id, set()).add(own)
    out = []
    for tid, rows in by_trace.items():
        root = min(rows, key=lambda r: (bool(index.parent_id[r]), index.start[r]))
        start = min(index.start[r] for r in rows)
        out.append({"trace_id": tid.hex(), "root_service": index.service(root),
                    "root_operation": index.name[root], "start_ns": start,
                    "duration_ns": max(index.end[r] for r in rows) - start, "spans": len(rows),
                    "errors": sum(index.is_error(r) for r in rows),
                    "links_in": links_in.get(tid, 0),
                    "links_out": sum(len(index.detail(r).links) for r in rows),
                    "async_from": len(came_from.get(tid, ())),
                    "async_to": len(went_to.get(tid, ()))})
    return out
