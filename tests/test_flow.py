"""The async flow (SPEC §8): end-to-end latency, critical path, segments, distributions.

Expected figures are worked out by hand from the spans' recorded times (the sample's
generator table, or the times the test records with the SDK), never by the code under test.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from flow_data import Recorder, by_trace, clone_chain, ids
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from async_trace_tui.cli import main
from async_trace_tui.loading import default_sample, load
from async_trace_tui.views.flow import (
    QUEUE,
    SPAN,
    Flow,
    distribution,
    nearest_rank,
    parse_operation,
    roots_like,
    spans_of_operation,
)

MS = 1_000_000
SAMPLE = default_sample()
FIRST_TRACE = "62f746b484e61ceb95bd447e7184d454"


def find(index, service: str, name: str, trace: str | None = None) -> list[int]:
    return [r for r in range(len(index)) if index.service(r) == service and index.name[r] == name
            and (trace is None or index.trace_id_of(r).hex() == trace)]


def path_of(flow: Flow) -> list[tuple[str, str, str, int]]:
    idx = flow.index
    return [(s.kind, idx.service(s.row), idx.name[s.row], s.duration) for s in flow.segments]


def load_request(tmp_path: Path, req: ExportTraceServiceRequest, name: str = "flow.binpb"):
    path = tmp_path / name
    path.write_bytes(req.SerializeToString())
    index, report = load([str(path)])
    assert not report.skipped
    return index


def row_of(index, span) -> int:
    t, s = ids(span)
    row = index.find(bytes.fromhex(t), bytes.fromhex(s))
    assert row is not None
    return row


# -- the sample's checkout --------------------------------------------------------------

@pytest.fixture(scope="module")
def sample():
    index, _ = load([str(default_sample())])
    return index


def test_sample_checkout_end_to_end_and_critical_path_by_hand(sample):
    # sample_data/generate.py, the first request (t0 = 0 ms): GET /checkout starts at 0,
    # POST /orders (frontend) at 11.0, checkout's POST /orders at 11.0 + 1.3 = 12.3,
    # orders publish at 12.3 + 42.3 = 54.6 and ends at 12.3 + 47.9 = 60.2.
    # The batch consumer starts 1240 ms after the last publish ends (request 5:
    # 5102.3 + 10.1 + 1.3 + 35.8 = 5149.5), at 6389.5; email publish runs 6389.5 + 630.8 =
    # 7020.3 .. 7023.0; email process starts 412.3 ms later, at 7435.3, and ends 242.3 ms
    # after, at 7677.6: the last span of the flow.
    root = find(sample, "frontend", "GET /checkout", FIRST_TRACE)[0]
    flow = Flow(sample, root)
    assert flow.end_to_end == 7_677_600_000
    assert path_of(flow) == [
        (SPAN, "frontend", "GET /checkout", 11_000_000),  # 0 .. 11.0
        (SPAN, "frontend", "POST /orders", 1_300_000),  # 11.0 .. 12.3
        (SPAN, "checkout", "POST /orders", 42_300_000),  # 12.3 .. 54.6
        (SPAN, "checkout", "orders publish", 5_600_000),  # 54.6 .. its end 60.2
        (QUEUE, "payments-worker", "orders process", 6_329_300_000),  # 60.2 .. 6389.5
        (SPAN, "payments-worker", "orders process", 630_800_000),  # .. 7020.3
        (SPAN, "payments-worker", "email publish", 2_700_000),  # .. its end 7023.0
        (QUEUE, "email-worker", "email process", 412_300_000),  # .. 7435.3
        (SPAN, "email-worker", "email process", 242_300_000),  # .. 7677.6
    ]
    assert sum(s.duration for s in flow.segments) == flow.end_to_end
    # the request trace (with inventory's consumer child), the batch, the e-mail
    assert flow.traces == 3
    assert flow.spans == 10 + 7 + 3
    assert flow.services() == ["checkout", "email-worker", "frontend", "inventory",
                               "payments-worker"]
    assert flow.async_hops == 2
    assert flow.errors == 1  # the batch's failed charge (the timeout is request 2's)
    assert flow.skew == 0
    assert flow.queue_wait == 6_329_300_000 + 412_300_000


def test_sample_figures_match_the_files_raw_times(sample):
    """The same end to end from the OTLP/JSON file read with `json`, not the loader."""
    doc = json.loads(SAMPLE.read_text())
    spans = [(rs, sp) for rs in doc["resourceSpans"] for ss in rs["scopeSpans"]
             for sp in ss["spans"]]

    def times(name: str, trace: str | None = None) -> tuple[int, int]:
        (sp,) = [sp for _, sp in spans if sp["name"] == name
                 and (trace is None or sp["traceId"] == trace)]
        return int(sp["startTimeUnixNano"]), int(sp["endTimeUnixNano"])

    start, _ = times("GET /checkout", FIRST_TRACE)
    _, last = times("email process")
    root = find(sample, "frontend", "GET /checkout", FIRST_TRACE)[0]
    assert Flow(sample, root).end_to_end == last - start


def test_batch_consumer_flow_starts_at_the_consumer(sample):
    batch = find(sample, "payments-worker", "orders process")[0]
    flow = Flow(sample, batch)
    assert flow.traces == 2 and flow.spans == 7 + 3 and flow.async_hops == 1
    assert [k for k, *_ in path_of(flow)] == [SPAN, SPAN, QUEUE, SPAN]
    assert flow.end_to_end == 630_800_000 + 2_700_000 + 412_300_000 + 242_300_000


def test_distribution_of_the_checkout_requests_by_hand(sample):
    starts = spans_of_operation(sample, "frontend", "GET /checkout")
    dist = distribution(sample, starts)
    # every request's flow ends with the e-mail at 7677.6 ms; they start at 0, 1310.5,
    # 2874.2, 3650.9 and 5102.3 ms
    ends = [7677.6 - t0 for t0 in (0, 1310.5, 2874.2, 3650.9, 5102.3)]
    expected = sorted(round(e * MS) for e in ends)
    assert dist.flows == 5
    assert sorted(dist.latencies) == expected
    assert dist.p50 == expected[2]  # the ⌈2.5⌉ = 3rd smallest
    assert dist.p95 == expected[4]  # ⌈4.75⌉ = 5th
    assert dist.max == expected[4]
    seg = {(s.service, s.operation, s.kind): s for s in dist.segments}
    mail = seg[("email-worker", "email process", SPAN)]
    assert mail.p50 == mail.p95 == 242_300_000
    assert mail.share == pytest.approx(5 * 242_300_000 / sum(expected))
    # the batch's queue wait: 6389.5 ms minus each publish's end
    publish_ends = [60.2, 1310.5 + 64.8 + 1.3 + 104.1, 2874.2 + 8.9 + 1.3 + 38.2,
                    3650.9 + 25.0 + 1.3 + 259.9, 5149.5]
    waits = sorted(round((6389.5 - e) * MS) for e in publish_ends)
    wait = seg[("payments-worker", "orders process", QUEUE)]
    assert (wait.p50, wait.p95) == (waits[2], waits[4])
    assert dist.segments[0] is wait  # the dominant one
    assert sum(s.share for s in dist.segments) == pytest.approx(1.0)


def test_nearest_rank():
    assert nearest_rank([], 50) == 0
    assert nearest_rank([7], 95) == 7
    values = list(range(1, 21))  # 20 values: p95 is the 19th, p50 the 10th
    assert nearest_rank(values, 95) == 19
    assert nearest_rank(values, 50) == 10
    assert nearest_rank(list(range(1, 101)), 95) == 95


def test_parse_operation_splits_where_the_data_has_the_pair(sample):
    assert parse_operation(sample, "frontend GET /checkout") == ("frontend", "GET /checkout")
    assert parse_operation(sample, "payments-worker orders process") == (
        "payments-worker", "orders process")
    assert parse_operation(sample, "frontend orders process") is None
    assert parse_operation(sample, "nothing") is None


def test_roots_like_a_trace(sample):
    t = sample.trace_index[bytes.fromhex(FIRST_TRACE)]
    roots = roots_like(sample, t)
    assert len(roots) == 5 and all(sample.name[r] == "GET /checkout" for r in roots)


# -- recorded flows -----------------------------------------------------------------------

def test_critical_path_takes_the_cause_that_ended_last(tmp_path):
    rec = Recorder()
    root = rec.open("api", "POST /batch", 0, "server")
    p1 = rec.span("api", "publish a", 1, 10, "producer", parent=root)
    p2 = rec.span("api", "publish b", 2, 30, "producer", parent=root)
    p3 = rec.span("api", "publish c", 3, 20, "producer", parent=root)
    rec.close(root, 40)
    rec.span("worker", "process", 100, 150, "consumer", links=[p1, p2, p3])
    index = load_request(tmp_path, rec.request())
    flow = Flow(index, row_of(index, root))
    # publish b ended last (30 ms): the consumer waited for it, 100 - 30 = 70 ms
    assert path_of(flow) == [
        (SPAN, "api", "POST /batch", 2 * MS),
        (SPAN, "api", "publish b", 28 * MS),
        (QUEUE, "worker", "process", 70 * MS),
        (SPAN, "worker", "process", 50 * MS),
    ]
    assert flow.end_to_end == 150 * MS


def test_equal_ends_take_the_smaller_span_id(tmp_path):
    rec = Recorder(seed=3)
    root = rec.open("api", "root", 0, "server")
    a = rec.span("api", "publish a", 1, 10, "producer", parent=root)
    b = rec.span("api", "publish b", 2, 10, "producer", parent=root)
    rec.close(root, 12)
    rec.span("worker", "process", 20, 30, "consumer", links=[a, b])
    index = load_request(tmp_path, rec.request())
    flow = Flow(index, row_of(index, root))
    smaller = min((a, b), key=lambda s: ids(s)[1])
    assert flow.path[1] == row_of(index, smaller)


def test_last_span_ties_take_the_later_start_then_the_smaller_id(tmp_path):
    rec = Recorder(seed=5)
    root = rec.open("api", "root", 0, "server")
    early = rec.span("api", "early", 1, 50, "client", parent=root)
    late = rec.span("api", "late", 20, 50, "client", parent=root)
    rec.close(root, 50)
    index = load_request(tmp_path, rec.request())
    flow = Flow(index, row_of(index, root))
    assert flow.end_row == row_of(index, late)
    assert row_of(index, early) != flow.end_row
    assert path_of(flow) == [(SPAN, "api", "root", 20 * MS), (SPAN, "api", "late", 30 * MS)]


def test_a_cycle_of_links_ends(tmp_path):
    """A links to B, B links to A (and to itself): the flow holds each once."""
    rec = Recorder(seed=9)
    b = rec.open("svc-b", "b", 10, "consumer")
    a = rec.span("svc-a", "a", 0, 5, "producer", links=[b])
    b.add_link(a.get_span_context())
    b.add_link(b.get_span_context())
    rec.close(b, 40)
    index = load_request(tmp_path, rec.request())
    for start in (a, b):
        flow = Flow(index, row_of(index, start))
        assert flow.spans == 2 and flow.traces == 2
        assert flow.async_hops == 1
        assert set(flow.dist) == {row_of(index, a), row_of(index, b)}
    flow = Flow(index, row_of(index, a))
    assert path_of(flow) == [(SPAN, "svc-a", "a", 5 * MS), (QUEUE, "svc-b", "b", 5 * MS),
                             (SPAN, "svc-b", "b", 30 * MS)]
    # from b: a is in its flow (a links to b) but ends first: the path is b alone
    flow = Flow(index, row_of(index, b))
    assert flow.end_row == row_of(index, b) and flow.end_to_end == 30 * MS


def test_consumer_started_before_its_producer_ended(tmp_path):
    """Negative lag: the queue segment is 0, no segment is negative, the sum holds."""
    rec = Recorder(seed=13)
    root = rec.open("api", "POST /x", 0, "server")
    p = rec.span("api", "publish", 10, 100, "producer", parent=root)
    rec.close(root, 120)
    rec.span("worker", "process", 60, 300, "consumer", links=[p])
    index = load_request(tmp_path, rec.request())
    flow = Flow(index, row_of(index, root))
    assert path_of(flow) == [
        (SPAN, "api", "POST /x", 10 * MS),
        (SPAN, "api", "publish", 50 * MS),  # 10 .. the consumer's start at 60, not 100
        (QUEUE, "worker", "process", 0),
        (SPAN, "worker", "process", 240 * MS),
    ]
    assert all(s.duration >= 0 for s in flow.segments)
    assert sum(s.duration for s in flow.segments) == flow.end_to_end == 300 * MS
    assert flow.skew == 0


def test_skew_counts_steps_that_run_backwards(tmp_path):
    """A child whose clock runs 10 ms behind its parent's: that step is a segment of 0,
    counted in skew; the segments still sum to the end to end."""
    rec = Recorder(seed=17)
    root = rec.open("edge", "GET /", 100, "server")
    skewed = rec.open("backend", "handle", 90, "server", parent=root)  # before its parent
    rec.span("backend", "query", 95, 300, "client", parent=skewed)
    rec.close(skewed, 150)
    rec.close(root, 200)
    index = load_request(tmp_path, rec.request())
    flow = Flow(index, row_of(index, root))
    assert flow.skew == 1
    assert path_of(flow) == [
        (SPAN, "edge", "GET /", 0),  # the step to a span starting before it: 0
        (SPAN, "backend", "handle", 0),  # 95 < 100, where the path's time stands
        (SPAN, "backend", "query", 200 * MS),  # 100 .. 300
    ]
    assert sum(s.duration for s in flow.segments) == flow.end_to_end == 200 * MS


def test_consumer_child_is_an_async_step(tmp_path):
    """A CONSUMER recorded as the producer's child (no link) is an async hop."""
    rec = Recorder(seed=19)
    root = rec.open("api", "POST /x", 0, "server")
    p = rec.open("api", "publish", 5, "producer", parent=root)
    rec.close(p, 8)
    rec.close(root, 10)
    rec.span("worker", "process", 50, 70, "consumer", parent=p)
    index = load_request(tmp_path, rec.request())
    flow = Flow(index, row_of(index, root))
    assert flow.async_hops == 1 and flow.traces == 1
    assert path_of(flow) == [(SPAN, "api", "POST /x", 5 * MS), (SPAN, "api", "publish", 3 * MS),
                             (QUEUE, "worker", "process", 42 * MS),
                             (SPAN, "worker", "process", 20 * MS)]


