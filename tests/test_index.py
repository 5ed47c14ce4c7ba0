"""The span index: roots, orphans, children, links both ways, empty ids, trace summaries."""

from __future__ import annotations

import pytest
import sdk_data
from sdk_data import (
    TRACE_A,
    TRACE_B,
    TRACE_C,
    doc_json,
    link_json,
    resources_json,
    sid,
    span_json,
    to_protobuf,
)

from async_trace_tui.loading import load

A, B, C = (bytes.fromhex(t) for t in (TRACE_A, TRACE_B, TRACE_C))


def S(n: int) -> bytes:
    return bytes.fromhex(sid(n))


def load_doc(write, doc, name="t.json"):
    index, report = load([write(name, doc)])
    assert not report.failed_files, report.lines()
    return index, report


def rows_named(index, *names):
    return [index.name.index(n) for n in names]


# -- a small hand-made world -----------------------------------------------------------------
#
# trace A: a-root (1) ─┬─ a-late (3, starts 300)
#                      ├─ a-early (2, starts 200) ── a-grandchild (4)
#                      └─ a-mid (5, starts 250), ERROR
#          a-orphan (6): parent 99 not loaded
#          a-producer (7), child of a-early
# trace B: b-root (1!) (the same span id as a-root, in another trace), b-child (2!) whose
#          parent 1 must resolve to b-root, not a-root; b-consumer (8) links to a-producer,
#          to a-root (trace A), to itself's trace root b-root (same trace), to a span never
#          loaded (trace C)
# trace C: not loaded at all.

WORLD = resources_json(
    ("svc-a", [
        span_json(sid(3), "a-late", TRACE_A, parent=sid(1), start=300, end=400),
        span_json(sid(1), "a-root", TRACE_A, start=100, end=1_000),
        span_json(sid(2), "a-early", TRACE_A, parent=sid(1), start=200, end=500),
        span_json(sid(4), "a-grandchild", TRACE_A, parent=sid(2), start=210, end=220),
        span_json(sid(5), "a-mid", TRACE_A, parent=sid(1), start=250, end=260,
                  status={"code": 2, "message": "boom"}),
        span_json(sid(6), "a-orphan", TRACE_A, parent=sid(99), start=50, end=60),
        span_json(sid(7), "a-producer", TRACE_A, parent=sid(2), kind=4, start=230, end=240),
    ]),
    ("svc-b", [
        span_json(sid(1), "b-root", TRACE_B, start=2_000, end=3_000),
        span_json(sid(2), "b-child", TRACE_B, parent=sid(1), start=2_100, end=2_200),
        span_json(sid(8), "b-consumer", TRACE_B, parent=sid(1), kind=5, start=2_300,
                  end=2_900, links=[
                      link_json(TRACE_A, sid(7), role="producer"),
                      link_json(TRACE_A, sid(1), role="request"),
                      link_json(TRACE_B, sid(1), role="same trace"),
                      link_json(TRACE_C, sid(1), role="not loaded"),
                  ]),
    ]),
)


@pytest.fixture
def world(write):
    return load_doc(write, WORLD)[0]


def test_find_and_find_span(world):
    ix = world
    a_root, b_root = rows_named(ix, "a-root", "b-root")
    assert ix.find(A, S(1)) == a_root
    assert ix.find(B, S(1)) == b_root
    assert ix.find(C, S(1)) is None  # trace not loaded
    assert ix.find(A, S(8)) is None  # span in another trace
    assert sorted(ix.find_span(S(1))) == sorted([a_root, b_root])
    assert ix.find_span(S(99)) == []
    assert ix.find(A, b"") is None and ix.find(b"", S(1)) is None
    assert ix.find_span(b"") == []


