"""Every input format, as the real SDK, protobuf's json_format and the Collector write it,
loads to the same index."""

from __future__ import annotations

import io
import json
import sys
from types import SimpleNamespace

import pytest
import sdk_data
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from sdk_data import FLAVOURS, gzipped, otlp_json, snapshot, to_otlp_json, to_protobuf, zstded

from async_trace_tui.loading import load
from async_trace_tui.model import (
    KIND_CONSUMER,
    KIND_PRODUCER,
    KIND_SERVER,
    STATUS_ERROR,
    STATUS_OK,
)


@pytest.fixture(scope="module")
def expected(sdk_request, tmp_path_factory):
    """The index of the plain protobuf request: what every other flavour must equal."""
    path = tmp_path_factory.mktemp("base") / "base.binpb"
    path.write_bytes(to_protobuf(sdk_request))
    index, report = load([str(path)])
    assert not report.skipped and not report.warnings and not report.messages
    return snapshot(index)


def load_ok(paths):
    index, report = load(paths)
    assert not report.failed_files, report.lines()
    assert not report.skipped and not report.warnings, report.lines()
    return index, report


# -- the SDK data itself, checked against what was recorded (not against the loader) -------

def by_name(index, service, name):
    rows = [r for r in range(len(index)) if index.name[r] == name and index.service(r) == service]
    assert len(rows) == 1, (service, name, rows)
    return rows[0]


def test_sdk_scenario_loads_with_its_structure(sdk_request, write):
    index, report = load_ok([write("r.binpb", to_protobuf(sdk_request))])
    assert len(index) == sdk_data.EXPECTED_SPANS == report.spans
    assert len(index.trace_ids) == sdk_data.EXPECTED_TRACES == report.traces
    assert {index.service(r) for r in range(len(index))} == set(sdk_data.SERVICES)

    consumer = by_name(index, "payments-worker", "orders process")
    p1 = [r for r in range(len(index)) if index.name[r] == "orders publish"]
    assert index.kind[consumer] == KIND_CONSUMER
    assert {index.kind[r] for r in p1} == {KIND_PRODUCER}
    # the consumer links to both producers, each in another trace, and both resolve
    targets = [t for _, _, t in index.links_of(consumer)]
    assert sorted(targets) == sorted(p1)
    assert len({index.trace[consumer], *(index.trace[r] for r in p1)}) == 3
    for r in p1:
        assert index.linked_from(r) == [consumer]
    d = index.detail(consumer)
    assert sorted((lk.attributes["messaging.message.id"], lk.attributes["batch.index"])
                  for lk in d.links) == [("m-41", 0), ("m-42", 1)]

    charge = by_name(index, "payments-worker", "charge card")
    assert index.status[charge] == STATUS_ERROR
    cd = index.detail(charge)
    assert cd.status_message == "card declined"
    [ev] = cd.events
    assert ev.name == "exception"
    assert ev.time_ns == sdk_data.ms(249)
    assert ev.attributes["exception.type"] == "payments.gateway.CardDeclined"
    assert ev.attributes["exception.message"] == "card declined"
    assert ev.attributes["payment.attempt"] == 1

    # trace 1's root is the only span with status OK
    root = [r for r in range(len(index)) if index.name[r] == "GET /checkout"
            and index.status[r] == STATUS_OK]
    assert len(root) == 1
    assert index.kind[root[0]] == KIND_SERVER
    assert index.start[root[0]] == sdk_data.ms(0) and index.end[root[0]] == sdk_data.ms(50)

    validate = by_name(index, "checkout", "validate order")
    assert index.detail(validate).attributes == {
        "order.items": 3, "order.total": 99.5, "order.gift": True,
        "order.skus": ["A-1", "B-2"], "order.quantities": [1, 2]}
    assert index.scope(validate).name == "checkout.app"
    assert index.scope(validate).version == "1.8.3"
    assert index.resource(validate).attributes["host.name"] == "checkout-1"


def by_name_any(index, service, name):
    return [r for r in range(len(index)) if index.name[r] == name and index.service(r) == service]