def three_hop_request() -> tuple[ExportTraceServiceRequest, list[tuple[str, str]]]:
    rec = Recorder(seed=23)
    root = rec.open("shop", "checkout", 0, "server")
    p1 = rec.span("shop", "publish order", 5, 6, "producer", parent=root)
    rec.close(root, 8)
    c1 = rec.open("billing", "bill", 40, "consumer", links=[p1])
    p2 = rec.span("billing", "publish invoice", 45, 47, "producer", parent=c1)
    rec.close(c1, 50)
    c2 = rec.open("mailer", "send", 90, "consumer", links=[p2])
    rec.span("mailer", "smtp", 91, 130, "client", parent=c2, error=True)
    rec.close(c2, 131)
    return rec.request(), [ids(root)]


def test_a_flow_across_three_files(tmp_path):
    req, [(trace_id, span_id)] = three_hop_request()
    parts = by_trace(req)
    assert len(parts) == 3
    paths = []
    for i, part in enumerate(parts):
        path = tmp_path / f"part-{i}.binpb"
        path.write_bytes(part.SerializeToString())
        paths.append(str(path))
    index, report = load(paths)
    assert len(report.files) == 3
    root = index.find(bytes.fromhex(trace_id), bytes.fromhex(span_id))
    flow = Flow(index, root)
    assert (flow.spans, flow.traces, flow.async_hops, flow.errors) == (6, 3, 2, 1)
    assert flow.end_to_end == 131 * MS
    assert path_of(flow) == [
        (SPAN, "shop", "checkout", 5 * MS), (SPAN, "shop", "publish order", 1 * MS),
        (QUEUE, "billing", "bill", 34 * MS), (SPAN, "billing", "bill", 5 * MS),
        (SPAN, "billing", "publish invoice", 2 * MS), (QUEUE, "mailer", "send", 43 * MS),
        (SPAN, "mailer", "send", 41 * MS),
    ]
    # the same from one file
    single = load_request(tmp_path, req)
    one = Flow(single, single.find(bytes.fromhex(trace_id), bytes.fromhex(span_id)))
    assert path_of(one) == path_of(flow)


