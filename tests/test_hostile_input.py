"""Issue 7: hostile input never gives a traceback, a hang or a raw control byte.

One test (or a few) per numbered item of the issue, each building its reproducer here. The
CLI is run in-process (`main`), through every headless output the issue names.
"""

from __future__ import annotations

import gzip
import json
import os
import struct

import pytest
import sdk_data
import zstandard
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from sdk_data import TRACE_A, doc_json, sid, span_json
from test_ui_dependencies import PaneApp, pane_of, run_async

from async_trace_tui.cli import main
from async_trace_tui.loading import load
from async_trace_tui.loading.sniff import _RUN_LIMIT
from async_trace_tui.views.dependencies import DependencyView, ViewOptions, walk
from async_trace_tui.views.details import DetailsBuilder

SPAN = "b7ad6b7169203331"
CTRL = [chr(c) for c in range(0x20) if c not in (0x0A,)] + ["\x7f"] + [chr(c) for c in range(0x80, 0xA0)]


def cli(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    raw = out + err
    assert not any(c in raw for c in CTRL), repr(raw)  # no raw control byte, ever
    return code, out, err


def every_output(capsys, path: str) -> list[tuple[int, str, str]]:
    """--list --json, --print and (when the span loaded) --json --span: none raises, each
    exits 0 or 1 and names the file on stderr when it says anything."""
    runs = [cli(capsys, path, "--list", "--json"), cli(capsys, path, "--print")]
    index, _ = load([path])
    if index.find_span(bytes.fromhex(SPAN)):
        runs.append(cli(capsys, path, "--json", "--span", SPAN))
    for code, _, err in runs:
        assert code in (0, 1)
        lines = err.splitlines()[1:]  # after the summary line, each names the file
        assert all(ln.startswith(path) or ln.startswith("trace-tui:") for ln in lines), lines
        if code == 1:
            assert any(ln.startswith(path) for ln in lines)
    return runs


# -- 1-4, 6: JSON that does not decode costs only the piece it is in ----------------------

GOOD = span_json(sid(9), "good one", trace_id="1" * 32)


def test_1_invalid_utf8_in_a_span_costs_only_that_span(write, capsys):
    bad = json.dumps(doc_json(span_json(SPAN, "BADNAME"), GOOD)).encode().replace(b"BADNAME", b"\xff")
    path = write("bad-utf8.json", bad)
    index, report = load([path])
    assert index.name == ["good one"]
    assert report.skipped == {"malformed spans": 1}
    assert report.messages[0].startswith(f"{path}: ") and "UTF-8" in report.messages[0]
    every_output(capsys, path)
    # The file exactly: nothing else in it, so nothing loads; exit 1, named.
    alone = write("alone.json", b'{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":'
                                b'"0af7651916cd43dd8448eb211c80319c","spanId":"b7ad6b7169203331",'
                                b'"name":"\xff"}]}]}]}')
    [(code, _, err), *_] = every_output(capsys, alone)
    assert code == 1 and f"{alone}: span: Invalid UTF-8" in err


@pytest.mark.parametrize("data, words", [
    (b'{"result":{"resourceSpans":1.5}}', "not a list"),          # 2
    (b"[1,", "not valid json"),                                     # 3
    (b"[1e400]", "out of range"),                                   # 3
    (b'{"resourceSpans":[{"scopeSpans":5,"x":1e400}]}', "scopespans"),   # 4
    (b'{"resourceSpans":[{"scopeSpans":5,"x":"\xff"}]}', "scopespans"),  # 4
    (b'{"resourceSpans":[{"scopeSpans":["x"]}]}', "scopespans"),   # 6
])
def test_2_3_4_6_malformed_json_is_one_named_line_and_exit_1(data, words, write, capsys):
    path = write("odd.json", data)
    index, report = load([path])
    assert len(index) == 0
    named = [m for m in report.messages if m.startswith(f"{path}: ")]
    assert named and words in " ".join(named).lower(), report.messages
    [(code, _, err), *_] = every_output(capsys, path)
    assert code == 1 and any(words in ln.lower() for ln in err.splitlines() if ln.startswith(path))


def test_2_3_4_6_next_to_a_good_file_the_good_file_loads(write, capsys):
    paths = [write(f"bad{i}.json", d) for i, d in enumerate([
        b'{"result":{"resourceSpans":1.5}}', b"[1,", b"[1e400]",
        b'{"resourceSpans":[{"scopeSpans":5,"x":1e400}]}', b'{"resourceSpans":[{"scopeSpans":["x"]}]}'])]
    good = write("good.json", doc_json(GOOD))
    index, report = load([*paths, good])
    assert index.name == ["good one"]
    code, out, err = cli(capsys, *paths, good, "--list", "--json")
    assert code == 0 and json.loads(out)[0]["spans"] == 1
    for p in paths:
        assert f"\n{p}: " in err


def test_4_loose_path_keeps_the_good_spans_beside_a_bad_one(write):
    """A resourceSpans the typed decoder rejects goes down piece by piece: its good spans
    load, a non-object span entry and a span with a number out of range are counted."""
    doc = json.dumps({"resourceSpans": [{"scopeSpans": [{"spans": [
        span_json(sid(1), "kept"), "x", span_json(sid(2), "far", start=1)]}]}]})
    doc = doc.replace('"startTimeUnixNano": "1"', '"startTimeUnixNano": 1e400')
    index, report = load([write("mixed.json", doc)])
    assert index.name == ["kept"]
    assert report.skipped == {"malformed spans": 2}


def test_6_zero_length_record_is_counted_and_named(write, capsys):
    path = write("zeros.bin", b"\0\0\0\0")
    index, report = load([path])
    assert len(index) == 0 and report.skipped == {"empty messages": 1}
    [(code, _, err), *_] = every_output(capsys, path)
    assert code == 1 and f"{path}: message 1: 1 empty (zero-length) message" in err


def test_6_a_file_that_gives_nothing_is_always_named(write, capsys):
    """Metrics-only JSON Lines: nothing skipped (other signals are not errors), nothing
    loaded; stderr still names the file."""
    line = json.dumps({"resourceMetrics": [{"scopeMetrics": []}]})
    path = write("metrics.jsonl", f"{line}\n{line}\n")
    code, _, err = cli(capsys, path, "--list")
    assert code == 1 and f"{path}: no trace data" in err


# -- 5: protobuf details that do not re-parse -------------------------------------------------

@pytest.fixture(scope="module")
def unreadable_details(tmp_path_factory):
    """Three spans in one resourceSpans; the lite schema reads them all, the full re-parse
    fails on two: a string attribute with bad UTF-8, and an event whose bytes are corrupt."""
    req = ExportTraceServiceRequest()
    rs = req.resource_spans.add()
    rs.resource.attributes.add(key="service.name").value.string_value = "svc"
    spans = rs.scope_spans.add().spans
    tid = bytes.fromhex(TRACE_A)
    root = spans.add(trace_id=tid, span_id=bytes.fromhex(sid(1)), name="readable root",
                     start_time_unix_nano=1_000, end_time_unix_nano=9_000)
    root.attributes.add(key="fine").value.string_value = "yes"
    bad = spans.add(trace_id=tid, span_id=bytes.fromhex(SPAN), name="bad utf8",
                    parent_span_id=root.span_id, start_time_unix_nano=2_000, end_time_unix_nano=3_000)
    bad.attributes.add(key="http.method").value.string_value = "BADVALUE"
    ev = spans.add(trace_id=tid, span_id=bytes.fromhex(sid(3)), name="bad event",
                   parent_span_id=root.span_id, start_time_unix_nano=4_000, end_time_unix_nano=5_000)
    ev.events.add(time_unix_nano=4_500, name="EVT")
    data = req.SerializeToString()
    data = data.replace(b"BADVALUE", b"BAD\xff\xfeLUE")
    event = ev.events[0].SerializeToString()
    assert data.count(event) == 1 and event[0] == 0x09  # time_unix_nano: field 1, fixed64
    data = data.replace(event, b"\x0f" + event[1:])  # wire type 7: no such thing
    path = tmp_path_factory.mktemp("unreadable") / "unreadable.binpb"
    path.write_bytes(data)
    index, report = load([str(path)])
    assert len(index) == 3 and not report.skipped
    return str(path), index


def test_5_headless_outputs_do_not_crash(unreadable_details, capsys):
    path, _ = unreadable_details
    (code, out, _), (pcode, text, _), (jcode, js, _) = every_output(capsys, path)
    assert code == pcode == jcode == 0
    assert json.loads(out)[0]["spans"] == 3
    assert "bad utf8" in text and "bad event" in text
    assert json.loads(js)["focus"]["span_id"] == SPAN


def test_5_details_show_what_the_index_holds_and_say_the_rest_is_unreadable(unreadable_details):
    _, index = unreadable_details
    by_name = {index.name[r]: r for r in range(len(index))}
    assert index.detail(by_name["readable root"]).attributes == {"fine": "yes"}  # not lost
    for name in ("bad utf8", "bad event"):
        row = by_name[name]
        view = DependencyView(index, row, ViewOptions())
        node = next(n for n, _ in walk(view.root) if n.rows == [row])
        fields = {f.label: f.value for s in DetailsBuilder(index).build(node).sections for f in s.fields}
        assert fields["operation"] == name and fields["span id"] == index.span_id[row].hex()
        assert "cannot be read" in fields["unreadable"]


@run_async
async def test_5_tui_details_panel_shows_the_unreadable_span(unreadable_details):
    _, index = unreadable_details
    row = next(r for r in range(len(index)) if index.name[r] == "bad utf8")
    async with PaneApp(index, row).run_test(size=(160, 40)) as pilot:
        await pilot.pause()
        pane = pane_of(pilot.app)
        assert pane.dep_tree.cursor_node.rows == [row]
        text = " ".join(pane.details_panel.text.split())
        assert "bad utf8" in text and "the rest of this span cannot be read" in text


# -- 7: bounded decompression ---------------------------------------------------------------

@pytest.fixture(scope="module")
def bombs(tmp_path_factory):
    """Small cousins of the issue's bombs: each inflates past the 64 MiB run limit."""
    d = tmp_path_factory.mktemp("bombs")
    size = _RUN_LIMIT + (8 << 20)
    zeros = bytes(size)
    inner = gzip.compress(zeros, 1)
    out = {
        "double-gzip-zeros": gzip.compress(inner, 9),
        "zstd-newlines": zstandard.ZstdCompressor(level=3).compress(b"\n" * size),
        "gzip-zeros": inner,
        "zstd-json-spaces": zstandard.ZstdCompressor(level=3).compress(
            b'{"resourceSpans":[' + b" " * size),
    }
    paths = {}
    for name, data in out.items():
        paths[name] = str(d / name)
        with open(paths[name], "wb") as f:
            f.write(data)
    return paths


@pytest.mark.parametrize("name", ["double-gzip-zeros", "zstd-newlines", "gzip-zeros", "zstd-json-spaces"])
def test_7_a_bomb_stops_with_a_message_naming_the_file(bombs, name, capsys):
    path = bombs[name]
    index, report = load([path])
    [f] = report.files
    assert len(index) == 0 and "decompression bomb" in f.error
    code, _, err = cli(capsys, path, "--list")
    assert code == 1 and f"{path}: inflates to a run of over 64 MiB" in err


def test_7_max_bytes_bounds_every_layer_together(write, capsys):
    """Two gzip layers of 1 MiB each: under a 1.5 MiB bound each layer alone, not both."""
    plain = os.urandom(1 << 20)
    path = write("layers.gz", gzip.compress(gzip.compress(plain, 1), 1))
    _, report = load([path], max_bytes=3 << 19)
    assert "--max-bytes" in report.files[0].error
    _, report = load([path], max_bytes=3 << 20)
    assert "--max-bytes" not in report.files[0].error  # inflated; then not trace data
    code, _, err = cli(capsys, path, "--list", "--max-bytes", "1.5M")
    assert code == 1 and f"{path}: inflates to more than --max-bytes (1.5 MiB)" in err


def test_7_a_plain_file_past_max_bytes_is_not_read(write, capsys):
    path = write("big.json", json.dumps(doc_json(GOOD)) + " " * 4096)
    code, _, err = cli(capsys, path, "--list", "--max-bytes", "2K")
    assert code == 1 and f"{path}: larger than --max-bytes (2.0 KiB)" in err
    assert cli(capsys, path, "--list", "--max-bytes", "1M")[0] == 0


def test_7_a_run_of_empty_records_is_one_bad_record(sdk_request, write):
    stream = sdk_data.to_proto_stream(sdk_request)
    path = write("padded.bin", bytes(4 * 100_000) + stream + bytes(4 * 3))
    index, report = load([path])
    assert len(index) == sdk_data.EXPECTED_SPANS
    assert report.skipped == {"empty messages": 2}  # the run before, the run after
    assert any("100,000 empty (zero-length) messages" in m for m in report.messages)


def test_7_nested_layers_and_trailing_data(sdk_request, write):
    body = sdk_data.to_otlp_json(sdk_request)
    z = zstandard.ZstdCompressor().compress
    path = write("nested.zst", z(gzip.compress(z(body))) )
    index, report = load([path])
    assert len(index) == sdk_data.EXPECTED_SPANS and not report.failed_files
    path = write("trailing.gz", gzip.compress(body) + b"\0\0\0\0junk")
    index, report = load([path])
    assert len(index) == sdk_data.EXPECTED_SPANS
    assert report.warnings == {"inputs with trailing data after their compressed stream": 1}


def test_7_zstd_bomb_inside_a_proto_stream_message(write):
    frame = zstandard.ZstdCompressor().compress(bytes(_RUN_LIMIT + (1 << 20)))
    path = write("bomb-message.bin", struct.pack(">I", len(frame)) + frame)
    _, report = load([path])
    assert "decompression bomb" in report.files[0].error


def test_5_bad_utf8_in_zipkin_tags_is_one_named_line(write, capsys):
    """Found by the fuzz test: Zipkin tags with bad UTF-8 (read when the span is shown)
    took --print down; now the file is named, whatever the loader makes of it."""
    span = {"traceId": "4" * 32, "id": SPAN, "name": "zipkin op", "timestamp": 1_000_000,
            "duration": 10, "localEndpoint": {"serviceName": "svc"}, "tags": {"k": "BADTAG"}}
    path = write("zipkin.json", json.dumps([span]).encode().replace(b"BADTAG", b"\xff\xfe"))
    runs = every_output(capsys, path)
    assert all(code in (0, 1) for code, _, _ in runs)


def test_5_a_source_that_cannot_read_a_span_again_never_takes_a_view_down(write, monkeypatch):
    """Whatever a source raises when asked for a span's details again (a store gone away,
    a loader's bug), the span shows what the index holds and says the rest is unreadable."""
    index, _ = load([write("ok.json", doc_json(span_json(SPAN, "fine", attributes=[
        {"key": "http.method", "value": {"stringValue": "GET"}}])))])
    source = index.block(0).source

    def broken(self, offset):
        raise ConnectionError("the store went away")

    monkeypatch.setattr(type(source), "detail", broken)
    monkeypatch.setattr(type(source), "attribute_keys", broken)
    view = DependencyView(index, 0, ViewOptions())
    assert index.shape(0) == "generic"  # no keys to classify by: the kind decides
    fields = {f.label: f.value for s in DetailsBuilder(index).build(view.root).sections
              for f in s.fields}
    assert fields["operation"] == "fine"
    assert "cannot be read (ConnectionError: the store went away)" in fields["unreadable"]