def test_sdk_scenario_missing_and_same_trace_links(sdk_request, write):
    index, _ = load_ok([write("r.binpb", to_protobuf(sdk_request))])
    [mail] = by_name_any(index, "email-worker", "email process")
    links = index.links_of(mail)
    assert len(links) == 2
    missing = [(t, s) for t, s, r in links if r is None]
    assert missing == [(sdk_data.MISSING_TRACE_ID, sdk_data.MISSING_SPAN_ID)]
    [render] = by_name_any(index, "email-worker", "render email")
    [(tid, sid, target)] = index.links_of(render)
    assert target == mail and index.trace[render] == index.trace[mail]
    assert render in index.linked_from(mail)


# -- every flavour, the same index ----------------------------------------------------------

@pytest.mark.parametrize("flavour", sorted(FLAVOURS))
def test_every_flavour_loads_to_the_same_index(flavour, sdk_request, expected, write):
    name, writer = FLAVOURS[flavour]
    index, report = load_ok([write(name, writer(sdk_request))])
    assert snapshot(index) == expected
    assert report.spans == sdk_data.EXPECTED_SPANS
    assert report.traces == sdk_data.EXPECTED_TRACES


def test_flavours_really_differ_on_disk(sdk_request):
    """Guard against a writer silently producing another flavour's bytes."""
    blobs = {k: w(sdk_request) for k, (_, w) in FLAVOURS.items()}
    assert len(set(blobs.values())) == len(blobs)
    hexdoc = blobs["otlp-json"].decode()
    assert '"traceId"' in hexdoc and '"kind": 5' in hexdoc
    b64 = json.loads(blobs["json-format-base64"])
    span = b64["resourceSpans"][0]["scopeSpans"][0]["spans"][0]
    assert len(span["traceId"]) == 24 and span["traceId"].endswith("==")  # base64
    assert span["kind"].startswith("SPAN_KIND_")
    assert b'"resource_spans"' in blobs["snake-case"]
    assert blobs["json-lines"].count(b"\n") == len(sdk_request.resource_spans) > 1
    assert blobs["proto-stream"][:1] == b"\0"
    assert blobs["proto-stream-zstd"][4:8] == b"\x28\xb5\x2f\xfd"
    assert blobs["json-gz"][:2] == b"\x1f\x8b"
    assert blobs["json-zst"][:4] == b"\x28\xb5\x2f\xfd"


def test_report_names_the_detected_format(sdk_request, write):
    index, report = load([
        write("a", to_protobuf(sdk_request)),
        write("b", FLAVOURS["proto-stream-zstd"][1](sdk_request)),
        write("c", FLAVOURS["json-lines"][1](sdk_request)),
    ])
    fmts = [f.format for f in report.files]
    assert "protobuf" in fmts[0] and "stream" not in fmts[0]
    assert "stream" in fmts[1] and "zstd" in fmts[1]
    assert "Lines" in fmts[2]
    # the same spans three times: the first file's stand, the others' are duplicates
    assert [f.spans for f in report.files] == [sdk_data.EXPECTED_SPANS, 0, 0]
    assert report.skipped == {"duplicate spans (already loaded)": 2 * sdk_data.EXPECTED_SPANS}
    assert len(index) == sdk_data.EXPECTED_SPANS


# -- JSON variants seen in the wild ---------------------------------------------------------

def variant(sdk_request, fn=None, enums_as_ints=True):
    doc = otlp_json(sdk_request, enums_as_ints=enums_as_ints)
    return fn(doc) if fn else doc


def test_uppercase_hex_ids(sdk_request, expected, write):
    doc = sdk_data._map_ids(otlp_json(sdk_request), str.upper)
    assert doc["resourceSpans"][0]["scopeSpans"][0]["spans"][0]["traceId"].isupper()
    index, _ = load_ok([write("upper.json", doc)])
    assert snapshot(index) == expected


def _times_as_numbers(doc):
    for rs in doc["resourceSpans"]:
        for ss in rs["scopeSpans"]:
            for sp in ss["spans"]:
                for key in ("startTimeUnixNano", "endTimeUnixNano"):
                    sp[key] = int(sp[key])
                for ev in sp.get("events", []):
                    ev["timeUnixNano"] = int(ev["timeUnixNano"])
                for kv in sp.get("attributes", []):
                    if "intValue" in kv["value"]:
                        kv["value"]["intValue"] = int(kv["value"]["intValue"])
    return doc