def test_distribution_counts_zero_where_a_flow_lacks_a_segment(tmp_path):
    rec = Recorder(seed=29)
    for i, slow in enumerate((True, False, False)):
        t = i * 1000
        root = rec.open("api", "GET /", t, "server")
        if slow:
            p = rec.span("api", "publish", t + 1, t + 2, "producer", parent=root)
            rec.close(root, t + 10)
            rec.span("worker", "process", t + 102, t + 110, "consumer", links=[p])
        else:
            rec.close(root, t + 10)
    index = load_request(tmp_path, rec.request())
    dist = distribution(index, spans_of_operation(index, "api", "GET /"))
    assert dist.flows == 3
    assert sorted(dist.latencies) == [10 * MS, 10 * MS, 110 * MS]
    seg = {(s.service, s.operation, s.kind): s for s in dist.segments}
    wait = seg[("worker", "process", QUEUE)]  # 2 .. 102 in the slow flow only
    assert (wait.p50, wait.p95, wait.flows) == (0, 100 * MS, 1)
    assert wait.share == pytest.approx(100 / 130)
    assert wait.tail_share == pytest.approx(100 / 110)  # the p95 flow is the slow one


# -- big flows ----------------------------------------------------------------------------

def chain_template() -> ExportTraceServiceRequest:
    """One trace of 100 spans: a consumer root, a sync chain 40 deep with leaves under it,
    a producer at the bottom; the root links to the producer (a link to the copy before,
    once `clone_chain` copies it)."""
    rec = Recorder(seed=31)
    root = rec.open("hop", "consume", 0, "consumer")
    parent = root
    opened = []
    for depth in range(40):
        span = rec.open("hop", f"step {depth % 5}", 1 + depth * 0.01, "internal", parent=parent)
        opened.append(span)
        parent = span
    for leaf in range(58):
        rec.span("hop", "leaf", 1.5, 2, "client", parent=opened[leaf % 40])
    producer = rec.span("hop", "publish", 2, 3, "producer", parent=opened[-1])
    root.add_link(producer.get_span_context())
    for span in reversed(opened):
        rec.close(span, 3)
    rec.close(root, 4)
    req = rec.request()
    assert sum(len(ss.spans) for rs in req.resource_spans for ss in rs.scope_spans) == 100
    return req


