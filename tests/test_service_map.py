"""The async service map (SPEC §9): `views.service_map` and `trace-tui --map [--json] [--by]`.

Expected maps are worked out by hand from how the data was recorded (sample_data/generate.py,
the SDK scenario below), or from the corpus README's facts; a plain per-span reference
implementation of the rules checks the column code on the real otel-demo capture.
"""

from __future__ import annotations

import json
import math
from collections import defaultdict
from fractions import Fraction
from typing import Any

import pytest
import sdk_data
from conftest import CORPUS
from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import Link, SpanKind, Status, StatusCode

from async_trace_tui.cli import main
from async_trace_tui.loading import default_sample, load
from async_trace_tui.model import KIND_CONSUMER, STATUS_ERROR
from async_trace_tui.views.map_layout import draw_map
from async_trace_tui.views.render_map import map_lines
from async_trace_tui.views.service_map import ServiceMap, build_map, layers, percentile

MS = 1_000_000
OTEL_DEMO = CORPUS / "otel-tui" / "test_data.json"


def edges_by_key(service_map) -> dict[tuple[str, str, str], dict[str, Any]]:
    return {(e["from"], e["to"], e["kind"]): e for e in service_map.as_json()["edges"]}


# -- the bundled sample, by hand ------------------------------------------------------------

@pytest.fixture(scope="module")
def sample_map():
    index, _ = load([str(default_sample())])
    return build_map(index)


def test_sample_map_worked_out_by_hand(sample_map):
    """From sample_data/generate.py: five front-end requests each POST /orders to checkout
    (sync); each publishes to Kafka, the payments-worker batch consumer links to all five
    (async) and inventory consumes the first as a CONSUMER child (async); payments-worker's
    `email publish` is linked from email-worker's consumer, whose second link is to a span
    never captured."""
    got = sample_map.as_json()
    assert got["services"] == [
        # 4 spans per request (POST /orders, SELECT, INSERT, publish) x 5
        {"name": "checkout", "spans": 20, "errors": 0, "traces": 5, "unresolved_links": 0},
        {"name": "email-worker", "spans": 3, "errors": 0, "traces": 1, "unresolved_links": 1},
        # GET /checkout, render cart, POST /orders x 5, plus the timed-out recommendations
        {"name": "frontend", "spans": 16, "errors": 1, "traces": 5, "unresolved_links": 0},
        {"name": "inventory", "spans": 3, "errors": 0, "traces": 1, "unresolved_links": 0},
        # the batch, decode, charge card (503: ERROR), backoff, retry, UPDATE, email publish
        {"name": "payments-worker", "spans": 7, "errors": 1, "traces": 1, "unresolved_links": 0},
    ]
    # checkout's SERVER spans last (post end - 1.1) - (post start + 1.3) ms: 105.0, 134.7,
    # 84.7, 285.3, 79.9. The batch starts 1240 ms after the last publish ends (5149.5 ms):
    # lags 6329.3, 4908.8, 3466.9, 2452.4, 1240.0 ms; the batch lasts 634.2 ms.
    assert got["edges"] == [
        {"from": "checkout", "to": "inventory", "kind": "async", "count": 1, "errors": 0,
         "duration_p50_ns": 19 * MS, "duration_p95_ns": 19 * MS,
         "lag_p50_ns": 38_600_000, "lag_p95_ns": 38_600_000},
        {"from": "checkout", "to": "payments-worker", "kind": "async", "count": 5, "errors": 0,
         "duration_p50_ns": 634_200_000, "duration_p95_ns": 634_200_000,
         "lag_p50_ns": 3_466_900_000, "lag_p95_ns": 6_329_300_000},
        {"from": "frontend", "to": "checkout", "kind": "sync", "count": 5, "errors": 0,
         "duration_p50_ns": 105 * MS, "duration_p95_ns": 285_300_000,
         "lag_p50_ns": None, "lag_p95_ns": None},
        {"from": "payments-worker", "to": "email-worker", "kind": "async", "count": 1,
         "errors": 0, "duration_p50_ns": 242_300_000, "duration_p95_ns": 242_300_000,
         "lag_p50_ns": 412_300_000, "lag_p95_ns": 412_300_000},
    ]
    # what a store computing the JSON elsewhere hands back reads the same
    again = ServiceMap.from_json(got, "service")
    assert again.as_json() == got and list(map_lines(again)) == list(map_lines(sample_map))
    assert layers(sample_map) == {"frontend": 0, "checkout": 1, "inventory": 2,
                                  "payments-worker": 2, "email-worker": 3}