def test_int64_as_json_numbers(sdk_request, expected, write):
    doc = variant(sdk_request, _times_as_numbers)
    text = json.dumps(doc)
    assert '"startTimeUnixNano": 1767225600' in text  # a number, not a string
    index, _ = load_ok([write("numbers.json", doc)])
    assert snapshot(index) == expected


def test_int64_as_strings_is_the_default(sdk_request):
    text = json.dumps(otlp_json(sdk_request))
    assert '"startTimeUnixNano": "1767225600' in text


def test_enum_names_with_hex_ids(sdk_request, expected, write):
    doc = variant(sdk_request, enums_as_ints=False)
    text = json.dumps(doc)
    assert '"SPAN_KIND_CONSUMER"' in text and '"STATUS_CODE_ERROR"' in text
    assert '"STATUS_CODE_OK"' in text
    index, _ = load_ok([write("enums.json", doc)])
    assert snapshot(index) == expected


def test_short_enum_names_and_numeric_strings(write):
    spans = [
        sdk_data.span_json(sdk_data.sid(1), "a", kind="SERVER", status={"code": "ERROR"}),
        sdk_data.span_json(sdk_data.sid(2), "b", kind="SPAN_KIND_PRODUCER",
                           status={"code": "STATUS_CODE_OK"}),
        sdk_data.span_json(sdk_data.sid(3), "c", kind="5", status={"code": "2"}),
        sdk_data.span_json(sdk_data.sid(4), "d", kind="SPAN_KIND_UNSPECIFIED", status={}),
    ]
    index, _ = load_ok([write("e.json", sdk_data.doc_json(*spans))])
    got = {index.name[r]: (index.kind[r], index.status[r]) for r in range(len(index))}
    assert got == {"a": (2, 2), "b": (4, 1), "c": (5, 2), "d": (0, 0)}


def test_batches_envelope(sdk_request, expected, write):
    doc = otlp_json(sdk_request)
    doc = {"batches": doc.pop("resourceSpans")}
    index, _ = load_ok([write("tempo.json", doc)])
    assert snapshot(index) == expected


def test_instrumentation_library_spans_envelope(sdk_request, expected, write):
    doc = otlp_json(sdk_request)
    for rs in doc["resourceSpans"]:
        rs["instrumentationLibrarySpans"] = rs.pop("scopeSpans")
        for ils in rs["instrumentationLibrarySpans"]:
            ils["instrumentationLibrary"] = ils.pop("scope")
    text = json.dumps(doc)
    assert "scopeSpans" not in text and '"scope"' not in text
    index, _ = load_ok([write("old.json", doc)])
    assert snapshot(index) == expected
    assert {index.scope(r).name for r in range(len(index))} >= {"checkout.app", "email.worker"}


def test_result_wrapper(sdk_request, expected, write):
    index, _ = load_ok([write("v3.json", {"result": otlp_json(sdk_request)})])
    assert snapshot(index) == expected


def test_traces_data_without_envelope_extras_and_unknown_fields(sdk_request, expected, write):
    doc = otlp_json(sdk_request)
    doc["somethingNew"] = {"x": [1, 2]}
    for rs in doc["resourceSpans"]:
        rs["futureField"] = 1
        for ss in rs["scopeSpans"]:
            for sp in ss["spans"]:
                sp["brandNew"] = "ignored"
    index, _ = load_ok([write("unknown.json", doc)])
    assert snapshot(index) == expected


def test_pretty_printed_and_compact_json_are_the_same(sdk_request, expected, write):
    doc = otlp_json(sdk_request)
    a, _ = load_ok([write("pretty.json", json.dumps(doc, indent=2))])
    b, _ = load_ok([write("compact.json", json.dumps(doc, separators=(",", ":")))])
    assert snapshot(a) == snapshot(b) == expected


def test_json_lines_with_crlf_and_blank_lines(sdk_request, expected, write):
    lines = sdk_data.to_json_lines(sdk_request).split(b"\n")
    data = b"\r\n\r\n".join(lines)
    index, report = load_ok([write("crlf.jsonl", data)])
    assert snapshot(index) == expected
    assert report.files[0].format == "OTLP/JSON Lines"