@pytest.fixture(scope="module")
def big_chain(tmp_path_factory):
    """1,000 traces of 100 spans, each trace's root consuming what the one before
    published 10 ms later: one flow of 100,000 spans and 999 async hops."""
    req = clone_chain(chain_template(), 1000, 10 * MS)
    path = tmp_path_factory.mktemp("big") / "chain.binpb"
    path.write_bytes(req.SerializeToString())
    index, _ = load([str(path)])
    return index


def test_a_100k_span_flow(big_chain):
    index = big_chain
    first = min(range(len(index)), key=lambda r: (index.start[r], index.parent[r] >= 0))
    assert index.name[first] == "consume"
    flow = Flow(index, first)
    assert flow.spans == 100_000 and flow.traces == 1000
    assert flow.async_hops == 999
    # the last copy's root ends last: 999 copies later, at 999 * 10 + 4 ms
    assert flow.end_row == max(range(len(index)), key=index.end.__getitem__)
    assert flow.end_to_end == (999 * 10 + 4) * MS
    # per hop: consume, 40 steps, publish, then the queue to the next consume
    assert len(flow.path) == 1000 * 42 - 41
    kinds = [s.kind for s in flow.segments]
    assert kinds.count(QUEUE) == 999
    assert sum(s.duration for s in flow.segments) == flow.end_to_end
    # each queue wait: the next copy's consume starts 10 ms after this one's 0 .. its
    # publish ends at 3 ms: 7 ms
    assert {s.duration for s in flow.segments if s.kind == QUEUE} == {7 * MS}


