"""The dependencies view model (SPEC §3) on SDK-written data: the bundled sample was recorded
with the real OpenTelemetry SDK by sample_data/generate.py (five front-end checkouts publish
to Kafka; one batch consumer links to all five producers; it publishes to a second worker
whose consumer also links to a span that is not in the file; an inventory consumer is a
CONSUMER child of one producer; a `retry backoff` INTERNAL span has a child)."""

from __future__ import annotations

import json
import sys

import pytest
from opentelemetry.sdk.trace.id_generator import IdGenerator

from async_trace_tui.cli import main
from async_trace_tui.loading import default_sample, load
from async_trace_tui.views.dependencies import (
    ASYNC_DOWN,
    ASYNC_UP,
    CYCLE,
    MISSING,
    MORE,
    SPAN,
    SYNC,
    SYNC_UP,
    TRACE,
    DependencyView,
    DepNode,
    ViewOptions,
    walk,
)
from async_trace_tui.views.render_json import to_json


@pytest.fixture(scope="module")
def sample():
    index, report = load([str(default_sample())])
    assert not report.skipped
    return index


def rows_named(index, name, service=None):
    return [r for r in range(len(index)) if index.name[r] == name
            and (service is None or index.service(r) == service)]


def only(index, name, service=None):
    rows = rows_named(index, name, service)
    assert len(rows) == 1, (name, rows)
    return rows[0]


def child(node: DepNode, operation: str, edge: str | None = None, kind: str = SPAN) -> DepNode:
    found = [c for c in node.children() if c.operation == operation and c.kind == kind
             and (edge is None or c.edge == edge)]
    assert len(found) == 1, [(c.kind, c.edge, c.operation) for c in node.children()]
    return found[0]


def focus_node(view: DependencyView) -> DepNode:
    return view.focus_path()[-1]


def test_the_view_starts_at_the_focus_traces_root_with_the_path_expanded(sample):
    publish = rows_named(sample, "orders publish")[0]
    view = DependencyView(sample, publish)
    path = view.focus_path()
    assert path[0].kind == TRACE and path[0].rows == sample.roots(sample.trace[publish])
    assert [n.operation for n in path[1:]] == [
        "GET /checkout", "POST /orders", "POST /orders", "orders publish"]
    assert path[-1].is_focus and path[-1].rows == [publish]
    assert all(n.edge == SYNC for n in path[1:])


def test_batch_consumer_lists_three_producers_and_a_more_node(sample):
    consumer = only(sample, "orders process", "payments-worker")
    view = DependencyView(sample, consumer, ViewOptions(group_by="none"))
    node = focus_node(view)
    up = [c for c in node.children() if c.edge == ASYNC_UP]
    producers = sorted(rows_named(sample, "orders publish"), key=sample.start.__getitem__)
    assert len(producers) == 5
    assert [c.kind for c in up] == [SPAN, SPAN, SPAN, MORE]
    assert [c.rows for c in up[:3]] == [[p] for p in producers[:3]]  # the earliest three
    assert up[3].hidden == 2 and up[3].operation == "+2 more async calls"
    # expanding the `more` node lists the other two in its place
    shown = view.expand_more(up[3])
    assert [c.rows for c in shown] == [[p] for p in producers[3:]]
    assert [c.rows for c in node.children() if c.edge == ASYNC_UP] == [[p] for p in producers]


def test_async_cap_option(sample):
    consumer = only(sample, "orders process", "payments-worker")
    for cap, expected in ((0, 5), (1, 2), (5, 5)):
        node = focus_node(DependencyView(sample, consumer, ViewOptions(group_by="none", async_cap=cap)))
        assert len([c for c in node.children() if c.edge == ASYNC_UP]) == expected


@pytest.mark.parametrize("agg", ["max", "min", "avg", "sum"])
def test_grouping_by_operation_merges_converging_producers(sample, agg):
    consumer = only(sample, "orders process", "payments-worker")
    node = focus_node(DependencyView(sample, consumer, ViewOptions(agg=agg)))
    merged = child(node, "orders publish", ASYNC_UP)
    producers = rows_named(sample, "orders publish")
    durations = [sample.end[r] - sample.start[r] for r in producers]
    lags = [sample.start[consumer] - sample.end[r] for r in producers]
    expect = {"max": max, "min": min, "sum": sum,
              "avg": lambda v: round(sum(v) / len(v))}[agg]
    assert merged.count == 5 and sorted(merged.rows) == sorted(producers)
    assert merged.duration_ns == expect(durations)
    assert merged.lag_ns == expect(lags)
    assert merged.async_trace  # the producers live in other traces
    assert len(merged.trace_ids) == 5
    # merged children: the five producers' callers, merged again
    callers = child(merged, "POST /orders", SYNC_UP)
    assert callers.count == 5 and all(sample.service(r) == "checkout" for r in callers.rows)


def test_two_hop_async_chain_and_missing_link(sample):
    root = only(sample, "GET /checkout", "frontend") if len(rows_named(sample, "GET /checkout")) == 1 \
        else sorted(rows_named(sample, "GET /checkout"), key=sample.start.__getitem__)[0]
    view = DependencyView(sample, root, ViewOptions(group_by="none"))
    node = view.root
    for op in ("GET /checkout", "POST /orders", "POST /orders", "orders publish"):
        node = child(node, op)
    hop1 = [c for c in node.children() if c.edge == ASYNC_DOWN]
    assert {sample.service(c.rows[0]) for c in hop1} == {"payments-worker", "inventory"}
    batch = next(c for c in hop1 if sample.service(c.rows[0]) == "payments-worker")
    assert batch.async_trace and batch.hops == 1
    assert batch.lag_ns == sample.start[batch.rows[0]] - sample.end[node.rows[0]]
    # from the consumer: the four other producers upstream (not the one we came from)
    assert sum(c.count for c in batch.children() if c.edge == ASYNC_UP) == 4
    hop2 = child(child(batch, "email publish", SYNC), "email process", ASYNC_DOWN)
    assert hop2.hops == 2 and hop2.async_trace
    missing = [c for c in hop2.children() if c.kind == MISSING]
    assert len(missing) == 1 and missing[0].edge == ASYNC_UP
    assert missing[0].trace_ids == ["603ae5da46635a99e910fc8d0f06e36b"]
    assert missing[0].span_ids == ["bda039233dde8fcb"]


