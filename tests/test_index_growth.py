"""A growing index: spans appended in any order end up as a bulk load of the same spans
would have them; late parents adopt, late link targets resolve, duplicates are skipped."""

from __future__ import annotations

import random

import pytest
import sdk_data
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from sdk_data import TRACE_A, TRACE_B, doc_json, link_json, sid, span_json

from async_trace_tui.index import SpanIndex
from async_trace_tui.loading import decode, load
from async_trace_tui.loading.report import LoadReport


def one_span_requests(req: ExportTraceServiceRequest) -> list[bytes]:
    """One protobuf request per span, each with its resource and scope."""
    out = []
    for rs in req.resource_spans:
        for ss in rs.scope_spans:
            for sp in ss.spans:
                r = ExportTraceServiceRequest()
                new_rs = r.resource_spans.add()
                new_rs.resource.CopyFrom(rs.resource)
                new_ss = new_rs.scope_spans.add()
                new_ss.scope.CopyFrom(ss.scope)
                new_ss.spans.add().CopyFrom(sp)
                out.append(r.SerializeToString())
    return out


def grow(bodies: list[bytes], index: SpanIndex | None = None) -> tuple[SpanIndex, LoadReport]:
    index = index if index is not None else SpanIndex.empty()
    report = LoadReport()
    for n, body in enumerate(bodies):
        batch, f = decode(body, f"request {n}", report)
        assert not f.error, f.error
        index.append(batch)
    return index, report


@pytest.fixture(scope="module")
def bulk(sdk_request, tmp_path_factory):
    path = tmp_path_factory.mktemp("bulk") / "all.binpb"
    path.write_bytes(sdk_request.SerializeToString())
    index, _ = load([str(path)])
    return index


def structure(index):
    """Children and roots of every span and trace, as span keys (no row numbers)."""
    key = lambda r: sdk_data.span_key(index, r)  # noqa: E731
    kids = sorted((key(r), tuple(key(c) for c in index.children(r))) for r in range(len(index)))
    roots = sorted((s.trace_id.hex(), tuple(key(r) for r in index.roots(s.index)))
                   for s in index.traces)
    return kids, roots


@pytest.mark.parametrize("order", ["as sent", "reversed", "shuffled 1", "shuffled 2"])
def test_spans_in_any_order_index_as_a_bulk_load_does(sdk_request, bulk, order):
    bodies = one_span_requests(sdk_request)
    if order == "reversed":
        bodies.reverse()
    elif order.startswith("shuffled"):
        random.Random(order).shuffle(bodies)
    index, report = grow(bodies)
    assert not report.skipped
    assert sdk_data.snapshot(index) == sdk_data.snapshot(bulk)
    assert sdk_data.trace_table(index) == sdk_data.trace_table(bulk)
    assert structure(index) == structure(bulk)


def test_batches_of_whole_resource_spans_and_a_preloaded_file(sdk_request, bulk, write):
    parts = sdk_data.split_request(sdk_request)
    first = write("first.binpb", parts[0].SerializeToString())
    index, _ = load([first])
    index, _ = grow([p.SerializeToString() for p in parts[1:]], index)
    assert sdk_data.snapshot(index) == sdk_data.snapshot(bulk)
    assert sdk_data.trace_table(index) == sdk_data.trace_table(bulk)


def body(*spans, service="svc"):
    import json

    return json.dumps(doc_json(*spans, service=service)).encode()