# -- the command line ---------------------------------------------------------------------

def run_cli(args: list[str], capsys) -> tuple[int, str, str]:
    code = main(args)
    out = capsys.readouterr()
    return code, out.out, out.err


FLOW_KEYS = ["start", "end_to_end_ns", "spans", "traces", "services", "async_hops", "errors",
             "skew", "critical_path"]
SEGMENT_KEYS = ["kind", "trace_id", "span_id", "service", "operation", "duration_ns"]


def test_flow_json_schema_exactly(capsys):
    code, out, _ = run_cli([str(SAMPLE), "--flow", "--json", "--trace", FIRST_TRACE], capsys)
    assert code == 0
    doc = json.loads(out)
    assert list(doc) == FLOW_KEYS
    assert list(doc["start"]) == ["trace_id", "span_id"]
    assert doc["start"]["trace_id"] == FIRST_TRACE
    assert doc["end_to_end_ns"] == 7_677_600_000
    assert (doc["spans"], doc["traces"], doc["async_hops"], doc["errors"], doc["skew"]) == (
        20, 3, 2, 1, 0)
    assert doc["services"] == ["checkout", "email-worker", "frontend", "inventory",
                               "payments-worker"]
    for seg in doc["critical_path"]:
        assert list(seg) == SEGMENT_KEYS
        assert seg["kind"] in ("span", "queue")
        assert isinstance(seg["duration_ns"], int) and seg["duration_ns"] >= 0
        assert len(seg["trace_id"]) == 32 and len(seg["span_id"]) == 16
    assert sum(s["duration_ns"] for s in doc["critical_path"]) == doc["end_to_end_ns"]
    queue = [s for s in doc["critical_path"] if s["kind"] == "queue"]
    # a queue segment carries its effect's ids and names
    assert [(q["service"], q["operation"]) for q in queue] == [
        ("payments-worker", "orders process"), ("email-worker", "email process")]
    assert queue[0]["span_id"] == "fe2fbd720bdcb5d3"  # the batch consumer