def test_consumer_child_is_an_async_edge_in_the_same_trace(sample):
    inventory = only(sample, "orders process", "inventory")
    producer = sample.parent[inventory]
    node = focus_node(DependencyView(sample, producer, ViewOptions(group_by="none")))
    inv = next(c for c in node.children() if c.rows == [inventory])
    assert inv.edge == ASYNC_DOWN and not inv.async_trace
    assert inv.lag_ns == sample.start[inventory] - sample.end[producer]
    # and the path to a span under it runs through that async edge
    path = DependencyView(sample, only(sample, "reserve stock"), ViewOptions(group_by="none")).focus_path()
    assert [n.edge for n in path][-2:] == [ASYNC_DOWN, SYNC]


def test_upstream_node_lists_its_caller_chain(sample):
    consumer = only(sample, "orders process", "payments-worker")
    node = focus_node(DependencyView(sample, consumer, ViewOptions(group_by="none")))
    producer = next(c for c in node.children() if c.edge == ASYNC_UP and c.kind == SPAN)
    chain = []
    while True:
        ups = [c for c in producer.children() if c.edge == SYNC_UP]
        if not ups:
            break
        producer = ups[0]
        chain.append((producer.service, producer.operation))
    assert chain == [("checkout", "POST /orders"), ("frontend", "POST /orders"),
                     ("frontend", "GET /checkout")]


def test_hide_internal_keeps_the_internal_spans_children(sample):
    consumer = only(sample, "orders process", "payments-worker")
    backoff = only(sample, "retry backoff")
    retry = sample.children(backoff)[0]
    shown = DependencyView(sample, consumer, ViewOptions(group_by="none"))
    hidden = DependencyView(sample, consumer, ViewOptions(group_by="none", show_internal=False))

    def all_rows(view):
        return {r for n, _ in walk_bounded(view.root) for r in n.rows if n.kind == SPAN}

    internal = {r for r in all_rows(shown) if sample.is_internal(r) and sample.parent[r] >= 0}
    assert backoff in internal
    assert all_rows(hidden) == all_rows(shown) - internal
    # the retry (child of the hidden `retry backoff`) now hangs from the failed charge card
    charge = next(n for n in focus_node(hidden).children() if n.operation == "charge card")
    assert [c.rows for c in charge.children()] == [[retry]]


def test_hide_internal_keeps_root_and_focus(sample):
    backoff = only(sample, "retry backoff")
    view = DependencyView(sample, backoff, ViewOptions(show_internal=False))
    assert view.focus_path()[-1].rows == [backoff]


@pytest.mark.parametrize("spec, expected", [
    ("service", {"payments-worker"}),
    ("resource:deployment.environment", {"demo"}),
])
def test_group_by_service_and_resource(sample, spec, expected):
    consumer = only(sample, "orders process", "payments-worker")
    node = focus_node(DependencyView(sample, consumer, ViewOptions(group_by=spec)))
    sync = [c for c in node.children() if c.edge == SYNC]
    assert len(sync) == 1 and sync[0].count == len(sample.children(consumer))
    assert {sample.service(r) for r in sync[0].rows} == expected or spec.startswith("resource")


def test_group_by_attribute_groups_and_reports_missing_key(sample):
    consumer = only(sample, "orders process", "payments-worker")
    node = focus_node(DependencyView(sample, consumer, ViewOptions(group_by="attr:messaging.system")))
    labels = sorted(c.group_label for c in node.children() if c.edge == SYNC)
    assert "(no messaging.system)" in labels and "messaging.system=rabbitmq" in labels


def walk_bounded(root, limit=10_000):
    for i, item in enumerate(walk(root)):
        if i > limit:
            raise AssertionError("the view did not end")
        yield item


# -- hand-built OTLP/JSON: shapes no SDK produces on purpose --------------------------------

def _span(tid, sid, name, parent="", kind=1, start=0, end=10, links=()):
    d = {"traceId": tid, "spanId": sid, "name": name, "kind": kind,
         "startTimeUnixNano": str(start), "endTimeUnixNano": str(end)}
    if parent:
        d["parentSpanId"] = parent
    if links:
        d["links"] = [{"traceId": t, "spanId": s} for t, s in links]
    return d


def _doc(spans):
    return {"resourceSpans": [{"resource": {"attributes": [
        {"key": "service.name", "value": {"stringValue": "svc"}}]},
        "scopeSpans": [{"spans": spans}]}]}


T1, T2 = "1" * 32, "2" * 32


def test_links_forming_a_cycle_end_in_a_cycle_leaf(write):
    # a ⇢ b ⇢ a: each trace's root links to the other's
    path = write("cycle.json", _doc([
        _span(T1, "a" * 16, "A", kind=5, links=[(T2, "b" * 16)]),
        _span(T2, "b" * 16, "B", kind=5, links=[(T1, "a" * 16)]),
    ]))
    index, _ = load([path])
    view = DependencyView(index, index.find(bytes.fromhex(T1), bytes.fromhex("a" * 16)))
    nodes = [n for n, _ in walk_bounded(view.root)]
    assert any(n.kind == CYCLE for n in nodes)
    assert all(not n.children() for n in nodes if n.kind == CYCLE)