def test_a_consumer_before_its_producer_is_missing_then_resolves():
    index, _ = grow([body(span_json(sid(9), "consume", TRACE_B, kind=5,
                                    links=[link_json(TRACE_A, sid(1))]))])
    consumer = index.find(bytes.fromhex(TRACE_B), bytes.fromhex(sid(9)))
    assert index.links_of(consumer)[0][2] is None  # shown as a missing node
    gen = index.generation
    batch, _ = decode(body(span_json(sid(1), "produce", TRACE_A, kind=4)), "late", LoadReport())
    arrivals = index.append(batch)
    producer = index.find(bytes.fromhex(TRACE_A), bytes.fromhex(sid(1)))
    assert index.links_of(consumer)[0][2] == producer
    assert index.linked_from(producer) == [consumer]
    a, b = index.trace_index[bytes.fromhex(TRACE_A)], index.trace_index[bytes.fromhex(TRACE_B)]
    assert set(arrivals.touched) == {a, b}  # the consumer's trace changed too
    assert index.trace_generation[b] == index.trace_generation[a] == gen + 1
    assert index.traces[a].links_in == 1 and index.traces[b].links_out == 1


def test_a_late_parent_adopts_its_children_and_becomes_the_root():
    index, _ = grow([body(span_json(sid(2), "child", parent=sid(1), start=20, end=30),
                          span_json(sid(3), "grandchild", parent=sid(2), start=21, end=22))])
    child = index.find(bytes.fromhex(TRACE_A), bytes.fromhex(sid(2)))
    assert index.roots(0) == [child] and index.is_orphan(child)
    assert index.traces[0].root == child
    batch, _ = decode(body(span_json(sid(1), "root", start=10, end=40)), "late", LoadReport())
    arrivals = index.append(batch)
    root = index.find(bytes.fromhex(TRACE_A), bytes.fromhex(sid(1)))
    assert arrivals.adopted == 1
    assert index.parent[child] == root and index.children(root) == [child]
    assert index.roots(0) == [root] and index.traces[0].root == root
    assert (index.traces[0].start, index.traces[0].end, index.traces[0].spans) == (10, 40, 3)


def test_parent_loops_across_batches_become_a_root():
    index, _ = grow([body(span_json(sid(1), "a", parent=sid(2), start=10)),
                     body(span_json(sid(2), "b", parent=sid(1), start=20))])
    a = index.find(bytes.fromhex(TRACE_A), bytes.fromhex(sid(1)))
    b = index.find(bytes.fromhex(TRACE_A), bytes.fromhex(sid(2)))
    assert index.roots(0) == [a] and index.children(a) == [b] and index.parent[a] == -1
    # a loop inside one batch too
    index, _ = grow([body(span_json(sid(1), "a", parent=sid(2), start=10),
                          span_json(sid(2), "b", parent=sid(1), start=20))])
    assert len(index.roots(0)) == 1


def test_duplicates_are_skipped_and_counted(sdk_request, bulk):
    data = sdk_request.SerializeToString()
    index, _ = grow([data])
    batch, _ = decode(data, "again", LoadReport())
    arrivals = index.append(batch)
    assert arrivals.spans == 0 and arrivals.duplicates == len(bulk)
    assert sdk_data.snapshot(index) == sdk_data.snapshot(bulk)
    # and a batch that repeats a span inside itself
    index, _ = grow([body(span_json(sid(1), "x"), span_json(sid(1), "x again"))])
    assert len(index) == 1 and index.name == ["x"]


def test_span_id_reused_in_another_trace_is_not_a_duplicate():
    index, _ = grow([body(span_json(sid(1), "in a", TRACE_A)),
                     body(span_json(sid(1), "in b", TRACE_B),
                          span_json(sid(2), "child in b", TRACE_B, parent=sid(1)))])
    in_b = index.find(bytes.fromhex(TRACE_B), bytes.fromhex(sid(1)))
    child = index.find(bytes.fromhex(TRACE_B), bytes.fromhex(sid(2)))
    assert len(index) == 3 and index.name[in_b] == "in b" and index.parent[child] == in_b


# -- duplicates in plain file loads (issue 8, item 8) ------------------------------------------

def test_the_same_file_twice_counts_each_span_once(sdk_request, bulk, write):
    path = write("a.binpb", sdk_request.SerializeToString())
    index, report = load([path, path])
    assert len(index) == len(bulk)
    assert report.skipped == {"duplicate spans (already loaded)": len(bulk)}
    assert report.spans == len(bulk) and [f.spans for f in report.files] == [len(bulk), 0]
    assert sdk_data.snapshot(index) == sdk_data.snapshot(bulk)