def test_flow_op_json_schema_exactly(capsys):
    code, out, _ = run_cli([str(SAMPLE), "--flow", "--op", "frontend GET /checkout", "--json"],
                           capsys)
    assert code == 0
    doc = json.loads(out)
    assert list(doc) == ["flows", "end_to_end_p50_ns", "end_to_end_p95_ns", "end_to_end_max_ns",
                         "segments"]
    assert doc["flows"] == 5
    assert (doc["end_to_end_p50_ns"], doc["end_to_end_p95_ns"], doc["end_to_end_max_ns"]) == (
        4_803_400_000, 7_677_600_000, 7_677_600_000)
    for seg in doc["segments"]:
        assert list(seg) == ["service", "operation", "kind", "p50_ns", "p95_ns", "share"]
        assert isinstance(seg["share"], float) and 0 <= seg["share"] <= 1
        assert isinstance(seg["p50_ns"], int) and isinstance(seg["p95_ns"], int)
    assert {(s["service"], s["operation"], s["kind"]) for s in doc["segments"]} == {
        ("frontend", "GET /checkout", "span"), ("frontend", "POST /orders", "span"),
        ("checkout", "POST /orders", "span"), ("checkout", "orders publish", "span"),
        ("payments-worker", "orders process", "queue"),
        ("payments-worker", "orders process", "span"),
        ("payments-worker", "email publish", "span"),
        ("email-worker", "email process", "queue"), ("email-worker", "email process", "span")}