# -- many inputs ----------------------------------------------------------------------------

def test_several_files_make_one_index(sdk_request, expected, write):
    parts = sdk_data.split_request(sdk_request)
    paths = [write(f"part{i}.json", to_otlp_json(p)) for i, p in enumerate(parts)]
    index, report = load_ok(paths)
    assert len(report.files) == len(parts)
    # links across files resolve, exactly as within one file
    assert snapshot(index) == expected


def test_mixed_formats_in_one_call(sdk_request, expected, write):
    parts = sdk_data.split_request(sdk_request)
    writers = [to_protobuf, to_otlp_json, sdk_data.to_snake_case, sdk_data.to_json_format_default]
    paths = [write(f"p{i}", w(p)) for i, (p, w) in enumerate(zip(parts, writers, strict=True))]
    index, _ = load_ok(paths)
    assert snapshot(index) == expected


def test_directory_is_read_whole_and_hidden_files_skipped(sdk_request, expected, write, tmp_path):
    parts = sdk_data.split_request(sdk_request)
    write("d/a.json", to_otlp_json(parts[0]))
    write("d/sub/b.binpb", to_protobuf(parts[1]))
    write("d/sub/deeper/c.jsonl", sdk_data.to_json_lines(parts[2]))
    write("d/d.json.gz", gzipped(to_otlp_json(parts[3])))
    write("d/.hidden.json", b"garbage that would fail")
    index, report = load_ok([str(tmp_path / "d")])
    assert len(report.files) == 4
    assert snapshot(index) == expected


def test_directory_and_file_together(sdk_request, expected, write, tmp_path):
    parts = sdk_data.split_request(sdk_request)
    write("d/a.json", to_otlp_json(parts[0]))
    write("d/b.json", to_otlp_json(parts[1]))
    loose = [write(f"loose{i}.binpb", to_protobuf(p)) for i, p in enumerate(parts[2:])]
    index, _ = load_ok([str(tmp_path / "d"), *loose])
    assert snapshot(index) == expected


@pytest.mark.parametrize("flavour", ["otlp-json", "protobuf", "json-gz", "proto-stream-zstd"])
def test_stdin_dash(flavour, sdk_request, expected, monkeypatch):
    data = FLAVOURS[flavour][1](sdk_request)
    monkeypatch.setattr(sys, "stdin", SimpleNamespace(buffer=io.BytesIO(data)))
    index, report = load_ok(["-"])
    assert snapshot(index) == expected
    assert report.files[0].name == "<stdin>"


def test_stdin_together_with_a_file(sdk_request, expected, monkeypatch, write):
    parts = sdk_data.split_request(sdk_request)
    first = ExportTraceServiceRequest(resource_spans=parts[0].resource_spans)
    rest = ExportTraceServiceRequest(resource_spans=[rs for p in parts[1:]
                                                     for rs in p.resource_spans])
    monkeypatch.setattr(sys, "stdin", SimpleNamespace(buffer=io.BytesIO(to_protobuf(first))))
    index, _ = load_ok(["-", write("rest.json", to_otlp_json(rest))])
    assert snapshot(index) == expected


# -- detected by content, not by name -------------------------------------------------------

@pytest.mark.parametrize("name, make", [
    ("traces.json", lambda r: gzipped(to_otlp_json(r))),          # gzip, name says .json
    ("traces.txt", lambda r: zstded(to_otlp_json(r))),            # zstd, name says .txt
    ("data", lambda r: zstded(sdk_data.to_json_lines(r))),        # no extension at all
    ("request.json", to_protobuf),                                # protobuf named .json
    ("stream.json.gz", sdk_data.to_proto_stream),                 # a plain stream named .gz
    ("x.zst", lambda r: gzipped(to_otlp_json(r))),                # gzip named .zst
    ("layers", lambda r: zstded(gzipped(to_protobuf(r)))),        # .gz inside .zst
])
def test_format_is_detected_by_content(name, make, sdk_request, expected, write):
    index, _ = load_ok([write(name, make(sdk_request))])
    assert snapshot(index) == expected

