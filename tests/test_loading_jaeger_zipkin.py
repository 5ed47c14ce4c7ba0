"""Jaeger JSON and Zipkin v2 load to the same spans, calls and async edges as OTLP.

The bundled sample is shipped three ways (async_trace_tui/sample/): OTLP as the SDK wrote it,
Jaeger as Jaeger's own OTLP->Jaeger translation serves it, Zipkin as OpenTelemetry's Zipkin
exporter writes it. Every other Jaeger/Zipkin shape is made here from those files, or is a
real file from the Jaeger, Jaeger UI and Zipkin repositories (tests/data/formats/).
"""

from __future__ import annotations

import base64
import copy
import gzip
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sdk_data import snapshot

from async_trace_tui.cli import main
from async_trace_tui.loading import load
from async_trace_tui.model import (
    KIND_CLIENT,
    KIND_CONSUMER,
    KIND_INTERNAL,
    KIND_PRODUCER,
    KIND_SERVER,
    STATUS_ERROR,
    STATUS_OK,
    STATUS_UNSET,
)

REPO = Path(__file__).resolve().parent.parent
SAMPLE = REPO / "async_trace_tui" / "sample"
OTLP = SAMPLE / "checkout-async.otlp.json"
JAEGER = SAMPLE / "checkout-async.jaeger.json"
ZIPKIN = SAMPLE / "checkout-async.zipkin.json"
DATA = Path(__file__).resolve().parent / "data" / "formats"


def load_ok(*paths):
    index, report = load([str(p) for p in paths])
    assert not report.failed_files and not report.skipped and not report.warnings, report.lines()
    return index, report


@pytest.fixture(scope="module")
def otlp():
    return load_ok(OTLP)[0]


@pytest.fixture(scope="module")
def jaeger():
    return load_ok(JAEGER)


@pytest.fixture(scope="module")
def zipkin():
    return load_ok(ZIPKIN)


def rows_by_key(index):
    return {(index.trace_id_of(r), index.span_id[r]): r for r in range(len(index))}


def find(index, service, name, nth=0):
    rows = sorted((r for r in range(len(index))
                   if index.service(r) == service and index.name[r] == name),
                  key=index.start.__getitem__)
    return rows[nth]


def view_json(capsys, path, span_id):
    assert main([str(path), "--json", "--span", span_id.hex(), "--depth", "1",
                 "--group-by", "none"]) == 0
    return json.loads(capsys.readouterr().out)


def nodes(node):
    stack = [node]
    while stack:
        n = stack.pop()
        yield n
        stack.extend(n["children"])


# -- the Jaeger sample --------------------------------------------------------------------

def test_jaeger_sample_is_the_otlp_sample(otlp, jaeger):
    index, report = jaeger
    assert report.files[0].format == "Jaeger JSON"
    assert (report.spans, report.traces) == (49, 7)
    # Ids, parents, names, kinds, status, times, services, resources, scopes, links: equal.
    assert snapshot(index, details=False) == snapshot(otlp, details=False)
    by_key = rows_by_key(otlp)
    for r in range(len(index)):
        o = by_key[(index.trace_id_of(r), index.span_id[r])]
        d, od = index.detail(r), otlp.detail(o)
        assert d.attributes == od.attributes  # typed: ints, bools, strings
        assert d.status_message == od.status_message
        assert [(e.name, e.time_ns, e.attributes) for e in d.events] == \
            [(e.name, e.time_ns, e.attributes) for e in od.events]
        # Jaeger references keep no link attributes: only the reference type survives.
        assert [(lk.trace_id, lk.span_id, lk.attributes) for lk in d.links] == \
            [(lk.trace_id, lk.span_id, {"opentracing.ref_type": "follows_from"}) for lk in od.links]
        assert index.shape(r) == otlp.shape(o)


def test_jaeger_follows_from_is_an_async_edge_with_its_lag(jaeger, capsys):
    """The batch consumer's FOLLOWS_FROM references to the five producers: from a producer,
    the consumer is an async-down child, with consumer start - producer end as its lag."""
    index, _ = jaeger
    producer = find(index, "checkout", "orders publish")
    consumer = find(index, "payments-worker", "orders process")
    assert index.trace[producer] != index.trace[consumer]
    assert [t for _, _, t in index.links_of(consumer)].count(producer) == 1
    view = view_json(capsys, JAEGER, index.span_id[producer])
    [hop] = [n for n in nodes(view["root"]) if n["operation"] == "orders process"
             and n["service"] == "payments-worker"]
    assert hop["edge"] == "async-down" and hop["async_trace"]
    assert hop["lag_ns"] == index.start[consumer] - index.end[producer] > 1_000_000_000