def test_flow_text_prints_summary_and_path_table(capsys):
    code, out, _ = run_cli([str(SAMPLE), "--flow", "--span", "b80469b84b2d451c"], capsys)
    assert code == 0
    lines = out.splitlines()
    assert lines[1] == ("end to end 7.68 s · 3 traces · 2 async hops · queue wait 6.74 s (88%)")
    table = "\n".join(lines)
    assert "wait for payments-worker · orders process" in table
    row = next(line for line in lines if "wait for email-worker" in line)
    assert row.split()[:2] == ["8", "queue"] and "412.3 ms" in row and "5.4%" in row


def test_flow_op_text(capsys):
    code, out, _ = run_cli([str(SAMPLE), "--flow", "--op", "frontend GET /checkout", "--ascii"],
                           capsys)
    assert code == 0
    assert "5 flows of frontend - GET /checkout" in out
    assert "end to end  p50 4.80 s - p95 7.68 s - max 7.68 s" in out
    assert "dominant segments" in out


def test_flow_usage_errors(capsys):
    code, _, err = run_cli([str(SAMPLE), "--flow", "--op", "frontend nothing"], capsys)
    assert code == 2 and "no span has the service and operation" in err
    code, _, err = run_cli([str(SAMPLE), "--flow", "--span", "00000000000000ff"], capsys)
    assert code == 2 and "no span 00000000000000ff" in err
    with pytest.raises(SystemExit) as e:
        main([str(SAMPLE), "--op", "frontend GET /checkout"])
    assert e.value.code == 2


def test_flow_escapes_span_text(tmp_path):
    rec = Recorder(seed=37)
    root = rec.open("api\x1b[31m", "GET /\u202eevil\x07", 0, "server")
    rec.close(root, 5)
    path = tmp_path / "evil.binpb"
    path.write_bytes(rec.request().SerializeToString())
    script = Path(sys.executable).parent / "trace-tui"
    text = subprocess.run([str(script), str(path), "--flow"], capture_output=True, text=True,
                          check=True).stdout
    assert "\x1b" not in text and "\u202e" not in text and "\x07" not in text
    assert "api\\e[31m" in text
    raw = subprocess.run([str(script), str(path), "--flow", "--json"], capture_output=True,
                         text=True, check=True).stdout
    assert "\x1b" not in raw and "\u202e" not in raw and "\\u202e" in raw
    assert json.loads(raw)["critical_path"][0]["operation"] == "GET /\u202eevil\x07"



def test_flow_op_histogram_of_equal_flows_is_one_row(capsys):
    """One flow (or flows all as long): one histogram row, not ten rows all reading
    `1.29 s – 1.29 s` (slices of a nanosecond)."""
    code, out, _ = run_cli([str(SAMPLE), "--flow", "--op", "payments-worker orders process"],
                           capsys)
    assert code == 0
    rows = [line for line in out.splitlines() if " – " in line]
    assert len(rows) == 1
    assert rows[0].split() == ["1.29", "s", "–", "1.29", "s", "██████████████████████████████",
                               "1"]


def test_one_span_reads_in_the_singular(capsys):
    """A file of one span: `1 span · 1 service`, `loaded 1 span in 1 trace`, never
    `1 spans · 1 services`."""
    one = Path(__file__).parent / "data/corpus/opentelemetry-proto/examples__trace.json"
    code, out, err = run_cli([str(one), "--flow"], capsys)
    assert code == 0
    assert "1 span · 1 service (my.service)" in out
    assert "critical path (1 span, ends with my.service" in out
    assert "loaded 1 span in 1 trace from 1 of 1 file" in err
    assert "the biggest (1 span)" in err
    assert "1 spans" not in out + err and "1 services" not in out