def test_self_link_and_link_into_the_same_trace(write):
    path = write("same.json", _doc([
        _span(T1, "a" * 16, "root", kind=2, links=[(T1, "a" * 16)]),
        _span(T1, "c" * 16, "child", parent="a" * 16, kind=3, start=1, end=5),
        _span(T1, "d" * 16, "later", parent="a" * 16, kind=3, start=6, end=9,
              links=[(T1, "c" * 16)]),
    ]))
    index, _ = load([path])
    view = DependencyView(index, index.find(bytes.fromhex(T1), bytes.fromhex("a" * 16)))
    root = child(view.root, "root")
    assert any(c.kind == CYCLE and c.edge == ASYNC_DOWN for c in root.children())  # self-link
    c = child(root, "child", SYNC)
    linked = child(c, "later", ASYNC_DOWN)
    assert not linked.async_trace  # same trace: dotted, but no double lines
    assert linked.lag_ns == 6 - 5


def test_seen_from_upstream_a_consumers_parent_is_an_async_caller(write):
    # P (producer) -> C (CONSUMER child of P); X in another trace links to C.
    path = write("up.json", _doc([
        _span(T1, "a" * 16, "publish", kind=4, start=0, end=5),
        _span(T1, "c" * 16, "consume", parent="a" * 16, kind=5, start=8, end=20),
        _span(T2, "b" * 16, "follow-up", kind=2, start=30, end=40, links=[(T1, "c" * 16)]),
    ]))
    index, _ = load([path])
    view = DependencyView(index, index.find(bytes.fromhex(T2), bytes.fromhex("b" * 16)))
    consumer = child(focus_node(view), "consume", ASYNC_UP)
    assert consumer.lag_ns == 30 - 20
    producer = child(consumer, "publish")
    assert producer.edge == ASYNC_UP and producer.lag_ns == 8 - 5 and not producer.async_trace


def test_missing_parent_of_an_orphan_upstream(write):
    path = write("orphan.json", _doc([
        _span(T1, "a" * 16, "orphan", parent="f" * 16, kind=4),
        _span(T2, "b" * 16, "consumer", kind=5, start=20, end=30, links=[(T1, "a" * 16)]),
    ]))
    index, _ = load([path])
    view = DependencyView(index, index.find(bytes.fromhex(T2), bytes.fromhex("b" * 16)))
    producer = child(focus_node(view), "orphan", ASYNC_UP)
    assert producer.lag_ns == 20 - 10
    up = producer.children()
    assert [(n.kind, n.edge, n.span_ids) for n in up] == [(MISSING, SYNC_UP, ["f" * 16])]


def test_a_trace_100000_spans_deep(write):
    n = 100_000
    ids = [f"{i + 1:016x}" for i in range(n)]
    spans = [_span(T1, ids[i], f"op{i % 7}", parent=ids[i - 1] if i else "", start=i, end=2 * n - i)
             for i in range(n)]
    index, _ = load([write("deep.json", _doc(spans))])
    view = DependencyView(index, index.find(bytes.fromhex(T1), bytes.fromhex(ids[-1])))
    assert len(view.focus_path()) == n + 1
    depth = max(d for _, d in walk(view.root))
    assert depth == n
    text = to_json(view)
    assert text.count('"kind": "span"') == n
    limit = sys.getrecursionlimit()
    assert n > limit  # the point of the test: deeper than recursion could go
    parsed_depth = text.count('"children": [{')
    assert parsed_depth == n


def test_depth_limits_async_hops_in_headless_output(sample):
    consumer = only(sample, "orders process", "payments-worker")
    for depth in (0, 1, 2):
        view = DependencyView(sample, consumer, ViewOptions(depth=depth))
        hops = max(n.hops for n, _ in walk_bounded(view.root))
        assert hops == depth
    assert ViewOptions().depth is None  # the TUI's view: unlimited, lazy


# -- the real corpus: otel-tui's opentelemetry-demo capture ---------------------------------

def test_corpus_cross_trace_links_show_as_async_nodes(corpus):
    index, _ = load([str(corpus / "derived" / "otel-tui.traces-only.jsonl")])
    linking = [r for r in index.links_out]
    assert sum(len(index.links_out[r]) for r in linking) == 53
    seen = 0
    for r in linking:
        for _tid, _sid, target in index.links_of(r):
            assert target is not None
            node = focus_node(DependencyView(index, r, ViewOptions(async_cap=0)))
            ups = [c for c in node.children() if c.edge == ASYNC_UP]
            assert any(target in c.rows for c in ups)
            assert all(c.async_trace for c in ups if index.trace[c.rows[0]] != index.trace[r])
            down = [c for c in focus_node(DependencyView(index, target, ViewOptions(async_cap=0)))
                    .children() if c.edge == ASYNC_DOWN]
            assert any(r in c.rows for c in down)
            seen += 1
    assert seen == 53


# -- headless output ----------------------------------------------------------------------

def test_print_tells_the_whole_async_story(capsys):
    assert main(["--print", "--group-by", "none", "--span", "fe2fbd720bdcb5d3"]) == 0
    out = capsys.readouterr().out
    assert "⬡ payments-worker · orders process" in out
    assert "◀ focus" in out
    assert out.count("⬡ checkout · orders publish║") == 3
    assert "+2 more async calls" in out
    assert "║⬡ email-worker · email process║" in out and "┄▶" in out
    assert "span not loaded" in out
    assert "◀─◆ frontend · GET /checkout" in out