def test_same_span_id_in_two_traces_resolves_parents_within_each_trace(world):
    ix = world
    a_root, b_root, b_child, a_early = rows_named(ix, "a-root", "b-root", "b-child", "a-early")
    assert ix.parent[b_child] == b_root
    assert ix.parent[a_early] == a_root
    assert b_child in ix.children(b_root) and b_child not in ix.children(a_root)
    assert a_early in ix.children(a_root) and a_early not in ix.children(b_root)
    # a-grandchild's parent id (sid 2) exists in both traces too
    [grandchild] = rows_named(ix, "a-grandchild")
    assert ix.parent[grandchild] == a_early


def test_roots_and_orphans(world):
    ix = world
    a_root, a_orphan, b_root = rows_named(ix, "a-root", "a-orphan", "b-root")
    ta, tb = ix.trace[a_root], ix.trace[b_root]
    # the orphan counts among the roots (it has no loaded parent), ordered by start
    assert ix.roots(ta) == [a_orphan, a_root]
    assert ix.roots(tb) == [b_root]
    assert ix.is_orphan(a_orphan) and ix.parent[a_orphan] == -1
    assert not ix.is_orphan(a_root)
    assert not any(ix.is_orphan(r) for r in range(len(ix)) if r != a_orphan)
    # the trace's root is the true root, even though the orphan starts earlier
    assert ix.traces[ta].root == a_root


def test_trace_of_orphans_only_picks_the_earliest(write):
    ix, _ = load_doc(write, doc_json(
        span_json(sid(1), "late orphan", parent=sid(50), start=500, end=600),
        span_json(sid(2), "early orphan", parent=sid(51), start=100, end=200),
    ))
    assert ix.traces[0].root == ix.name.index("early orphan")
    assert all(ix.is_orphan(r) for r in range(2))


def test_children_are_ordered_by_start(world):
    ix = world
    a_root, a_early, a_mid, a_late, grandchild, producer = rows_named(
        ix, "a-root", "a-early", "a-mid", "a-late", "a-grandchild", "a-producer")
    assert ix.children(a_root) == [a_early, a_mid, a_late]
    assert ix.children(a_early) == [grandchild, producer]
    assert ix.children(a_late) == []


def test_spans_of_a_trace(world):
    ix = world
    [b_root] = rows_named(ix, "b-root")
    names = sorted(ix.name[r] for r in ix.spans_of(ix.trace[b_root]))
    assert names == ["b-child", "b-consumer", "b-root"]


def test_links_resolve_across_traces_both_ways(world):
    ix = world
    consumer, producer, a_root, b_root = rows_named(
        ix, "b-consumer", "a-producer", "a-root", "b-root")
    assert ix.links_of(consumer) == [
        (A, S(7), producer),
        (A, S(1), a_root),
        (B, S(1), b_root),    # a link into the span's own trace
        (C, S(1), None),      # a span never loaded: kept, target None
    ]
    assert ix.linked_from(producer) == [consumer]
    assert ix.linked_from(a_root) == [consumer]
    assert ix.linked_from(b_root) == [consumer]
    assert ix.linked_from(consumer) == []
    assert ix.links_of(producer) == []
    roles = [lk.attributes["role"] for lk in ix.detail(consumer).links]
    assert roles == ["producer", "request", "same trace", "not loaded"]


def test_links_resolve_to_spans_loaded_from_another_file(write):
    p1 = write("first.json", doc_json(span_json(sid(1), "consumer", TRACE_B, kind=5,
                                                links=[link_json(TRACE_A, sid(2))])))
    p2 = write("second.json", doc_json(span_json(sid(2), "producer", TRACE_A, kind=4)))
    for order in ([p1, p2], [p2, p1]):
        ix, _ = load(order)
        consumer, producer = rows_named(ix, "consumer", "producer")
        assert ix.links_of(consumer) == [(A, S(2), producer)]
        assert ix.linked_from(producer) == [consumer]