def test_sample_map_pairs_slowest_lag_first(sample_map):
    edge = next(e for e in sample_map.edges if e.target == "payments-worker")
    pairs = sample_map.pairs(edge)
    assert [p.lag for p in pairs] == [6_329_300_000, 4_908_800_000, 3_466_900_000,
                                      2_452_400_000, 1_240_000_000]
    idx = sample_map.index
    assert {idx.name[p.cause] for p in pairs} == {"orders publish"}
    assert {idx.service(p.effect) for p in pairs} == {"payments-worker"}
    assert [p.lag for p in sample_map.pairs(edge, limit=2)] == [6_329_300_000, 4_908_800_000]
    sync = next(e for e in sample_map.edges if e.kind == "sync")
    assert [p.duration for p in sample_map.pairs(sync)][:2] == [
        285_300_000, 134_700_000]  # sync pairs: the slowest calls first
    assert all(p.lag is None and idx.parent[p.effect] == p.cause for p in sample_map.pairs(sync))


def test_cli_map_text_and_json(capsys):
    assert main(["--map"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0] == "service map by service: 5 services · 4 edges (1 sync →, 3 async ⇢)"
    text = out.split("\n\n")
    frontend = next(t for t in text if t.startswith("frontend"))
    assert "→  checkout" in frontend and "105.0 ms  285.3 ms" in frontend
    checkout = next(t for t in text if t.startswith("checkout"))
    lines = checkout.splitlines()
    # sorted by count: the 5 batch links before the 1 CONSUMER child
    assert "⇢  payments-worker" in lines[2] and "3.47 s    6.33 s" in lines[2]
    assert "⇢  inventory" in lines[3]
    assert "1 unresolved link" in next(t for t in text if t.startswith("email-worker"))
    assert next(t for t in text if t.startswith("inventory")).endswith("(no outgoing edges)")

    assert main(["--map", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert list(doc) == ["services", "edges"]
    assert list(doc["edges"][0]) == ["from", "to", "kind", "count", "errors", "duration_p50_ns",
                                     "duration_p95_ns", "lag_p50_ns", "lag_p95_ns"]
    assert len(doc["edges"]) == 4

    assert main(["--map", "--ascii"]) == 0
    out = capsys.readouterr().out
    assert out.isascii() and "-> checkout" in out and ".> payments-worker" in out


def test_cli_map_bad_grouping_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as e:
        main(["--map", "--by", "host"])
    assert e.value.code == 2
    assert "service or resource:KEY" in capsys.readouterr().err


# -- an SDK scenario: same-service async, missing links, resource grouping -----------------

@pytest.fixture(scope="module")
def queue_file(tmp_path_factory) -> str:
    """api (namespace shop): POST /jobs SERVER -> jobs publish PRODUCER -> jobs process
    CONSUMER (a child in api itself: a same-service async edge, 4 ms after the publish ends).
    worker (namespace batch): jobs batch CONSUMER in its own trace, ERROR, links to the
    publish (lag 50 ms) and to two spans never loaded; its CLIENT calls db (no namespace),
    whose SERVER span is the child."""
    exporter = InMemorySpanExporter()
    ids = sdk_data.SeededIds(11)
    providers = []

    def tracer(service: str, **res: Any) -> Any:
        p = TracerProvider(resource=Resource({"service.name": service, **res}),
                           id_generator=ids, shutdown_on_exit=False)
        p.add_span_processor(SimpleSpanProcessor(exporter))
        providers.append(p)
        return p.get_tracer("test")

    api = tracer("api", **{"k8s.namespace.name": "shop", "replicas": 3})
    worker = tracer("worker", **{"k8s.namespace.name": "batch", "replicas": 1})
    db = tracer("db")
    ms = sdk_data.ms

    def start(tr, name, t, kind, parent=None, **kw):
        ctx = Context() if parent is None else trace.set_span_in_context(parent)
        return tr.start_span(name, context=ctx, kind=kind, start_time=ms(t), **kw)

    root = start(api, "POST /jobs", 0, SpanKind.SERVER)
    publish = start(api, "jobs publish", 1, SpanKind.PRODUCER, root)
    publish.end(end_time=ms(2))
    process = start(api, "jobs process", 6, SpanKind.CONSUMER, publish)
    process.end(end_time=ms(9))
    root.end(end_time=ms(10))
    gone = [trace.SpanContext(0xABC0 + i, 0xDEF0 + i, is_remote=True,
                              trace_flags=trace.TraceFlags(1)) for i in range(2)]
    batch = start(worker, "jobs batch", 52, SpanKind.CONSUMER,
                  links=[Link(publish.get_span_context()), Link(gone[0]), Link(gone[1])])
    call = start(worker, "GET /rows", 53, SpanKind.CLIENT, batch)
    served = start(db, "GET /rows", 54, SpanKind.SERVER, call)
    served.set_status(Status(StatusCode.ERROR, "no rows"))
    served.end(end_time=ms(57))
    call.end(end_time=ms(58))
    batch.set_status(Status(StatusCode.ERROR, "failed"))
    batch.end(end_time=ms(60))
    spans = exporter.get_finished_spans()
    for p in providers:
        p.shutdown()
    path = tmp_path_factory.mktemp("map") / "queue.json"
    path.write_bytes(sdk_data.to_otlp_json(encode_spans(spans)))
    return str(path)


def test_same_service_async_edge_and_missing_links(queue_file):
    index, _ = load([queue_file])
    m = build_map(index)
    edges = edges_by_key(m)
    assert set(edges) == {("api", "api", "async"), ("api", "worker", "async"),
                          ("worker", "db", "sync")}
    same = edges[("api", "api", "async")]
    assert (same["count"], same["lag_p50_ns"], same["duration_p95_ns"]) == (1, 4 * MS, 3 * MS)
    linked = edges[("api", "worker", "async")]
    assert (linked["count"], linked["errors"], linked["lag_p95_ns"]) == (1, 1, 50 * MS)
    call = edges[("worker", "db", "sync")]
    assert (call["count"], call["errors"], call["lag_p50_ns"]) == (1, 1, None)
    services = {s["name"]: s for s in m.as_json()["services"]}
    assert services["worker"] == {"name": "worker", "spans": 2, "errors": 1, "traces": 1,
                                  "unresolved_links": 2}
    assert services["api"]["unresolved_links"] == 0


def test_map_by_resource_key(queue_file, capsys):
    index, _ = load([queue_file])
    m = build_map(index, "resource:k8s.namespace.name")
    assert [s.name for s in m.services] == ["(no k8s.namespace.name)", "batch", "shop"]
    assert set(edges_by_key(m)) == {("shop", "shop", "async"), ("shop", "batch", "async"),
                                    ("batch", "(no k8s.namespace.name)", "sync")}
    by_int = build_map(index, "resource:replicas")  # values that are not strings
    assert [s.name for s in by_int.services] == ["(no replicas)", "1", "3"]

    assert main([queue_file, "--map", "--json", "--by", "resource:k8s.namespace.name"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc == m.as_json()
    assert main([queue_file, "--map", "--by", "resource:k8s.namespace.name"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("service map by resource:k8s.namespace.name: 3 groups")
    assert "\nshop  3 spans" in out and "⇢  batch" in out


def test_untrusted_names_are_escaped(write, capsys):
    doc = sdk_data.resources_json(
        ("\x1b[31mevil[/]\u202e", [sdk_data.span_json(sdk_data.sid(1))]),
        ("callee", [sdk_data.span_json(sdk_data.sid(2), parent=sdk_data.sid(1))]),
    )
    path = write("evil.json", doc)
    assert main([path, "--map"]) == 0
    out = capsys.readouterr().out
    assert "\x1b" not in out and "\u202e" not in out
    assert "\\e[31mevil[/]\\u202e" in out
    assert main([path, "--map", "--json"]) == 0
    raw = capsys.readouterr().out
    assert "\x1b" not in raw and "\u202e" not in raw
    assert json.loads(raw)["edges"][0]["from"] == "\x1b[31mevil[/]\u202e"


def test_percentile_is_nearest_rank():
    values = list(range(1, 21))
    assert percentile(values, 50) == 10 and percentile(values, 95) == 19
    assert percentile([7], 95) == 7 and percentile([3, 9], 50) == 3
    assert percentile([1, 2, 3], 95) == 3 and percentile([], 50) is None


# -- the real otel-demo capture, against a plain reference ---------------------------------

def reference_map(index) -> dict[str, Any]:
    """SPEC §9 read literally, one span at a time (no columns, no tricks)."""
    pairs: dict[tuple[str, str, str], list[tuple[int, int]]] = defaultdict(list)
    unresolved: dict[str, int] = defaultdict(int)
    for row in range(len(index)):
        svc = index.service(row)
        p = index.parent[row]
        if p >= 0:
            if index.kind[row] == KIND_CONSUMER:
                pairs[(index.service(p), svc, "async")].append((p, row))
            elif index.service(p) != svc:
                pairs[(index.service(p), svc, "sync")].append((p, row))
        for _t, _s, target in index.links_of(row):
            if target is None:
                unresolved[svc] += 1
            else:
                pairs[(index.service(target), svc, "async")].append((target, row))

    def nearest(values: list[int], p: Fraction) -> int:
        return sorted(values)[math.ceil(p * len(values)) - 1]

    edges = []
    for (a, b, kind), got in sorted(pairs.items()):
        durations = [index.duration(e) for _, e in got]
        lags = [index.start[e] - index.end[c] for c, e in got]
        edges.append({
            "from": a, "to": b, "kind": kind, "count": len(got),
            "errors": sum(index.status[e] == STATUS_ERROR for _, e in got),
            "duration_p50_ns": nearest(durations, Fraction(1, 2)),
            "duration_p95_ns": nearest(durations, Fraction(95, 100)),
            "lag_p50_ns": nearest(lags, Fraction(1, 2)) if kind == "async" else None,
            "lag_p95_ns": nearest(lags, Fraction(95, 100)) if kind == "async" else None,
        })
    services = []
    for name in sorted({index.service(r) for r in range(len(index))}):
        rows = [r for r in range(len(index)) if index.service(r) == name]
        services.append({"name": name, "spans": len(rows),
                         "errors": sum(index.status[r] == STATUS_ERROR for r in rows),
                         "traces": len({index.trace[r] for r in rows}),
                         "unresolved_links": unresolved[name]})
    return {"services": services, "edges": edges}


def test_otel_demo_capture():
    index, _ = load([str(OTEL_DEMO)])
    m = build_map(index)
    got = m.as_json()
    assert got == reference_map(index)
    # The corpus README: 547 spans of 8 services; 53 links, every one resolvable.
    assert len(got["services"]) == 8
    assert sum(s["spans"] for s in got["services"]) == 547
    assert sum(s["unresolved_links"] for s in got["services"]) == 0
    edges = edges_by_key(m)
    # the demo's Next.js frontend links its own spans: a same-service async edge
    assert edges[("frontend", "frontend", "async")]["count"] == 53
    assert edges[("loadgenerator", "frontend-proxy", "sync")]["count"] == 75
    assert sum(e["kind"] == "async" for e in got["edges"]) == 1
    text = "\n".join(map_lines(m))
    assert "⇢  frontend" in text and "overlap" in text  # its links overlap their causes


def test_sdk_scenario_matches_reference(sdk_request, write):
    path = write("req.binpb", sdk_data.to_protobuf(sdk_request))
    index, _ = load([path])
    m = build_map(index)
    assert m.as_json() == reference_map(index)
    edges = edges_by_key(m)
    # tests/sdk_data.py: POST /orders and the second trace's publish are checkout spans under
    # frontend parents; the consumer links P1 and P2; render email links its own root.
    assert edges[("frontend", "checkout", "sync")]["count"] == 2
    assert edges[("checkout", "payments-worker", "async")]["count"] == 2
    assert edges[("email-worker", "email-worker", "async")]["count"] == 1
    assert m.service("email-worker").unresolved_links == 1



# -- the drawing ------------------------------------------------------------------------------

def test_sample_drawing(sample_map):
    """Columns by call depth; solid sync, dotted async labelled with the p95 lag; each edge
    on rows of its own at both ends."""
    assert draw_map(sample_map).plain() == [
        " ┌──────────┐        ┌──────────┐                      ┌───────────┐                           ┌──────────────┐",
        " │ frontend │─×5────▶│ checkout │┄×1 p95 38.6 ms┄┄┄┄┄┄▶│ inventory │                        ╭┄▶│ email-worker │",
        " └──────────┘        │          │┄×5 p95 6.33 s┄┄┄┄┄╮  └───────────┘                        ┆  └──────────────┘",
        "                     └──────────┘                   ┆                                       ┆",
        "                                                    ┆  ┌─────────────────┐                  ┆",
        "                                                    ╰┄▶│ payments-worker │┄×1 p95 412.3 ms┄┄╯",
        "                                                       └─────────────────┘",
        "",
    ]
    ascii_lines = draw_map(sample_map, ascii_only=True).plain()
    assert all(line.isascii() for line in ascii_lines)
    assert "+.>| email-worker |" in ascii_lines[1] and "|-x5---->|" in ascii_lines[1]


def test_drawing_routes_long_backward_and_self_edges(queue_file):
    """A same-service edge is a line in its box; an edge that skips a column or runs
    backwards goes round below the boxes, still ending in an arrow at its target."""
    index, _ = load([queue_file])
    m = build_map(index)
    lines = draw_map(m).plain()
    text = "\n".join(lines)
    assert "⇢ itself ×1 p95 4.0 ms" in text  # api's CONSUMER child of its own publish
    assert text.count("▶") == 2  # api ⇢ worker, worker → db
    doc = m.as_json()
    doc["edges"].append({"from": "db", "to": "api", "kind": "async", "count": 2, "errors": 0,
                         "duration_p50_ns": 1, "duration_p95_ns": 1, "lag_p50_ns": 5,
                         "lag_p95_ns": 5})
    looped = draw_map(ServiceMap.from_json(doc, "service")).plain()
    assert "\n".join(looped).count("▶") == 3
    assert len(looped) == len(lines) + 1  # one lane below the boxes for the way back
    assert "╰" in looped[-1] and "╯" in looped[-1]