def test_print_ascii_has_no_unicode_glyphs(capsys):
    assert main(["--print", "--ascii", "--span", "fe2fbd720bdcb5d3"]) == 0
    out = capsys.readouterr().out
    assert out.isascii()  # the sample's own names are ASCII
    assert "{} payments-worker - orders process" in out and "x5" in out


def test_json_follows_the_spec_schema(capsys):
    assert main(["--json", "--span", "fe2fbd720bdcb5d3", "--agg", "max"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["focus"] == {"trace_id": "060bed79214119cf6d84cc7956364be9", "span_id": "fe2fbd720bdcb5d3"}
    assert (doc["group_by"], doc["agg"], doc["show_internal"], doc["async_cap"]) == ("operation", "max", True, 3)
    keys = {"kind", "edge", "service", "operation", "shape", "async_trace", "count", "duration_ns",
            "errors", "lag_ns", "trace_ids", "span_ids", "hidden", "children"}
    stack = [doc["root"]]
    kinds = set()
    while stack:
        node = stack.pop()
        assert set(node) == keys
        assert node["kind"] in {"trace", "span", "missing", "more", "cycle"}
        assert node["edge"] in {"root", "sync", "async-down", "async-up", "sync-up"}
        assert node["shape"] in {"http", "pubsub", "database", "generic", None}
        kinds.add(node["kind"])
        stack.extend(node["children"])
    assert doc["root"]["kind"] == "trace" and doc["root"]["edge"] == "root"
    assert kinds >= {"trace", "span", "missing"}


@pytest.mark.parametrize("args, message", [
    (["--trace", "abc"], "at least its first 4 hex digits"),
    (["--span", "0000000000000001"], "no span"),
    (["--trace", "f" * 32], "no trace"),
    (["--span", "xyz"], "not hex digits"),
    (["--span", "0" * 17], "longer than 16 hex digits"),
])
def test_unknown_ids_are_usage_errors(capsys, args, message):
    assert main(["--print", *args]) == 2
    assert message in capsys.readouterr().err


@pytest.mark.parametrize("args", [["--group-by", "tag"], ["--agg", "median"], ["--async-cap", "-1"]])
def test_bad_option_values_exit_2(capsys, args):
    with pytest.raises(SystemExit) as e:
        main(["--print", *args])
    assert e.value.code == 2


def test_parent_ids_that_loop_are_broken_not_followed_forever(write):
    # A's parent is B and B's parent is A (corrupt data); C in another trace links to A.
    path = write("loop.json", _doc([
        _span(T1, "a" * 16, "A", parent="b" * 16, kind=1, start=1, end=9),
        _span(T1, "b" * 16, "B", parent="a" * 16, kind=1, start=2, end=8),
        _span(T2, "c" * 16, "C", kind=5, start=20, end=30, links=[(T1, "a" * 16)]),
    ]))
    index, _ = load([path])
    a = index.find(bytes.fromhex(T1), bytes.fromhex("a" * 16))
    assert index.roots(index.trace[a]) == [a]  # the earliest span of the loop became its root
    summary = index.traces[index.trace[a]]
    assert summary.root == a and summary.spans == 2
    for focus in range(len(index)):
        for internal in (True, False):
            view = DependencyView(index, focus, ViewOptions(show_internal=internal))
            assert len(list(walk_bounded(view.root, 100))) < 100
            view.focus_path()


# -- what the TUI asks of the view quickly -------------------------------------------------

ALL_OPTIONS = [ViewOptions(), ViewOptions(group_by="none"), ViewOptions(group_by="service"),
               ViewOptions(show_internal=False), ViewOptions(group_by="attr:messaging.system"),
               ViewOptions(group_by="none", async_cap=0)]


@pytest.mark.parametrize("options", ALL_OPTIONS)
def test_expandable_says_whether_there_are_children_without_grouping_them(sample, options):
    for focus in (only(sample, "orders process", "payments-worker"), sample.traces[0].root):
        stack = [DependencyView(sample, focus, options).root]
        seen = 0
        while stack and seen < 3000:
            node = stack.pop()
            seen += 1
            assert not node.children_known or node is node.view.root
            expandable = node.expandable  # asked first: the children are not made for it
            assert not node.children_known or node.kind == MORE or node is node.view.root
            assert expandable == (node.kind == MORE or bool(node.children()))
            stack.extend(node.children())
        assert seen > 10


def test_group_more_makes_what_expand_more_puts_in_place(sample):
    consumer = only(sample, "orders process", "payments-worker")
    options = ViewOptions(group_by="none")
    view = DependencyView(sample, consumer, options)
    node = view.focus_path()[-1]
    more = next(c for c in node.children() if c.kind == MORE)
    made = view.group_more(more)
    assert more in node.children()  # not in place yet
    assert view.replace_more(more, made)
    assert more not in node.children() and not view.replace_more(more, made)
    other = DependencyView(sample, consumer, options)
    other_node = other.focus_path()[-1]
    expanded = other.expand_more(next(c for c in other_node.children() if c.kind == MORE))
    assert [(n.kind, n.rows, n.vias, n.lags) for n in made] == \
        [(n.kind, n.rows, n.vias, n.lags) for n in expanded]
    assert [n.rows for n in node.children()] == [n.rows for n in other_node.children()]


def test_attribute_group_keys_decode_each_span_once(sample, monkeypatch):
    from async_trace_tui.views.grouping import group_key_fn

    calls: list[int] = []
    attributes = sample.attributes
    monkeypatch.setattr(sample, "attributes", lambda row: calls.append(row) or attributes(row))
    key = group_key_fn(sample, "attr:messaging.system")
    rows = rows_named(sample, "orders publish")
    first = [key(r) for r in rows]
    assert [key(r) for r in rows] == first and first[0] == "kafka"
    assert sorted(calls) == sorted(rows)


def test_a_disposed_view_needs_no_garbage_collection_to_go(sample):
    import gc

    def unreachable_after(dispose: bool) -> tuple[int, int]:
        gc.collect()
        gc.disable()
        try:
            view = DependencyView(sample, only(sample, "orders process", "payments-worker"))
            nodes = sum(1 for _ in walk_bounded(view.root))
            if dispose:
                view.dispose()
            del view
            return nodes, gc.collect()
        finally:
            gc.enable()

    nodes, left = unreachable_after(dispose=False)
    assert left > nodes > 10  # nodes and their parents hold each other
    nodes, left = unreachable_after(dispose=True)
    assert left < 10  # the view and its root, no more


# -- issue 8: merged nodes, two roots, self-links, overlaps (SDK-recorded) ------------------

class _QueuedIds(IdGenerator):
    """An SDK IdGenerator whose next ids are known ahead: a span can link to itself, and two
    roots can share a trace (children of a remote parent that is never exported)."""

    def __init__(self, trace_ids, span_ids):
        self.trace_ids = list(trace_ids)
        self.span_ids = list(span_ids)

    def generate_trace_id(self):
        return self.trace_ids.pop(0)

    def generate_span_id(self):
        return self.span_ids.pop(0)


ROOTS_TRACE, SELF_TRACE, PROD_TRACE, CONS_TRACE = 0xA1, 0xB2, 0xC3, 0xD4
REMOTE_PARENT, ROOT_A, ROOT_B, SELF, PRODUCER, CONSUMER = 0x10, 0x11, 0x12, 0x13, 0x14, 0x15
# Two trace ids alike at both ends (issue 8: both printed `trace 0000…0000`): a loaded one,
# and one a link names that is not loaded.
LOOKALIKE_TRACE, MISSING_LOOKALIKE = 0x01 << 64, 0xFF << 64
LOOKALIKE, NOT_LOADED = 0x16, 0x17


@pytest.fixture(scope="module")
def edges_file(tmp_path_factory) -> str:
    """Recorded with the OpenTelemetry SDK: trace A1 has two roots (A links to B; their
    parent was never exported); B2's only span links to itself; D4's consumer links to
    C3's producer while it still runs (a negative lag: 30 ms of overlap)."""
    from opentelemetry import trace as api
    from opentelemetry.context import Context
    from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
    from opentelemetry.trace import Link, NonRecordingSpan, SpanContext, SpanKind, TraceFlags
    from sdk_data import ms

    exporter = InMemorySpanExporter()
    ids = _QueuedIds([SELF_TRACE, PROD_TRACE, CONS_TRACE, LOOKALIKE_TRACE],
                     [ROOT_B, ROOT_A, SELF, PRODUCER, CONSUMER, LOOKALIKE])
    provider = TracerProvider(resource=Resource({"service.name": "svc"}), id_generator=ids)
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracer = provider.get_tracer("edges")
    remote = api.set_span_in_context(NonRecordingSpan(SpanContext(
        ROOTS_TRACE, REMOTE_PARENT, is_remote=True, trace_flags=TraceFlags(1))))
    b = tracer.start_span("root b", context=remote, kind=SpanKind.SERVER, start_time=ms(0))
    b.end(end_time=ms(5))
    a = tracer.start_span("root a", context=remote, kind=SpanKind.SERVER, start_time=ms(10),
                          links=[Link(b.get_span_context())])
    a.end(end_time=ms(20))
    itself = SpanContext(SELF_TRACE, SELF, is_remote=False, trace_flags=TraceFlags(1))
    s = tracer.start_span("retry self", kind=SpanKind.CONSUMER, start_time=ms(30),
                          links=[Link(itself)])
    s.end(end_time=ms(40))
    p = tracer.start_span("orders publish", kind=SpanKind.PRODUCER, start_time=ms(100))
    c = tracer.start_span("orders process", context=Context(), kind=SpanKind.CONSUMER,
                          start_time=ms(120), links=[Link(p.get_span_context())])
    c.end(end_time=ms(160))
    p.end(end_time=ms(150))
    gone = SpanContext(MISSING_LOOKALIKE, NOT_LOADED, is_remote=True, trace_flags=TraceFlags(1))
    tracer.start_span("lookalike", context=Context(), kind=SpanKind.CONSUMER, start_time=ms(200),
                      links=[Link(gone)]).end(end_time=ms(210))
    provider.shutdown()
    assert s.get_span_context().span_id == SELF  # the link really points at itself
    path = tmp_path_factory.mktemp("edges") / "edges.binpb"
    path.write_bytes(encode_spans(exporter.get_finished_spans()).SerializeToString())
    return str(path)


@pytest.fixture(scope="module")
def edges(edges_file):
    index, report = load([edges_file])
    assert not report.skipped
    return index


def _row(index, trace: int, span: int) -> int:
    row = index.find(trace.to_bytes(16, "big"), span.to_bytes(8, "big"))
    assert row is not None
    return row


def test_a_link_between_two_roots_of_a_trace_is_not_a_cycle(edges):
    a, b = _row(edges, ROOTS_TRACE, ROOT_A), _row(edges, ROOTS_TRACE, ROOT_B)
    assert sorted(edges.roots(edges.trace[a])) == sorted([a, b])
    view = DependencyView(edges, a)
    root_a, root_b = child(view.root, "root a", SYNC), child(view.root, "root b", SYNC)
    # Under A, B is what A links to (not an ancestor: a sibling root folded into the trace).
    linked = root_a.children()
    assert [(n.kind, n.edge, n.rows) for n in linked] == [(SPAN, ASYNC_UP, [b])]
    # Seen from A, B leads to A: its caller is the parent neither root's exporter sent.
    assert [(n.kind, n.edge) for n in linked[0].children()] == [(MISSING, SYNC_UP)]
    # Under B, A is what links to it (the link back to B is the way the view came).
    caused = root_b.children()
    assert [(n.kind, n.edge, n.rows) for n in caused] == [(SPAN, ASYNC_DOWN, [a])]
    assert caused[0].children() == []


def test_a_self_link_shows_once(edges, edges_file, capsys):
    s = _row(edges, SELF_TRACE, SELF)
    for options in (ViewOptions(), ViewOptions(group_by="none"), ViewOptions(show_internal=False)):
        node = focus_node(DependencyView(edges, s, options))
        assert [(n.kind, n.edge, n.rows) for n in node.children()] == [(CYCLE, ASYNC_DOWN, [s])]
    assert main([edges_file, "--print", "--span", f"{SELF:016x}"]) == 0
    out = capsys.readouterr().out
    assert out.count("retry self") == 3, out  # the trace row, the span, its cycle once


def test_a_negative_lag_reads_as_an_overlap(edges, edges_file, capsys):
    from async_trace_tui.views.details import DetailsBuilder
    from async_trace_tui.views.format import timestamp
    from async_trace_tui.views.glyphs import UNICODE
    from async_trace_tui.views.labels import node_label

    c, p = _row(edges, CONS_TRACE, CONSUMER), _row(edges, PROD_TRACE, PRODUCER)
    up = child(focus_node(DependencyView(edges, c)), "orders publish", ASYNC_UP)
    assert up.lag_ns == -30_000_000  # the consumer started 30 ms before the producer ended
    label = node_label(up, UNICODE).plain
    assert "overlap 30.0 ms" in label and "lag" not in label and "-30" not in label
    down = child(focus_node(DependencyView(edges, p)), "orders process", ASYNC_DOWN)
    assert "overlap 30.0 ms" in node_label(down, UNICODE).plain
    fields = {f.label: f.value for s in DetailsBuilder(edges).build(up).sections for f in s.fields}
    assert fields["overlap"].startswith("30.0 ms")
    # Both spans, with their start and end, to see the overlap for oneself.
    d = DetailsBuilder(edges).build(up)
    view = next(s for s in d.sections if s.title == "in this view")
    pairs = [(f.label, f.value) for f in view.fields]
    i = pairs.index(("cause", "svc · orders publish"))
    assert pairs[i + 1:i + 3] == [("start", timestamp(edges.start[p], 6)),
                                  ("end", timestamp(edges.end[p], 6))]
    j = pairs.index(("effect", "svc · orders process"))
    assert pairs[j + 1:j + 3] == [("start", timestamp(edges.start[c], 6)),
                                  ("end", timestamp(edges.end[c], 6))]
    # --print says so; --json keeps the value.
    assert main([edges_file, "--print", "--span", f"{CONSUMER:016x}"]) == 0
    out = capsys.readouterr().out
    assert "overlap 30.0 ms" in out and "lag -" not in out
    assert main([edges_file, "--json", "--span", f"{CONSUMER:016x}"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert [n["lag_ns"] for n in _json_nodes(doc["root"]) if n["edge"] == ASYNC_UP] == [-30_000_000]


def test_merged_node_is_an_async_trace_only_when_all_its_spans_are(sample):
    from async_trace_tui.views.details import DetailsBuilder

    inventory = next(r for r in range(len(sample)) if sample.service(r) == "inventory"
                     and sample.name[r] == "orders process")
    producer = sample.parent[inventory]
    batch = only(sample, "orders process", "payments-worker")
    node = child(focus_node(DependencyView(sample, producer)), "orders process", ASYNC_DOWN)
    assert sorted(node.rows) == sorted([inventory, batch])  # same trace + another trace
    assert node.in_other_traces() == (1, 2)
    assert not node.async_trace
    assert "║" not in node_text(node)
    fields = {f.label: f.value for s in DetailsBuilder(sample).build(node).sections
              for f in s.fields}
    assert fields["async trace"] == "no: 1 of 2 spans reached across a link from another trace"
    doc = json.loads(to_json(DependencyView(sample, producer)))
    merged = [n for n in _json_nodes(doc["root"]) if n["operation"] == "orders process"
              and n["edge"] == ASYNC_DOWN]
    assert [n["async_trace"] for n in merged] == [False]
    # Split by service: the batch consumer alone is an async trace, the inventory one not.
    split = [n for n in focus_node(DependencyView(sample, producer, ViewOptions(group_by="service")))
             .children() if n.edge == ASYNC_DOWN]
    assert sorted((n.service, n.async_trace) for n in split) == [
        ("inventory", False), ("payments-worker", True)]
    # Every span in another trace: the five producers of the batch.
    producers = child(focus_node(DependencyView(sample, batch)), "orders publish", ASYNC_UP)
    assert producers.async_trace and producers.in_other_traces() == (5, 5)
    fields = {f.label: f.value for s in DetailsBuilder(sample).build(producers).sections
              for f in s.fields}
    assert fields["async trace"] == "yes: 5 of 5 spans reached across a link from another trace"


def test_merged_node_glyph_is_the_shared_shape_or_generic(sample):
    batch = only(sample, "orders process", "payments-worker")
    # Internal spans hidden, the first of the batch's children is the HTTP call.
    view = DependencyView(sample, batch, ViewOptions(group_by="service", show_internal=False))
    merged = child(focus_node(view), "3 operations", SYNC)
    assert sample.shape(merged.rows[0]) == "http"
    assert {sample.shape(r) for r in merged.rows} == {"http", "database", "pubsub"}
    assert merged.shape == "generic" and node_text(merged).startswith("● payments-worker")
    producers = child(focus_node(DependencyView(sample, batch)), "orders publish", ASYNC_UP)
    assert producers.shape == "pubsub" and node_text(producers).startswith("║⬡ checkout")
    # Same operation, same shape: the five front-end requests behind them.
    callers = producers.children()[0].children()[0].children()[0]
    assert callers.count == 5 and callers.shape == "http"


def node_text(node) -> str:
    from async_trace_tui.views.glyphs import UNICODE
    from async_trace_tui.views.labels import node_label

    return node_label(node, UNICODE).plain


def _json_nodes(root):
    stack = [root]
    while stack:
        n = stack.pop()
        yield n
        stack.extend(n["children"])


def test_short_trace_ids_on_screen_stay_distinct(edges):
    from async_trace_tui.views.short_ids import TraceIdNames, short_trace_id

    row = _row(edges, LOOKALIKE_TRACE, LOOKALIKE)
    view = DependencyView(edges, row)
    missing = next(n for n in focus_node(view).children() if n.kind == MISSING)
    loaded_label, missing_label = node_text(view.root), node_text(missing)
    assert loaded_label.startswith("▣ trace 000000000000000…0000  ")
    assert "trace 00000000000000f…0000 span " in missing_label
    # Each is the start of its own id, then its end: what the command line takes.
    loaded, gone = f"{LOOKALIKE_TRACE:032x}", f"{MISSING_LOOKALIKE:032x}"
    for hex_id in (loaded, gone):
        head, _, tail = short_trace_id(edges, hex_id).partition("…")
        assert hex_id.startswith(head) and hex_id.endswith(tail) and len(head) >= 4
    # Random ids keep the short 4 + 4 form; any two known ids differ on screen.
    import random

    rnd = random.Random(8)
    ids = [rnd.getrandbits(128).to_bytes(16, "big") for _ in range(20_000)]
    ids += [b"\x00" * 7 + bytes([k]) + b"\x00" * 8 for k in range(256)]  # alike at both ends
    names = TraceIdNames(ids)
    shown = [names.short(i) for i in ids]
    assert len(set(shown)) == len(ids)
    assert sum(len(s) == 9 for s in shown) > 19_000
    assert max(len(s) for s in shown) == names.widest
    assert names.short(ids[0]) == f"{ids[0].hex()[:4]}…{ids[0].hex()[-4:]}"


@pytest.fixture(scope="module")
def two_messages_file(tmp_path_factory):
    """One request publishes two messages that one consumer (another trace) takes in."""
    from flow_data import Recorder, ids

    rec = Recorder(seed=21)
    request = rec.open("front", "POST /orders", 0, "server")
    p1 = rec.span("front", "orders publish", 10, 12, "producer", parent=request)
    p2 = rec.span("front", "orders publish", 20, 24, "producer", parent=request)
    rec.close(request, 50)
    consumer = rec.span("worker", "orders process", 100, 130, "consumer", links=[p1, p2])
    path = tmp_path_factory.mktemp("two-messages") / "two.binpb"
    path.write_bytes(rec.request().SerializeToString())
    rec.shutdown()
    return str(path), {n: ids(s) for n, s in
                       (("request", request), ("p1", p1), ("p2", p2), ("consumer", consumer))}


def test_a_span_reached_from_two_merged_spans_counts_once(two_messages_file, capsys):
    path, spans = two_messages_file
    # From the consumer: both producers merge (×2); walking up, their one caller is one span.
    assert main([path, "--json", "--span", spans["consumer"][1], "--agg", "sum"]) == 0
    doc = json.loads(capsys.readouterr().out)
    consumer = doc["root"]["children"][0]
    up = consumer["children"][0]
    assert (up["edge"], up["count"], up["duration_ns"], up["lag_ns"]) == (
        "async-up", 2, 6_000_000, (100 - 12 + 100 - 24) * 1_000_000)
    caller = up["children"][0]
    assert (caller["edge"], caller["operation"], caller["count"], caller["duration_ns"],
            caller["span_ids"]) == ("sync-up", "POST /orders", 1, 50_000_000,
                                    [spans["request"][1]])
    # From the request: the merged producers lead to one consumer over two hand-offs, whose
    # lags aggregate like durations (avg of 88 ms and 76 ms).
    assert main([path, "--json", "--span", spans["request"][1]]) == 0
    doc = json.loads(capsys.readouterr().out)
    producers = doc["root"]["children"][0]["children"][0]
    assert producers["count"] == 2
    down = producers["children"][0]
    assert (down["edge"], down["count"], down["duration_ns"], down["lag_ns"],
            down["span_ids"]) == ("async-down", 1, 30_000_000, 82_000_000,
                                  [spans["consumer"][1]])
    assert main([path, "--print", "--span", spans["consumer"][1]]) == 0
    out = capsys.readouterr().out
    assert "POST /orders  50.0 ms\n" in out and "×2" not in out.split("POST /orders")[1]


def test_calls_that_start_together_keep_one_order_whatever_the_load_order(tmp_path, capsys):
    """Four consumers start at the same moment, each linking to one producer: the view
    (and which three the cap shows) is the same whether the file lists them one way or the
    other (a store fetches them in no set order): ties go by span id."""
    from flow_data import Recorder, ids, reversed_spans

    rec = Recorder(seed=5)
    producer = rec.span("front", "publish", 0, 10, "producer")
    consumers = [rec.span("worker", "process", 20, 30, "consumer", links=[producer])
                 for _ in range(4)]
    request = rec.request()
    rec.shutdown()
    backwards = reversed_spans(request)
    outputs = []
    for name, req in (("forwards.binpb", request), ("backwards.binpb", backwards)):
        path = tmp_path / name
        path.write_bytes(req.SerializeToString())
        assert main([str(path), "--json", "--span", ids(producer)[1], "--group-by", "none"]) == 0
        outputs.append(capsys.readouterr().out)
    assert outputs[0] == outputs[1]
    down = json.loads(outputs[0])["root"]["children"][0]["children"]
    by_id = sorted(ids(c)[1] for c in consumers)
    assert [n["span_ids"] for n in down] == [[i] for i in by_id[:3]] + [[]]
    assert (down[3]["kind"], down[3]["hidden"]) == (MORE, 1)


def test_a_merged_nodes_average_is_exact_to_the_nanosecond(tmp_path, capsys):
    """Three month-long jobs (2**53 ns and a little: ~104 days each) merge under their
    parent; the JSON average is the true one rounded (2**53 + 4/3 -> 2**53 + 1), not what
    a float sum of them rounds to (2**53 + 2)."""
    from flow_data import Recorder, ids
    from opentelemetry import trace as api
    from sdk_data import ms

    rec = Recorder(seed=9)
    root = rec.open("batch", "nightly", 0, "server")
    base = ms(1)
    for extra in (1, 1, 2):
        job = rec.tracer("batch").start_span("job", context=api.set_span_in_context(root),
                                             start_time=base)
        job.end(end_time=base + 2**53 + extra)
    rec.close(root, 2**53 / 1e6 + 10)
    path = tmp_path / "long.binpb"
    path.write_bytes(rec.request().SerializeToString())
    rec.shutdown()
    assert main([str(path), "--json", "--span", ids(root)[1]]) == 0
    jobs = json.loads(capsys.readouterr().out)["root"]["children"][0]["children"][0]
    assert (jobs["operation"], jobs["count"], jobs["duration_ns"]) == ("job", 3, 2**53 + 1)


def test_spans_that_tie_read_the_same_whatever_the_load_order(tmp_path, capsys):
    """Two roots of one trace start together, two merged steps start together and a
    consumer links to both steps: the JSON (span_ids order, the lags a hidden-internal view
    folds into one edge) is the same whichever order the file (or a store) gives them."""
    from flow_data import Recorder, ids, reversed_spans
    from opentelemetry import trace as api

    rec = Recorder(seed=13)
    root = rec.open("front", "root", 0, "server")
    other_parent = api.NonRecordingSpan(api.SpanContext(
        root.get_span_context().trace_id, 0xABC, is_remote=True,
        trace_flags=api.TraceFlags(1)))
    second_root = rec.span("front", "root", 0, 50, "server", parent=other_parent)
    steps = [rec.span("front", "step", 10, end, parent=root) for end in (20, 30)]
    rec.close(root, 50)
    consumer = rec.span("worker", "consume", 40, 60, "consumer", links=steps)
    request = rec.request()
    rec.shutdown()
    backwards = reversed_spans(request)
    docs: dict[str, list[str]] = {}
    for name, req in (("forwards.binpb", request), ("backwards.binpb", backwards)):
        path = tmp_path / name
        path.write_bytes(req.SerializeToString())
        for options in ([], ["--hide-internal"]):
            assert main([str(path), "--json", "--span", ids(root)[1], *options]) == 0
            docs.setdefault(" ".join(options), []).append(capsys.readouterr().out)
    for outputs in docs.values():
        assert outputs[0] == outputs[1]
    shown = json.loads(docs[""][0])["root"]
    assert shown["span_ids"] == sorted([ids(root)[1], ids(second_root)[1]])
    merged = next(n for n in shown["children"][0]["children"] if n["operation"] == "step")
    assert merged["span_ids"] == sorted(ids(s)[1] for s in steps)
    # Internal steps hidden: the consumer hangs off the root over both hand-offs
    # (40 - 20 and 40 - 30 ms), their lags averaged, not whichever was met first.
    hidden = json.loads(docs["--hide-internal"][0])["root"]["children"][0]["children"]
    down = next(n for n in hidden if n["edge"] == "async-down")
    assert (down["span_ids"], down["count"], down["lag_ns"]) == ([ids(consumer)[1]], 1, 15_000_000)


def test_a_root_span_is_not_called_a_child_of_the_trace_node(sample):
    """The details of a span right under the trace node said `sync call: a child of the
    node above`: the node above is the trace, and the span has no parent."""
    from async_trace_tui.views.details import DetailsBuilder

    batch = only(sample, "orders process", "payments-worker")
    view = DependencyView(sample, batch)
    root = view.root.children()[0]
    assert root.rows == [batch] and root.edge == SYNC
    fields = {f.label: f.value for s in DetailsBuilder(sample).build(root).sections
              for f in s.fields}
    assert fields["edge"] == "a root of the trace above (no parent in it)"
    below = root.children()[0]  # decode batch, the batch's child
    fields = {f.label: f.value for s in DetailsBuilder(sample).build(below).sections
              for f in s.fields}
    assert fields["edge"] == "sync call: a child of the node above"