def test_duplicate_span_first_stands(write):
    ix, _ = load_doc(write, doc_json(
        span_json(sid(1), "root", start=0, end=100),
        span_json(sid(2), "first copy", parent=sid(1), start=10, end=20),
        span_json(sid(2), "second copy", parent=sid(1), start=30, end=40),
        span_json(sid(3), "child of the copy", parent=sid(2), start=11, end=12),
        span_json(sid(4), "linker", start=50, end=60, links=[link_json(TRACE_A, sid(2))]),
    ))
    first, child, linker = rows_named(ix, "first copy", "child of the copy", "linker")
    assert ix.find(A, S(2)) == first
    assert ix.find_span(S(2)) == [first]
    assert ix.parent[child] == first
    assert ix.links_of(linker) == [(A, S(2), first)]
    assert ix.linked_from(first) == [linker]


def test_duplicate_span_across_files_first_file_stands(write):
    a = write("a.json", doc_json(span_json(sid(1), "from a")))
    b = write("b.json", doc_json(span_json(sid(1), "from b")))
    ix, _ = load([a, b])
    assert ix.name[ix.find(A, S(1))] == "from a"
    ix, _ = load([b, a])
    assert ix.name[ix.find(A, S(1))] == "from b"


def test_span_id_reused_in_three_traces(write):
    ix, _ = load_doc(write, doc_json(
        span_json(sid(1), "in a", TRACE_A),
        span_json(sid(1), "in b", TRACE_B),
        span_json(sid(1), "in c", TRACE_C),
        span_json(sid(2), "child in c", TRACE_C, parent=sid(1)),
        span_json(sid(3), "links", TRACE_A, links=[link_json(TRACE_C, sid(1)),
                                                   link_json(TRACE_B, sid(1))]),
    ))
    in_a, in_b, in_c, child_c, links = rows_named(ix, "in a", "in b", "in c", "child in c",
                                                  "links")
    assert (ix.find(A, S(1)), ix.find(B, S(1)), ix.find(C, S(1))) == (in_a, in_b, in_c)
    assert sorted(ix.find_span(S(1))) == sorted([in_a, in_b, in_c])
    assert ix.parent[child_c] == in_c
    assert [t for *_, t in ix.links_of(links)] == [in_c, in_b]


def test_self_parent_is_not_a_cycle_of_one(write):
    ix, _ = load_doc(write, doc_json(span_json(sid(1), "me", parent=sid(1))))
    assert ix.parent[0] == -1 and ix.children(0) == []


def test_empty_ids_never_index_or_resolve(write):
    ix, report = load_doc(write, doc_json(
        span_json("", "no id"),
        span_json(sid(1), "real", parent=""),
        span_json(sid(2), "linker", links=[link_json("", ""), link_json(TRACE_A, ""),
                                           link_json("", sid(1))]),
    ))
    assert sorted(ix.name) == ["linker", "real"]
    assert ix.find_span(b"") == [] and ix.find(A, b"") is None
    linker = ix.name.index("linker")
    assert ix.links_of(linker) == []
    assert ix.linked_from(ix.name.index("real")) == []
    assert report.skipped == {"spans with an empty or malformed id": 1,
                              "links with an empty or malformed id": 3}
    assert ix.traces[0].links_out == 0 and ix.traces[0].links_in == 0


# -- trace summaries (SPEC §5: the Traces table) ---------------------------------------------

def test_trace_summaries(world):
    ix = world
    a_root, b_root = rows_named(ix, "a-root", "b-root")
    ta, tb = ix.traces[ix.trace[a_root]], ix.traces[ix.trace[b_root]]
    assert ta.trace_id == A and tb.trace_id == B
    # start: the earliest span (the orphan, at 50); end: the latest end (a-root's 1000)
    assert (ta.start, ta.end, ta.duration) == (50, 1_000, 950)
    assert (tb.start, tb.end, tb.duration) == (2_000, 3_000, 1_000)
    assert (ta.spans, tb.spans) == (7, 3)
    assert (ta.errors, tb.errors) == (1, 0)
    assert (ta.root, tb.root) == (a_root, b_root)
    # links_out: links with valid ids carried by the trace's spans, resolved or not (4);
    # links_in: links from any loaded trace that resolve to a span of this trace
    assert (ta.links_out, tb.links_out) == (0, 4)
    assert (ta.links_in, tb.links_in) == (2, 1)
    assert sum(s.links_in for s in ix.traces) == 3  # the 4th link does not resolve