def test_jaeger_sample_status_kind_and_events(jaeger):
    index, _ = jaeger
    charge = find(index, "payments-worker", "charge card")  # the failed attempt
    assert index.kind[charge] == KIND_CLIENT and index.status[charge] == STATUS_ERROR
    d = index.detail(charge)
    assert d.status_message == "gateway returned 503 Service Unavailable"
    assert not {"error", "otel.status_code", "otel.status_description", "span.kind",
                "otel.scope.name"} & set(d.attributes)
    [ev] = d.events
    assert ev.name == "exception"
    assert ev.attributes["exception.type"] == "payments.gateway.PaymentGatewayError"
    mail = find(index, "email-worker", "email process")
    assert index.status[mail] == STATUS_OK and index.kind[mail] == KIND_CONSUMER
    assert index.scope(mail).name == "opentelemetry.instrumentation.pika"
    assert index.resource(mail).attributes["host.name"].startswith("email-worker-")


# -- the Zipkin sample --------------------------------------------------------------------

def test_zipkin_sample_has_the_otlp_sample_spans(otlp, zipkin):
    index, report = zipkin
    assert report.files[0].format == "Zipkin v2 JSON"
    assert (report.spans, report.traces) == (49, 7)
    by_key = rows_by_key(otlp)
    assert set(rows_by_key(index)) == set(by_key)
    for r in range(len(index)):
        o = by_key[(index.trace_id_of(r), index.span_id[r])]
        assert index.parent_id[r] == otlp.parent_id[o]
        assert (index.name[r], index.start[r], index.end[r]) == (otlp.name[o], otlp.start[o], otlp.end[o])
        expected_kind = otlp.kind[o]
        assert index.kind[r] == expected_kind
        assert index.status[r] == otlp.status[o]
        assert index.service(r) == otlp.service(o)
        # Zipkin tags are strings; the exporter copies the resource into every span.
        assert index.resource(r).attributes == {k: str(v) for k, v in otlp.resource(o).attributes.items()}
        assert (index.scope(r).name, index.scope(r).version) == \
            (otlp.scope(o).name, otlp.scope(o).version)
        d, od = index.detail(r), otlp.detail(o)
        assert d.attributes == {k: str(v).lower() if isinstance(v, bool) else str(v)
                                for k, v in od.attributes.items()}
        assert d.status_message == od.status_message
        assert [(e.name, e.time_ns) for e in d.events] == [(e.name, e.time_ns) for e in od.events]
        assert not index.links_of(r)  # Zipkin has no links
    assert {index.kind[r] for r in range(len(index))} == {
        KIND_INTERNAL, KIND_SERVER, KIND_CLIENT, KIND_PRODUCER, KIND_CONSUMER}


def test_zipkin_producer_and_consumer_in_one_trace_are_an_async_edge(zipkin, capsys):
    index, _ = zipkin
    producer = find(index, "checkout", "orders publish")  # the first checkout's
    consumer = find(index, "inventory", "orders process")
    assert index.parent[consumer] == producer
    view = view_json(capsys, ZIPKIN, index.span_id[producer])
    [hop] = [n for n in nodes(view["root"]) if n["service"] == "inventory"
             and n["operation"] == "orders process"]
    assert hop["edge"] == "async-down" and not hop["async_trace"]  # its own trace
    assert hop["lag_ns"] == index.start[consumer] - index.end[producer] > 0


def test_zipkin_error_tag_is_the_status_message(zipkin):
    index, _ = zipkin
    reco = find(index, "frontend", "GET /recommendations")
    assert index.status[reco] == STATUS_ERROR
    assert index.detail(reco).status_message == "read timed out after 50 ms"
    [ev] = index.detail(reco).events
    assert ev.name == "exception" and ev.attributes["exception.type"] == "TimeoutError"
    render = find(index, "frontend", "render cart")
    assert index.kind[render] == KIND_INTERNAL and index.status[render] == STATUS_UNSET


# -- every Jaeger shape the issue lists, made from the sample -------------------------------

def _jaeger_doc():
    return json.loads(JAEGER.read_text())