def test_a_directory_of_flavours_of_the_same_spans(sdk_request, bulk, write):
    names = []
    for n, (flavour, (name, writer)) in enumerate(sdk_data.FLAVOURS.items()):
        names.append(write(f"flavours/{n:02d}-{flavour}-{name}", writer(sdk_request)))
    index, report = load([str(__import__("pathlib").Path(names[0]).parent)])
    copies = len(names)
    assert len(index) == len(bulk)
    assert report.skipped == {"duplicate spans (already loaded)": len(bulk) * (copies - 1)}
    assert sdk_data.snapshot(index) == sdk_data.snapshot(bulk)
    assert sdk_data.trace_table(index) == sdk_data.trace_table(bulk)


def test_details_after_a_duplicate_in_the_middle_of_a_block(write):
    from sdk_data import attrs_json

    spans = [span_json(sid(n), f"span {n}", attributes=attrs_json(n=n)) for n in (1, 2, 3)]
    index, report = load([write("d.json", doc_json(spans[0], spans[1], spans[0], spans[2]))])
    assert report.skipped == {"duplicate spans (already loaded)": 1}
    assert [index.name[r] for r in range(len(index))] == ["span 1", "span 2", "span 3"]
    assert [index.attributes(r)["n"] for r in range(len(index))] == [1, 2, 3]


# -- batches as exporters write them (live mode appends a request at a time) ---------------

def random_traces(rnd: random.Random, traces: int = 5, spans: int = 60) -> list[dict]:
    """Traces of random trees, some parents not sent at all (orphans), some parent ids
    looping (bad data: A's parent B, B's parent A; or around three spans), distinct
    start times (the earliest span of a loop becomes its root)."""
    out = []
    n = 0
    for t in range(traces):
        trace_id = f"{t + 1:032x}"
        ids = [sid(n + i) for i in range(spans)]
        for i in range(spans):
            parent = ids[rnd.randrange(i)] if i and rnd.random() < 0.9 else ""
            if i and rnd.random() < 0.05:
                parent = sid(10_000 + rnd.randrange(100))  # never sent
            out.append(span_json(ids[i], f"op {n + i}", trace_id, parent=parent,
                                 start=1_000 + 10 * (n + i), end=50_000 - n - i))
        for size in (2, 3):  # a loop of `size` spans hanging nowhere
            loop = [sid(20_000 + t * 10 + size * 3 + k) for k in range(size)]
            for k, span in enumerate(loop):
                out.append(span_json(span, f"loop {t}.{size}.{k}", trace_id,
                                     parent=loop[(k + 1) % size], start=300 + t * 50 + size * 10 + k))
        n += spans
    return out


@pytest.mark.parametrize("seed", range(6))
def test_random_batches_in_any_order_index_as_a_bulk_load_does(seed, write):
    """Batches of any size and any order inside them (the SDK writes children before
    their parents, a file parents first, a collector anything): the grown index has the
    structure, roots and table a bulk load of the same spans has."""
    import json

    rnd = random.Random(seed)
    spans = random_traces(rnd)
    index_bulk, _ = load([write(f"bulk-{seed}.json", doc_json(*spans))])
    order = spans[:]
    rnd.shuffle(order)
    if seed % 3 == 1:  # children before parents, as the SDK exports (spans end first)
        order.sort(key=lambda s: -int(s["startTimeUnixNano"]))
    bodies, at = [], 0
    while at < len(order):
        size = rnd.choice((1, 2, 7, 40, 150))
        bodies.append(json.dumps(doc_json(*order[at:at + size])).encode())
        at += size
    index, report = grow(bodies)
    assert not report.skipped
    assert sdk_data.trace_table(index) == sdk_data.trace_table(index_bulk)
    assert structure(index) == structure(index_bulk)
    assert sdk_data.snapshot(index) == sdk_data.snapshot(index_bulk)