def test_summaries_of_the_sdk_scenario(sdk_request, write):
    """Computed by hand from the scenario in sdk_data.build_spans()."""
    ix, _ = load([write("r.binpb", to_protobuf(sdk_request))])
    by_root = {ix.name[s.root] + "@" + ix.service(s.root): s for s in ix.traces
               if ix.name[s.root] != "GET /checkout"}
    t1, t2 = sorted((s for s in ix.traces if ix.name[s.root] == "GET /checkout"),
                    key=lambda s: s.start)
    t3 = by_root["orders process@payments-worker"]
    t4 = by_root["email process@email-worker"]
    ms = sdk_data.ms
    assert [(s.start, s.end) for s in (t1, t2, t3, t4)] == [
        (ms(0), ms(50)), (ms(100), ms(150)), (ms(200), ms(300)), (ms(400), ms(420))]
    assert [s.spans for s in (t1, t2, t3, t4)] == [7, 2, 6, 2]
    assert [s.errors for s in (t1, t2, t3, t4)] == [0, 0, 1, 0]
    # t3's consumer links to P1 (t1) and P2 (t2); t4's consumer links to P3 (t3) and to
    # a span not loaded; t4's render email links to t4's own root
    assert [s.links_out for s in (t1, t2, t3, t4)] == [0, 0, 2, 3]
    assert [s.links_in for s in (t1, t2, t3, t4)] == [1, 1, 1, 1]


def test_service_resource_and_scope_are_shared(world):
    ix = world
    a_rows = [r for r in range(len(ix)) if ix.name[r].startswith("a-")]
    assert {ix.service(r) for r in a_rows} == {"svc-a"}
    assert len({id(ix.resource(r)) for r in a_rows}) == 1
    assert ix.resource(a_rows[0]).attributes == {"service.name": "svc-a"}
    assert ix.scope(a_rows[0]).name == "test"


def test_missing_service_name_is_unknown_service(write):
    ix, _ = load_doc(write, doc_json(span_json(sid(1)), service=None))
    assert ix.service(0) == "unknown_service"


def test_detail_of_each_span_after_many_blocks(write):
    """Details come back from the right span across resources, scopes and files."""
    docs = [resources_json(*[(f"svc{i}-{j}", [
        span_json(sid(10 * j + k), f"s{i}.{j}.{k}", trace_id=f"{i + 1:032x}",
                  attributes=sdk_data.attrs_json(me=f"s{i}.{j}.{k}"))
        for k in range(3)]) for j in range(3)]) for i in range(2)]
    paths = [write(f"f{i}.json", d) for i, d in enumerate(docs)]
    paths.append(write("f.binpb", to_protobuf(_json_to_proto(docs[0], trace_shift=5))))
    ix, _ = load(paths)
    assert len(ix) == 27
    for r in range(len(ix)):
        assert ix.detail(r).attributes == {"me": ix.name[r].removeprefix("p:")}
        assert ix.service(r).startswith("svc")


def _json_to_proto(doc, trace_shift):
    """The same spans as protobuf, in other traces, names prefixed with 'p:'."""
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
        ExportTraceServiceRequest,
    )

    req = ExportTraceServiceRequest()
    for rs_doc in doc["resourceSpans"]:
        rs = req.resource_spans.add()
        kv = rs.resource.attributes.add(key="service.name")
        kv.value.string_value = rs_doc["resource"]["attributes"][0]["value"]["stringValue"]
        for ss_doc in rs_doc["scopeSpans"]:
            ss = rs.scope_spans.add()
            for sp in ss_doc["spans"]:
                p = ss.spans.add(trace_id=(int(sp["traceId"], 16) + trace_shift).to_bytes(16),
                                 span_id=bytes.fromhex(sp["spanId"]), name="p:" + sp["name"])
                p.attributes.add(key="me").value.string_value = sp["name"]
    return req