def _embedded(trace):
    """The UI's own span model: each span carries its process."""
    spans = copy.deepcopy(trace["spans"])
    for sp in spans:
        sp["process"] = trace["processes"][sp.pop("processID")]
    return spans


def _b64(hex_id, size):
    return base64.b64encode(bytes.fromhex(hex_id.rjust(2 * size, "0"))).decode()


def _rfc3339(us):
    t = datetime.fromtimestamp(us // 1_000_000, UTC)
    return t.strftime("%Y-%m-%dT%H:%M:%S") + f".{us % 1_000_000:06d}Z"


def _v2_tag(tag):
    """api_v2 KeyValue as protobuf's JSON mapping writes it (vType STRING is the default)."""
    kind, value = tag["type"], tag["value"]
    if kind == "string":
        return {"key": tag["key"], "vStr": value}
    if kind == "bool":
        return {"key": tag["key"], "vType": "BOOL", "vBool": value}
    if kind == "int64":
        return {"key": tag["key"], "vType": "INT64", "vInt64": str(value)}
    if kind == "float64":
        return {"key": tag["key"], "vType": "FLOAT64", "vFloat64": value}
    return {"key": tag["key"], "vType": "BINARY", "vBinary": value}


def _api_v2(trace):
    """The api_v2 gRPC-gateway JSON of a trace: {"result": {"spans": [...]}}."""
    spans = []
    for sp in trace["spans"]:
        refs = []
        for ref in sp["references"]:
            r = {"traceId": _b64(ref["traceID"], 16), "spanId": _b64(ref["spanID"], 8)}
            if ref["refType"] != "CHILD_OF":
                r["refType"] = ref["refType"]  # CHILD_OF is the enum's zero: left out
            refs.append(r)
        process = trace["processes"][sp["processID"]]
        out = {"traceId": _b64(sp["traceID"], 16), "spanId": _b64(sp["spanID"], 8),
               "operationName": sp["operationName"], "references": refs,
               "startTime": _rfc3339(sp["startTime"]),
               "duration": f"{sp['duration'] // 1_000_000}.{sp['duration'] % 1_000_000:06d}s",
               "tags": [_v2_tag(t) for t in sp["tags"]],
               "logs": [{"timestamp": _rfc3339(log["timestamp"]),
                         "fields": [_v2_tag(t) for t in log["fields"]]} for log in sp["logs"]],
               "process": {"serviceName": process["serviceName"],
                           "tags": [_v2_tag(t) for t in process["tags"]]}}
        if not refs:
            del out["references"]
        spans.append(out)
    return {"result": {"spans": spans}}


def _lines(*docs):
    return "".join(json.dumps(d) + "\n" for d in docs)


JAEGER_SHAPES = {
    "data of one trace": lambda doc: {"data": doc["data"][0]},
    "bare trace": lambda doc: doc["data"][0],
    "list of traces": lambda doc: doc["data"],
    "list of UI spans with their process": lambda doc: _embedded(doc["data"][0]),
    "api_v2 result": lambda doc: _api_v2(doc["data"][0]),
    "JSON Lines of traces": lambda doc: _lines(*doc["data"][:1]),
    "JSON Lines of data envelopes": lambda doc: _lines({"data": doc["data"][:1]}),
    "JSON Lines of api_v2 results": lambda doc: _lines(_api_v2(doc["data"][0])),
}


@pytest.fixture(scope="module")
def first_trace_snapshot(jaeger, tmp_path_factory):
    """The first checkout trace, as the query API serves it alone."""
    index, _ = jaeger
    t0 = index.trace_ids[index.trace[find(index, "frontend", "GET /checkout")]].hex()
    doc = _jaeger_doc()
    doc["data"] = [tr for tr in doc["data"] if tr["traceID"] == t0]
    path = tmp_path_factory.mktemp("jaeger") / "one.json"
    path.write_text(json.dumps(doc))
    alone, _ = load_ok(path)
    assert len(alone) == 10
    return t0, snapshot(alone)


@pytest.mark.parametrize("shape", list(JAEGER_SHAPES))
def test_every_jaeger_shape_loads_the_same_spans(shape, first_trace_snapshot, write):
    trace_id, expected = first_trace_snapshot
    doc = _jaeger_doc()
    doc["data"] = [tr for tr in doc["data"] if tr["traceID"] == trace_id]
    made = JAEGER_SHAPES[shape](doc)
    path = write("trace.json", made if isinstance(made, str) else json.dumps(made, indent=1))
    index, report = load_ok(path)
    assert report.files[0].format.startswith("Jaeger JSON")
    assert snapshot(index) == expected


def test_jaeger_gzipped_and_in_a_directory_with_otlp(tmp_path, otlp):
    (tmp_path / "a.json.gz").write_bytes(gzip.compress(JAEGER.read_bytes()))
    (tmp_path / "b.json").write_bytes(OTLP.read_bytes())
    index, report = load([str(tmp_path)])
    assert [f.format for f in report.files] == ["Jaeger JSON", "OTLP/JSON"]
    # The same spans in two formats: the second copy is counted as duplicates.
    assert report.spans == 49 and report.traces == 7
    assert report.skipped == {"duplicate spans (already loaded)": 49}


# -- Zipkin shapes ----------------------------------------------------------------------------

ZIPKIN_SHAPES = {
    "array of spans": lambda traces: [sp for tr in traces for sp in tr],
    "JSON Lines of arrays": lambda traces: _lines(*traces),
    "JSON Lines of spans": lambda traces: _lines(*(sp for tr in traces for sp in tr)),
}


@pytest.mark.parametrize("shape", list(ZIPKIN_SHAPES))
def test_every_zipkin_shape_loads_the_same_spans(shape, zipkin, write):
    made = ZIPKIN_SHAPES[shape](json.loads(ZIPKIN.read_text()))
    path = write("z.json", made if isinstance(made, str) else json.dumps(made))
    index, report = load_ok(path)
    assert report.files[0].format.startswith("Zipkin v2 JSON")
    assert snapshot(index) == snapshot(zipkin[0])


def test_zipkin_64_bit_trace_ids_are_left_padded(write):
    span = {"traceId": "1e223ff1f80f1c69", "id": "43210ae0c10d1234", "name": "x",
            "timestamp": 1470150004008762, "duration": 5, "localEndpoint": {"serviceName": "s"}}
    index, _ = load_ok(write("z.json", [span]))
    assert index.trace_ids == [bytes.fromhex("00000000000000001e223ff1f80f1c69")]
    assert index.kind[0] == KIND_INTERNAL and index.service(0) == "s"


# -- real files from the Jaeger, Jaeger UI and Zipkin repositories ------------------------------

def test_zipkin_lens_shared_server_span_is_kept_under_a_derived_id():
    """zipkin-lens skew.json: the server half of an RPC shares its client's span id."""
    index, _ = load_ok(DATA / "zipkin__zipkin-lens__testdata__skew.json")
    assert len(index) == 4
    client = find(index, "servicea", "post")
    server = find(index, "serviceb", "post")
    assert index.kind[client] == KIND_CLIENT and index.kind[server] == KIND_SERVER
    assert index.span_id[client] == bytes.fromhex("74280ae0c10d8062")
    # Jaeger's deduper: the trace's highest span id + 1, and the client as its parent.
    assert index.span_id[server] == bytes.fromhex("bf396325699c84c0")
    assert index.parent[server] == client
    child = find(index, "serviceb", "async")  # the server's own child follows it
    assert index.parent[child] == server
    assert index.parent[client] == find(index, "servicea", "get")


def test_jaeger_ui_second_child_of_reference_is_a_link():
    """jaeger-ui multi-reference: a span with two CHILD_OF references has the first as its
    parent; the second becomes a link (async edge), as the Collector translates it."""
    index, _ = load_ok(DATA / "jaeger-ui__packages__jaeger-ui__src__model__trace-contract__"
                              "multi-reference.legacy.json")
    linked = find(index, "serviceName", "linked")
    assert index.name[index.parent[linked]] == "first"
    [(_, _, target)] = index.links_of(linked)
    assert index.name[target] == "second"
    [lk] = index.detail(linked).links
    assert lk.attributes == {"opentracing.ref_type": "child_of"}


def test_jaeger_ui_follows_from_a_span_not_in_the_file_is_a_missing_link():
    index, _ = load_ok(DATA / "jaeger-ui__packages__jaeger-ui__src__model__trace-contract__"
                              "follows-from-orphan.legacy.json")
    orphan = find(index, "serviceName", "followsOrphanOp")
    assert index.parent[orphan] == -1 and not index.parent_id[orphan]
    [(tid, sid, target)] = index.links_of(orphan)
    assert sid == bytes.fromhex("aaaaaaaaaaaaaaaa") and target is None


@pytest.mark.parametrize("name", ["jaeger__model__converter__json__fixtures__ui_01.json",
                                  "jaeger__model__converter__json__fixtures__domain_01.json"])
def test_jaeger_converter_fixtures(name, write):
    """Jaeger's JSON converter fixtures: UI JSON and the domain model's JSON (hex ids
    without leading zeros, RFC 3339 times, `5000ns` durations, vType tags, per-span
    process) of the same trace load the same."""
    index, report = load([str(DATA / name)])
    # Two spans share span id 2: the second is dropped as a duplicate, and said so.
    assert len(index) == 4 and report.skipped == {"duplicate spans (already loaded)": 1}
    assert index.trace_ids == [bytes.fromhex("1".rjust(32, "0"))]
    ref = find(index, "service-y", "reference-test")
    # Its first CHILD_OF names another trace: a link; the second is the parent.
    assert index.parent_id[ref] == bytes.fromhex("2".rjust(16, "0"))
    assert index.name[index.parent[ref]] == "test-general-conversion"
    assert [(t.hex()[-2:], s.hex()[-2:]) for t, s, _ in index.links_of(ref)] == \
        [("ff", "ff"), ("01", "02")]
    assert [lk.attributes["opentracing.ref_type"] for lk in index.detail(ref).links] == \
        ["child_of", "follows_from"]
    events = index.detail(find(index, "service-x", "test-general-conversion")).events
    assert [(e.name, e.attributes) for e in events] == [("some-event", {}), ("", {"x": "y"})]
    assert index.end[ref] - index.start[ref] == 5_000
    assert {index.start[r] % 1_000_000_000 for r in range(len(index))} <= {639875000, 639875139}

    # The dropped span's typed tags, with its id made unique.
    doc = json.loads((DATA / name).read_text())
    id_key = "spanID" if "ui_01" in name else "spanId"
    doc["spans"][1][id_key] = "6"
    index, _ = load_ok(write("unique.json", doc))
    tagged = find(index, "service-x", "some-operation")
    assert index.status[tagged] == STATUS_ERROR
    assert index.detail(tagged).attributes == {
        "peer.service": "service-y", "peer.ipv4": 23456, "temperature": 72.5,
        "blob": b"\x00\x000\x39"}


def test_jaeger_query_api_answer_with_a_duplicate_span():
    index, report = load([str(DATA / "jaeger__cmd__jaeger__internal__extension__jaegerquery__"
                                     "internal__fixture__otlp2jaeger-out.json")])
    assert len(index) == 1 and report.skipped == {"duplicate spans (already loaded)": 1}
    row = 0
    assert index.kind[row] == KIND_SERVER and index.service(row) == "telemetrygen"
    assert index.scope(row).name == "telemetrygen"
    assert index.detail(row).attributes == {"net.peer.ip": "1.2.3.4",
                                            "peer.service": "telemetrygen-client"}
    assert index.parent_id[row] == bytes.fromhex("909541b92cf05311") and index.parent[row] < 0



# -- bad input: skipped and counted with the file named, the rest loads ----------------------

def _sample_trace():
    return copy.deepcopy(_jaeger_doc()["data"][0])


def test_jaeger_bad_records_cost_only_themselves(write):
    trace = _sample_trace()
    spans = trace["spans"]
    spans[0]["spanID"] = "not-hex"
    spans[1]["startTime"] = "yesterday"
    spans[2]["references"].append({"refType": "FOLLOWS_FROM", "traceID": "zz", "spanID": "1"})
    spans[3]["tags"] = "not a list"
    spans[4]["processID"] = "p99"
    path = write("bad.json", {"data": [trace]})
    index, report = load([path])
    assert len(index) == len(spans) - 2
    assert report.skipped == {"spans with an empty or malformed id": 1,
                              "spans with a malformed or out-of-range time": 1,
                              "references with an empty or malformed id": 1}
    assert report.warnings == {"spans whose process is not in the file (service unknown)": 1}
    assert all(m.startswith(f"{path}: ") and "\n" not in m for m in report.messages)
    assert "'not-hex'" in " ".join(report.messages)
    rows = {index.span_id[r].hex(): r for r in range(len(index))}
    assert index.service(rows[spans[4]["spanID"]]) == "unknown_service"
    untagged = rows[spans[3]["spanID"]]  # tags that are not a list: kept, without attributes
    assert index.detail(untagged).attributes == {} and index.kind[untagged] == 0


def test_jaeger_wrongly_typed_span_fields_skip_only_that_span(write):
    trace = _sample_trace()
    trace["spans"][0]["operationName"] = {"not": "a string"}
    trace["spans"][1]["references"] = None  # null is tolerated
    index, report = load([write("t.json", trace)])
    assert len(index) == len(trace["spans"]) - 1
    assert report.skipped == {"malformed spans": 1}
    assert "operationName" in report.messages[0]


def test_jaeger_broken_line_among_good_ones(write):
    a, b = (json.dumps(t) for t in _jaeger_doc()["data"][:2])
    path = write("t.jsonl", a + "\n{\"traceID\": \n" + b + "\n")
    index, report = load([path])
    assert report.skipped == {"JSON lines that do not parse": 1}
    assert report.messages[0].startswith(f"{path}:2: ")
    assert report.files[0].format == "Jaeger JSON Lines"
    assert len(index) == 10 + 8 and len(index.trace_ids) == 2


def test_jaeger_envelope_without_traces(write, capsys):
    path = write("empty.json", {"data": [], "total": 0, "limit": 0, "offset": 0, "errors": None})
    index, report = load([path])
    assert len(index) == 0
    assert report.messages == [f"{path}: no Jaeger spans here (expected {{\"data\": [...]}}, a "
                               "trace with \"spans\", or a list of spans)"]
    assert main([path, "--list"]) == 1
    assert "Traceback" not in capsys.readouterr().err


def test_zipkin_bad_records_cost_only_themselves(write):
    traces = json.loads(ZIPKIN.read_text())
    spans = [sp for tr in traces for sp in tr]
    spans[0]["id"] = "xyz"
    spans[1]["traceId"] = ""
    spans[2]["timestamp"] = "noon"
    spans[3]["parentId"] = "nothex"
    path = write("z.json", spans)
    index, report = load([path])
    assert len(index) == len(spans) - 3
    assert report.skipped == {"spans with an empty or malformed id": 2, "malformed spans": 1}
    assert report.warnings == {"parent ids malformed (span kept as a root)": 1}
    assert all(m.startswith(f"{path}: ") for m in report.messages)


def test_zipkin_trace_that_is_not_a_list(write):
    traces = json.loads(ZIPKIN.read_text())
    traces[1] = {"oops": 1}
    index, report = load([write("z.json", traces)])
    assert report.skipped == {"records that are not Zipkin spans": 1}
    assert len(index) == 49 - 8


# -- JSON of another kind is named ----------------------------------------------------------

def _zipkin_v1(write):
    """Zipkin v1 JSON, written by OpenTelemetry's own v1 encoder."""
    from opentelemetry.exporter.zipkin.json.v1 import JsonV1Encoder
    from opentelemetry.exporter.zipkin.node_endpoint import NodeEndpoint
    from sdk_data import build_spans

    endpoint = NodeEndpoint()
    endpoint.service_name = "checkout"
    return write("v1.json", JsonV1Encoder().serialize(build_spans(), endpoint))


OTHER_JSON = {
    "Zipkin v1": (_zipkin_v1, "zipkin v1"),
    "Prometheus": (lambda write: write("p.json", {
        "status": "success", "data": {"resultType": "vector", "result": [
            {"metric": {"__name__": "up", "job": "api"}, "value": [1.7e9, "1"]}]}}),
        "prometheus"),
    "Tempo search": (lambda write: write("s.json", {
        "traces": [{"traceID": "2f3e0cee77ae5dc9c17ade3689eb2e54", "rootServiceName": "shop",
                    "rootTraceName": "GET /checkout", "startTimeUnixNano": "1684778327699392724",
                    "durationMs": 557}],
        "metrics": {"inspectedBytes": "2237", "completedJobs": 1, "totalJobs": 1}}),
        "tempo search"),
}


@pytest.mark.parametrize("kind", list(OTHER_JSON))
def test_json_of_another_kind_is_named(kind, write, capsys):
    make, words = OTHER_JSON[kind]
    path = make(write)
    index, report = load([path])
    assert len(index) == 0
    [f] = report.files
    assert words in f.error.lower() and "not trace data" in f.error
    assert report.messages == [f"{path}: {f.error}"]
    assert main([path, "--list"]) == 1
    assert "Traceback" not in capsys.readouterr().err
