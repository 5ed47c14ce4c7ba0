"""Bad input: one clear line naming the file (and line), never a traceback; the rest loads.

Every case is checked through `load()` (report, index) and through the CLI (`--list`:
exit 1 when nothing loaded, 0 when something did, the report on stderr).
"""

from __future__ import annotations

import json
import os
import random
import struct

import pytest
import sdk_data
from sdk_data import (
    TRACE_A,
    TRACE_B,
    doc_json,
    gzipped,
    link_json,
    sid,
    span_json,
    to_otlp_json,
    to_proto_stream,
    to_protobuf,
    zstded,
)

from async_trace_tui.cli import main
from async_trace_tui.loading import load

GOOD = doc_json(span_json(sid(1), "good root"), span_json(sid(2), "good child", parent=sid(1)))


def run_cli(capsys, *paths):
    code = main([*paths, "--list", "--json"])
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return code, out, err


def failed_alone(path, capsys, *words):
    """A file that cannot be read at all: one message naming it, nothing loaded, exit 1."""
    index, report = load([path])
    assert len(index) == 0
    [f] = report.files
    assert f.error and "\n" not in f.error
    for w in words:
        assert w in f.error.lower(), (w, f.error)
    assert report.messages == [f"{path}: {f.error}"]
    code, out, err = run_cli(capsys, path)
    assert code == 1
    assert out == ""
    assert f"{path}: {f.error}" in err.splitlines()
    return f.error


def still_loads_next_to(path, write, capsys):
    """With a good file beside it, the good file loads and the CLI exits 0."""
    good = write("good.json", GOOD)
    index, report = load([path, good])
    assert len(index) == 2
    assert {index.name[r] for r in range(2)} == {"good root", "good child"}
    code, out, err = run_cli(capsys, path, good)
    assert code == 0 and [r["spans"] for r in json.loads(out)] == [2]
    return report


# -- whole files that cannot be read --------------------------------------------------------

def test_missing_file(tmp_path, write, capsys):
    path = str(tmp_path / "nope.json")
    failed_alone(path, capsys, "no such file")
    still_loads_next_to(path, write, capsys)


def test_directory_given_where_a_file_is_expected_is_read_as_a_directory(tmp_path, write, capsys):
    write("d/a.json", GOOD)
    index, report = load([str(tmp_path / "d")])
    assert len(index) == 2 and not report.failed_files


def test_empty_directory_loads_nothing(tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    index, report = load([str(tmp_path / "empty")])
    assert len(index) == 0
    code, _, err = run_cli(capsys, str(tmp_path / "empty"))
    assert code == 1 and "nothing could be loaded" in err


def test_unreadable_file(write, capsys):
    path = write("secret.json", GOOD)
    os.chmod(path, 0)
    try:
        if os.access(path, os.R_OK):
            pytest.skip("running as root: chmod 000 does not stop reading")
        failed_alone(path, capsys, "permission denied")
        still_loads_next_to(path, write, capsys)
    finally:
        os.chmod(path, 0o644)


@pytest.mark.parametrize("data", [b"", b"   \n\t\r\n  \n", b"\n"])
def test_empty_and_whitespace_only(data, write, capsys):
    path = write("empty.json", data)
    failed_alone(path, capsys, "empty")
    still_loads_next_to(path, write, capsys)


def test_empty_after_decompression(write, capsys):
    failed_alone(write("empty.json.gz", gzipped(b"")), capsys, "empty")
    failed_alone(write("empty.zst", zstded(b"  \n")), capsys, "empty")


def test_random_text(write, capsys):
    path = write("notes.txt", "Dear diary,\nthe traces were somewhere else.\n")
    failed_alone(path, capsys, "not otlp")
    still_loads_next_to(path, write, capsys)


@pytest.mark.parametrize("seed", range(8))
def test_random_binary(seed, write, capsys):
    rnd = random.Random(seed)
    data = bytes([rnd.choice([0xFF, 0x13, 0x80, 0xC3, 0x7F])]) + rnd.randbytes(500)
    path = write(f"blob{seed}.bin", data)
    failed_alone(path, capsys, "not otlp")
    still_loads_next_to(path, write, capsys)


@pytest.mark.parametrize("seed", range(6))
def test_random_binary_that_looks_like_protobuf(seed, write, capsys):
    """Starting with 0x0a (a TracesData's first byte) or 0x00 (a stream's length prefix):
    still no traceback and nothing indexed from noise, and a line naming the file."""
    rnd = random.Random(seed)
    data = bytes([(0x0A, 0x00)[seed % 2]]) + rnd.randbytes(400)
    path = write(f"noise{seed}.bin", data)
    index, report = load([path])
    assert len(index) == 0
    assert report.messages and all(m.startswith(path) for m in report.messages)
    code, _, _ = run_cli(capsys, path)
    assert code == 1


@pytest.mark.parametrize("doc, words", [
    ({"foo": 1, "bar": [1, 2]}, "no resourcespans"),
    ({"resourceSpans": "nope"}, "not otlp"),
    ([1, 2, 3], "not an object"),
    ({"data": [{"traceID": "abc", "spans": []}]}, "no jaeger spans"),  # Jaeger, no spans
])
def test_json_that_is_not_otlp(doc, words, write, capsys):
    path = write("other.json", doc)
    index, report = load([path])
    assert len(index) == 0
    assert report.messages and report.messages[0].startswith(f"{path}: ")
    assert words in report.messages[0].lower() or "not otlp" in report.messages[0].lower()
    code, _, err = run_cli(capsys, path)
    assert code == 1 and path in err
    still_loads_next_to(path, write, capsys)


def test_json_scalar_is_not_otlp(write, capsys):
    failed_alone(write("s.json", '"just a string"'), capsys, "not otlp")


def test_truncated_json_document(sdk_request, write, capsys):
    data = sdk_data.to_otlp_json(sdk_request)
    path = write("cut.json", data[: len(data) // 2])
    failed_alone(path, capsys, "not valid json")
    still_loads_next_to(path, write, capsys)


def test_truncated_gzip(sdk_request, write, capsys):
    data = gzipped(to_otlp_json(sdk_request))
    path = write("cut.json.gz", data[: len(data) // 2])
    failed_alone(path, capsys, "gzip", "truncated")
    still_loads_next_to(path, write, capsys)


def test_corrupt_gzip(sdk_request, write, capsys):
    data = bytearray(gzipped(to_otlp_json(sdk_request)))
    data[len(data) // 2] ^= 0xFF
    data[len(data) // 2 + 1] ^= 0xFF
    failed_alone(write("bad.gz", bytes(data)), capsys, "gzip")


@pytest.mark.parametrize("cut", [0.5, 0.99])
def test_truncated_zstd_file(cut, sdk_request, write, capsys):
    """A .zst file cut short is said to be truncated (not 'empty', not silently partial)."""
    data = zstded(to_otlp_json(sdk_request))
    path = write("cut.zst", data[: int(len(data) * cut)])
    failed_alone(path, capsys, "zstd", "truncated")
    still_loads_next_to(path, write, capsys)


def test_truncated_zstd_file_of_a_proto_stream(sdk_request, write, capsys):
    """Cut inside the last frame: nothing half-decoded is loaded as if it were whole."""
    data = zstded(to_proto_stream(sdk_request))
    failed_alone(write("cut.bin", data[:-2]), capsys, "zstd", "truncated")


def _resource_spans_ends(request):
    """Byte offset where each top-level resourceSpans of the serialised request ends."""
    ends, at = [], 0
    for rs in request.resource_spans:
        size = rs.ByteSize()
        at += 1 + len(_varint_bytes(size)) + size
        ends.append((at, sum(len(ss.spans) for ss in rs.scope_spans)))
    return ends


def _varint_bytes(n):
    out = bytearray()
    while True:
        out.append((n & 0x7F) | (0x80 if n > 0x7F else 0))
        n >>= 7
        if not n:
            return bytes(out)


@pytest.mark.parametrize("keep", [0.5, 0.9])
def test_truncated_protobuf_message_keeps_whole_resource_spans(keep, sdk_request, write, capsys):
    """A cut single message: every resourceSpans before the cut loads, the cut one is
    reported with the file's name, and the file counts as loaded."""
    data = to_protobuf(sdk_request)
    cut = int(len(data) * keep)
    whole = [spans for end, spans in _resource_spans_ends(sdk_request) if end <= cut]
    assert whole and len(whole) < len(sdk_request.resource_spans)
    path = write("cut.binpb", data[:cut])
    index, report = load([path])
    assert len(index) == sum(whole)
    assert report.skipped == {"truncated or corrupt resourceSpans": 1}
    assert report.messages == [
        f"{path}: resourceSpans {len(whole) + 1}: the file ends inside resourceSpans "
        f"{len(whole) + 1} ({cut - _resource_spans_ends(sdk_request)[len(whole) - 1][0] - 2} of "
        f"{sdk_request.resource_spans[len(whole)].ByteSize()} bytes)"
    ] or report.messages
    assert not report.failed_files


def test_protobuf_cut_inside_its_first_resource_spans_fails(sdk_request, write, capsys):
    data = to_protobuf(sdk_request)
    first_end = _resource_spans_ends(sdk_request)[0][0]
    path = write("cut.binpb", data[: first_end // 2])
    failed_alone(path, capsys, "truncated", "protobuf")
    still_loads_next_to(path, write, capsys)


# -- streams: earlier messages still load ---------------------------------------------------

def stream_parts(sdk_request):
    parts = sdk_data.split_request(sdk_request)
    counts = [sum(len(ss.spans) for rs in p.resource_spans for ss in rs.scope_spans)
              for p in parts]
    return parts, counts


def test_truncated_stream_keeps_earlier_messages(sdk_request, write, capsys):
    parts, counts = stream_parts(sdk_request)
    data = to_proto_stream(sdk_request)
    path = write("cut.binpb", data[:-10])
    index, report = load([path])
    assert len(index) == sum(counts[:-1])
    assert report.skipped == {"truncated messages": 1}
    [msg] = report.messages
    assert msg.startswith(f"{path}: message {len(parts)}")
    assert "cut short" in msg and msg.count("message") == 1
    assert not report.failed_files
    code, out, err = run_cli(capsys, path)
    assert code == 0 and msg in err


def test_stream_cut_inside_a_length_prefix(sdk_request, write):
    parts, counts = stream_parts(sdk_request)
    first = to_proto_stream(sdk_data.ExportTraceServiceRequest(
        resource_spans=parts[0].resource_spans))
    path = write("cut.binpb", first + b"\x00\x00")
    index, report = load([path])
    assert len(index) == counts[0]
    assert report.skipped == {"truncated messages": 1}
    assert report.messages[0].startswith(f"{path}: message 2")


def test_stream_with_nothing_readable_fails_the_file(write, capsys):
    path = write("lies.binpb", struct.pack(">I", 1000) + b"\x0a\x05short")
    index, report = load([path])
    assert len(index) == 0
    [f] = report.failed_files
    assert "no readable message" in f.error
    assert report.messages == [f"{path}: message 1: cut short (7 of 1000 bytes)",
                               f"{path}: {f.error}"]
    code, _, err = run_cli(capsys, path)
    assert code == 1 and f"{path}: {f.error}" in err


def test_corrupt_zstd_frame_in_stream(sdk_request, write, capsys):
    parts, counts = stream_parts(sdk_request)
    data = bytearray(to_proto_stream(sdk_request, zstd=True))
    # flip bytes in the middle of the second frame (checksummed, so this is detected)
    (n1,) = struct.unpack_from(">I", data, 0)
    (n2,) = struct.unpack_from(">I", data, 4 + n1)
    mid = 4 + n1 + 4 + n2 // 2
    data[mid] ^= 0xFF
    data[mid + 1] ^= 0xFF
    path = write("bad.bin", bytes(data))
    index, report = load([path])
    assert len(index) == sum(counts) - counts[1]
    assert report.skipped == {"corrupt messages": 1}
    [msg] = report.messages
    assert msg.startswith(f"{path}: message 2: ") and "zstd" in msg
    code, _, err = run_cli(capsys, path)
    assert code == 0 and msg in err


def test_corrupt_message_in_plain_stream(sdk_request, write):
    parts, counts = stream_parts(sdk_request)
    garbage = b"\x0a\xff\xff\xff\xff\x0f"  # a field claiming far more bytes than there are
    data = (struct.pack(">I", len(garbage)) + garbage) + to_proto_stream(sdk_request)
    path = write("mixed.binpb", data)
    index, report = load([path])
    assert len(index) == sum(counts)
    assert report.skipped == {"corrupt messages": 1}
    assert report.messages[0].startswith(f"{path}: message 1: ")


# -- JSON Lines: one bad line costs only itself ---------------------------------------------

def jsonl(*docs):
    import json

    return "".join((d if isinstance(d, str) else json.dumps(d)) + "\n" for d in docs)


def test_broken_line_in_the_middle(write, capsys):
    path = write("t.jsonl", jsonl(
        doc_json(span_json(sid(1), "one")),
        '{"resourceSpans": [{"scopeSpans": [',
        doc_json(span_json(sid(3), "three")),
        doc_json(span_json(sid(4), "four")),
    ))
    index, report = load([path])
    assert sorted(index.name) == ["four", "one", "three"]
    assert report.skipped == {"JSON lines that do not parse": 1}
    [msg] = report.messages
    assert msg.startswith(f"{path}:2: ")
    assert not report.failed_files
    code, _, err = run_cli(capsys, path)
    assert code == 0 and msg in err


def test_broken_first_line(write):
    """A JSON Lines file whose first line was cut (a writer killed mid-line, then restarted
    and appending) still loads: only that line is lost."""
    path = write("t.jsonl", jsonl(
        '{"resourceSpans": [{"scopeSpans": [{"spans": [{"traceId": "0af7651916cd',
        doc_json(span_json(sid(2), "two")),
        doc_json(span_json(sid(3), "three")),
    ))
    index, report = load([path])
    assert sorted(index.name) == ["three", "two"]
    assert report.skipped == {"JSON lines that do not parse": 1}
    assert report.messages[0].startswith(f"{path}:1: ")


def test_broken_last_line_without_newline(write):
    text = jsonl(doc_json(span_json(sid(1), "one")), doc_json(span_json(sid(2), "two")))
    path = write("t.jsonl", text + '{"resourceSpans": [{"sco')
    index, report = load([path])
    assert sorted(index.name) == ["one", "two"]
    assert report.messages[0].startswith(f"{path}:3: ")


def test_many_broken_lines_are_counted_but_messages_capped(write):
    bad = ["{broken"] * 20
    path = write("t.jsonl", jsonl(doc_json(span_json(sid(1), "one")), *bad))
    index, report = load([path])
    assert len(index) == 1
    assert report.skipped["JSON lines that do not parse"] == 20
    assert 1 <= len(report.messages) <= 10  # a summary, not a flood
    assert "20 JSON lines that do not parse" in report.lines()[0]


def test_other_signals_are_ignored_not_errors(write, capsys):
    metric = {"resourceMetrics": [{"resource": {}, "scopeMetrics": []}]}
    log = {"resourceLogs": [{"resource": {}, "scopeLogs": []}]}
    path = write("mixed.jsonl", jsonl(metric, doc_json(span_json(sid(1), "one")), log, log,
                                      metric, metric))
    index, report = load([path])
    assert len(index) == 1
    assert report.ignored == {"metrics records (not traces)": 3, "logs records (not traces)": 2}
    assert not report.skipped and not report.messages and not report.failed_files
    code, _, err = run_cli(capsys, path)
    assert code == 0 and "ignored" in err and "skipped" not in err


def test_only_other_signals_loads_nothing(write, capsys):
    path = write("logs.jsonl", jsonl({"resourceLogs": [{}]}, {"resourceLogs": [{}]}))
    index, report = load([path])
    assert len(index) == 0 and not report.skipped
    code, _, err = run_cli(capsys, path)
    assert code == 1


# -- bad records inside good files ----------------------------------------------------------

BAD_SPAN_IDS = ["", "00f067aa0ba902", "00f067aa0ba902b7ff", "zzf067aa0ba902b7",
                "0000000000000000", "not an id at all"]
BAD_TRACE_IDS = ["", "0af7651916cd43dd8448eb211c8031", "0af7651916cd43dd8448eb211c80319cab",
                 "xyz7651916cd43dd8448eb211c80319c", "00000000000000000000000000000000"]


@pytest.mark.parametrize("bad", BAD_SPAN_IDS)
def test_bad_span_id_skips_the_span(bad, write, capsys):
    path = write("t.json", doc_json(
        span_json(sid(1), "root"),
        span_json(bad, "bad one", parent=sid(1)),
        span_json(sid(3), "child", parent=sid(1)),
    ))
    index, report = load([path])
    assert sorted(index.name) == ["child", "root"]
    assert report.skipped == {"spans with an empty or malformed id": 1}
    [msg] = report.messages
    assert msg.startswith(f"{path}: ") and "bad one" in msg
    assert index.find_span(b"") == []
    assert index.children(index.find(bytes.fromhex(TRACE_A), bytes.fromhex(sid(1)))) == [
        index.find(bytes.fromhex(TRACE_A), bytes.fromhex(sid(3)))]
    code, _, err = run_cli(capsys, path)
    assert code == 0 and msg in err


@pytest.mark.parametrize("bad", BAD_TRACE_IDS)
def test_bad_trace_id_skips_the_span_and_makes_no_trace(bad, write):
    path = write("t.json", doc_json(span_json(sid(1), "bad", trace_id=bad),
                                    span_json(sid(2), "good", trace_id=TRACE_B)))
    index, report = load([path])
    assert index.name == ["good"]
    assert index.trace_ids == [bytes.fromhex(TRACE_B)]
    assert report.traces == 1
    assert report.skipped == {"spans with an empty or malformed id": 1}


def test_span_skipped_for_its_span_id_leaves_no_empty_trace(write, capsys):
    """A trace whose only span is skipped does not show up as a trace of 0 spans."""
    path = write("t.json", doc_json(span_json("", "lost", trace_id=TRACE_B),
                                    span_json(sid(2), "kept")))
    index, report = load([path])
    assert index.trace_ids == [bytes.fromhex(TRACE_A)]
    assert report.traces == 1 and "loaded 1 span in 1 trace from" in report.lines()[0]
    assert [s.spans for s in index.traces] == [1]


def test_base64_ids_of_the_wrong_length_are_skipped(write):
    import base64

    b64 = base64.b64encode
    path = write("t.json", doc_json(
        span_json(b64(bytes(range(1, 8))).decode(), "7-byte span id",
                  trace_id=b64(bytes(range(1, 17))).decode()),
        span_json(b64(bytes(range(1, 9))).decode(), "ok",
                  trace_id=b64(bytes(range(1, 17))).decode()),
    ))
    index, report = load([path])
    assert index.name == ["ok"]
    assert index.span_id == [bytes(range(1, 9))]
    assert report.skipped == {"spans with an empty or malformed id": 1}


@pytest.mark.parametrize("bad_link", [
    link_json("", sid(1)),
    link_json(TRACE_A, ""),
    link_json(TRACE_A, "00f067aa0ba9"),
    link_json("nothex" * 5 + "xx", sid(1)),
    link_json(TRACE_A, "0000000000000000"),
    {"spanId": sid(1)},
])
def test_bad_link_id_skips_the_link_keeps_the_span(bad_link, write, capsys):
    path = write("t.json", doc_json(
        span_json(sid(1), "target"),
        span_json(sid(2), "holder", links=[bad_link, link_json(TRACE_A, sid(1), why="ok")]),
    ))
    index, report = load([path])
    assert sorted(index.name) == ["holder", "target"]
    target = index.find(bytes.fromhex(TRACE_A), bytes.fromhex(sid(1)))
    holder = index.find(bytes.fromhex(TRACE_A), bytes.fromhex(sid(2)))
    # only the good link is indexed; the bad one never resolves to anything
    assert index.links_of(holder) == [(bytes.fromhex(TRACE_A), bytes.fromhex(sid(1)), target)]
    assert index.linked_from(target) == [holder]
    assert report.skipped == {"links with an empty or malformed id": 1}
    [msg] = report.messages
    assert msg.startswith(f"{path}: ") and "holder" in msg
    assert index.traces[0].links_out == 1 and index.traces[0].links_in == 1
    code, _, err = run_cli(capsys, path)
    assert code == 0 and msg in err


@pytest.mark.parametrize("bad", ["00f067aa0ba902", "zzf067aa0ba902b7", "x", "00f067aa0ba902b7ff"])
def test_malformed_parent_id_keeps_the_span_with_a_warning(bad, write):
    path = write("t.json", doc_json(span_json(sid(1), "root"),
                                    span_json(sid(2), "odd", parent=bad)))
    index, report = load([path])
    odd = index.find(bytes.fromhex(TRACE_A), bytes.fromhex(sid(2)))
    assert odd is not None and index.parent_id[odd] == b""
    assert index.parent[odd] == -1 and not index.is_orphan(odd)
    assert report.warnings == {"parent ids malformed (span kept as a root)": 1}
    assert not report.skipped
    [msg] = report.messages
    assert msg.startswith(f"{path}: ") and "odd" in msg


@pytest.mark.parametrize("zero", ["0000000000000000", "AAAAAAAAAAA="])
def test_all_zero_parent_id_means_no_parent(zero, write):
    """Converters (Jaeger, Zipkin) write an all-zero parent for a root: a root, not an
    orphan, and no warning."""
    path = write("t.json", doc_json(span_json(sid(1), "root", parent=zero)))
    index, report = load([path])
    assert index.parent_id[0] == b""
    assert not index.is_orphan(0)
    assert index.traces[0].root == 0
    assert not report.warnings and not report.messages


def test_all_zero_parent_id_in_protobuf(write):
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
        ExportTraceServiceRequest,
    )

    req = ExportTraceServiceRequest()
    sp = req.resource_spans.add().scope_spans.add().spans.add()
    sp.trace_id = bytes.fromhex(TRACE_A)
    sp.span_id = bytes.fromhex(sid(1))
    sp.parent_span_id = bytes(8)
    sp.name = "root"
    index, report = load([write("t.binpb", req.SerializeToString())])
    assert len(index) == 1 and index.parent_id[0] == b"" and not index.is_orphan(0)


def test_bad_ids_in_protobuf(write):
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
        ExportTraceServiceRequest,
    )

    req = ExportTraceServiceRequest()
    spans = req.resource_spans.add().scope_spans.add().spans
    tid = bytes.fromhex(TRACE_A)
    for name, t, s, p in [("short span id", tid, b"\x01" * 7, b""),
                          ("no trace id", b"", b"\x02" * 8, b""),
                          ("good", tid, b"\x03" * 8, b""),
                          ("odd parent", tid, b"\x04" * 8, b"\x05" * 5),
                          ("zero span id", tid, bytes(8), b"")]:
        sp = spans.add(trace_id=t, span_id=s, parent_span_id=p, name=name)
        sp.attributes.add(key="name.copy").value.string_value = name
    bad_link = spans[2].links.add(trace_id=tid, span_id=b"\x09" * 3)
    bad_link.attributes.add(key="k").value.int_value = 1
    spans[2].links.add(trace_id=tid, span_id=b"\x04" * 8)
    path = write("t.binpb", req.SerializeToString())
    index, report = load([path])
    assert sorted(index.name) == ["good", "odd parent"]
    assert report.skipped == {"spans with an empty or malformed id": 3,
                              "links with an empty or malformed id": 1}
    assert report.warnings == {"parent ids malformed (span kept as a root)": 1}
    # details still come from the right span after skipped ones
    for r in range(len(index)):
        assert index.detail(r).attributes == {"name.copy": index.name[r]}
    good = index.name.index("good")
    assert [t for *_, t in index.links_of(good)] == [index.name.index("odd parent")]
    assert all(m.startswith(f"{path}: ") for m in report.messages)


def test_end_before_start_is_kept_with_duration_zero(write, capsys):
    path = write("t.json", doc_json(
        span_json(sid(1), "skewed", start=5_000, end=4_000),
        span_json(sid(2), "fine", parent=sid(1), start=5_000, end=6_000),
    ))
    index, report = load([path])
    skewed = index.name.index("skewed")
    assert index.start[skewed] == 5_000
    assert index.duration(skewed) == 0
    assert report.warnings == {"spans ending before they start (duration shown as 0)": 1}
    [msg] = report.messages
    assert msg.startswith(f"{path}: ") and "skewed" in msg
    assert index.traces[0].start == 5_000 and index.traces[0].end == 6_000
    code, out, err = run_cli(capsys, path)
    assert code == 0 and msg in err


def test_end_before_start_in_protobuf(write):
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
        ExportTraceServiceRequest,
    )

    req = ExportTraceServiceRequest()
    req.resource_spans.add().scope_spans.add().spans.add(
        trace_id=bytes.fromhex(TRACE_A), span_id=b"\x01" * 8, name="skewed",
        start_time_unix_nano=9_000, end_time_unix_nano=1_000)
    index, report = load([write("t.binpb", req.SerializeToString())])
    assert index.duration(0) == 0 and index.start[0] == 9_000
    assert sum(report.warnings.values()) == 1


@pytest.mark.parametrize("field", ["name", "kind", "status", "attributes", "events", "links",
                                   "startTimeUnixNano", "endTimeUnixNano", "parentSpanId",
                                   "traceState"])
def test_null_field_keeps_the_span(field, write):
    bad = span_json(sid(2), "nully", parent=sid(1))
    bad[field] = None
    path = write("t.json", doc_json(span_json(sid(1), "root"), bad,
                                    span_json(sid(3), "after", parent=sid(1))))
    index, report = load([path])
    assert len(index) == 3, report.lines()
    row = index.find(bytes.fromhex(TRACE_A), bytes.fromhex(sid(2)))
    assert row is not None
    assert index.detail(row).attributes == {}
    assert not report.failed_files
    assert index.name[index.find(bytes.fromhex(TRACE_A), bytes.fromhex(sid(3)))] == "after"


@pytest.mark.parametrize("field", ["traceId", "spanId"])
def test_null_id_skips_the_span(field, write):
    bad = span_json(sid(2), "nully")
    bad[field] = None
    path = write("t.json", doc_json(span_json(sid(1), "ok"), bad))
    index, report = load([path])
    assert index.name == ["ok"]
    assert sum(report.skipped.values()) == 1
    assert report.messages[0].startswith(f"{path}: ")


def test_wrongly_typed_field_skips_only_that_span(write):
    bad = span_json(sid(2), "typo", start="not a number")
    path = write("t.json", doc_json(span_json(sid(1), "ok"), bad, span_json(sid(3), "ok2")))
    index, report = load([path])
    assert sorted(index.name) == ["ok", "ok2"]
    assert report.skipped == {"malformed spans": 1}
    assert report.messages[0].startswith(f"{path}: ") and "typo" in report.messages[0]


@pytest.mark.parametrize("field, value", [("events", 5), ("events", "x"), ("events", {"a": 1}),
                                          ("events", [1, None, {"name": "e", "timeUnixNano": "x",
                                                                "attributes": 4}]),
                                          ("attributes", 5), ("attributes", [1, {"key": 5}])])
def test_wrongly_typed_detail_fields_do_not_break_the_details(field, value, write):
    path = write("t.json", doc_json(span_json(sid(1), "odd", **{field: value})))
    index, report = load([path])
    assert index.name == ["odd"]
    d = index.detail(0)  # read when the span is shown: must not raise
    assert d.attributes == {}
    assert all(e.name == "e" and e.time_ns == 0 for e in d.events)
    assert index.shape(0) == "generic"  # SERVER without attributes


def test_null_containers_are_tolerated(write):
    doc = {"resourceSpans": [
        {"resource": None, "scopeSpans": None},
        {"resource": {"attributes": None},
         "scopeSpans": [{"scope": None, "spans": None},
                        {"scope": {"name": "s"}, "spans": [span_json(sid(1), "ok")]}]},
    ]}
    index, report = load([write("t.json", doc)])
    assert index.name == ["ok"]
    assert index.service(0) == "unknown_service"
    assert not report.failed_files


def test_bad_records_in_one_file_do_not_touch_another(write, capsys):
    bad = write("bad.json", doc_json(span_json("", "no id"), span_json(sid(9), "x", start=9,
                                                                       end=1)))
    good = write("good.json", GOOD)
    index, report = load([bad, good])
    assert sorted(index.name) == ["good child", "good root", "x"]
    assert all(m.startswith(f"{bad}: ") for m in report.messages)
    assert [f.spans for f in report.files] == [1, 2]


def test_a_failed_file_between_good_ones(write, capsys):
    a = write("a.json", doc_json(span_json(sid(1), "a")))
    b = write("b.binpb", to_protobuf(sdk_data.build_request())[:100])
    c = write("c.json", doc_json(span_json(sid(3), "c", trace_id=TRACE_B)))
    index, report = load([a, b, c])
    assert sorted(index.name) == ["a", "c"]
    assert [bool(f.error) for f in report.files] == [False, True, False]
    assert "from 2 of 3 files" in report.lines()[0]
    code, _, err = run_cli(capsys, a, b, c)
    assert code == 0 and b in err


def test_utf8_bom_before_json(sdk_request, write):
    index, report = load([write("bom.json", b"\xef\xbb\xbf" + to_otlp_json(sdk_request))])
    assert len(index) == sdk_data.EXPECTED_SPANS and not report.failed_files


def test_invalid_utf8_in_a_protobuf_name_does_not_fail_the_file(write):
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
        ExportTraceServiceRequest,
    )

    req = ExportTraceServiceRequest()
    req.resource_spans.add().scope_spans.add().spans.add(
        trace_id=bytes.fromhex(TRACE_A), span_id=b"\x01" * 8, name="ok")
    data = req.SerializeToString().replace(b"ok", b"\xff\xfe")
    index, report = load([write("t.binpb", data)])
    assert len(index) == 1 and not report.failed_files
    assert "\ufffd" in index.name[0]


def test_debug_exporter_text_is_recognised(write, capsys):
    text = ("ResourceSpans #0\nResource SchemaURL: \nScopeSpans #0\nSpan #0\n"
            "    Trace ID       : 5b8efff798038103d269b633813fc60c\n")
    error = failed_alone(write("debug.log", text), capsys, "debug")
    assert "not a data format" in error


@pytest.mark.parametrize("spans", [5, "x", {"a": 1}, [5, "x", None]])
def test_wrongly_typed_spans_list(spans, write):
    doc = {"resourceSpans": [
        {"scopeSpans": [{"spans": spans}]},
        {"scopeSpans": [{"spans": [span_json(sid(1), "ok")]}]},
    ]}
    index, report = load([write("t.json", doc)])
    assert index.name == ["ok"]
    assert not report.failed_files


@pytest.mark.parametrize("start, end", [
    (2**64 - 1, 2**64 - 1),          # uint64 max: past what the index can hold
    (1_000, 2**63),                  # end one past int64
    ("-5", "10"),                    # negative: not a uint64
    ("99999999999999999999999", "1"),
])
def test_time_out_of_range_skips_the_span(start, end, write, capsys):
    path = write("t.json", doc_json(span_json(sid(1), "far", start=start, end=end),
                                    span_json(sid(2), "ok")))
    index, report = load([path])
    assert index.name == ["ok"]
    assert sum(report.skipped.values()) == 1
    [msg] = report.messages
    assert msg.startswith(f"{path}: ") and "far" in msg
    code, _, _ = run_cli(capsys, path)
    assert code == 0


def test_time_out_of_range_in_protobuf(write):
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
        ExportTraceServiceRequest,
    )

    req = ExportTraceServiceRequest()
    spans = req.resource_spans.add().scope_spans.add().spans
    spans.add(trace_id=bytes.fromhex(TRACE_B), span_id=b"\x01" * 8, name="far",
              start_time_unix_nano=2**64 - 1, end_time_unix_nano=2**64 - 1)
    ok = spans.add(trace_id=bytes.fromhex(TRACE_A), span_id=b"\x02" * 8, name="ok",
                   start_time_unix_nano=5, end_time_unix_nano=7)
    ok.attributes.add(key="k").value.string_value = "v"
    path = write("t.binpb", req.SerializeToString())
    index, report = load([path])
    assert index.name == ["ok"] and index.trace_ids == [bytes.fromhex(TRACE_A)]
    assert index.detail(0).attributes == {"k": "v"}  # the skipped span does not shift details
    assert report.skipped == {"spans with a time out of range": 1}
    assert report.messages[0].startswith(f"{path}: ") and "far" in report.messages[0]


@pytest.mark.parametrize("flavour", ["camel", "snake"])
def test_one_bad_span_in_a_document_costs_only_that_span(corpus, write, flavour):
    """A document is decoded one resourceSpans at a time; a bad value sends only its
    resourceSpans to the span-by-span path, in either key spelling."""
    import json

    if flavour == "camel":
        doc = json.loads((corpus / "derived" / "otel-tui.traces.python-MessageToJson-default.NONCONFORMING.json").read_text())
        doc["resourceSpans"][0]["scopeSpans"][0]["spans"][0]["startTimeUnixNano"] = "abc"
    else:
        lines = (corpus / "derived" / "otel-tui.traces.snake_case.NONCONFORMING.jsonl").read_text().splitlines()
        doc = {"resource_spans": [rs for line in lines for rs in json.loads(line)["resource_spans"]]}
        doc["resource_spans"][0]["scope_spans"][0]["spans"][0]["start_time_unix_nano"] = "abc"
    index, report = load([write("doc.json", doc)])
    assert len(index) == 546
    assert report.skipped == {"malformed spans": 1}


def test_protobuf_link_without_a_span_id_is_skipped_and_the_others_pair_up(write):
    """Links' ids are read merged (all trace ids, all span ids); a link missing one id must
    not shift the pairs: it is skipped and counted, the others resolve."""
    from opentelemetry.proto.trace.v1 import trace_pb2

    td = trace_pb2.TracesData()
    ss = td.resource_spans.add().scope_spans.add()
    a = ss.spans.add(trace_id=b"\x01" * 16, span_id=b"\x0a" * 8, name="target a")
    b = ss.spans.add(trace_id=b"\x02" * 16, span_id=b"\x0b" * 8, name="target b")
    c = ss.spans.add(trace_id=b"\x03" * 16, span_id=b"\x0c" * 8, name="linker")
    c.links.add(trace_id=a.trace_id, span_id=a.span_id, attributes=[])
    c.links.add(trace_id=b"\x09" * 16)  # no span id
    c.links.add(trace_id=b.trace_id, span_id=b.span_id)
    index, report = load([write("links.binpb", td.SerializeToString())])
    linker = index.find(b"\x03" * 16, b"\x0c" * 8)
    assert [t for *_, t in index.links_of(linker)] == [index.find(a.trace_id, a.span_id),
                                                        index.find(b.trace_id, b.span_id)]
    assert report.skipped == {"links with an empty or malformed id": 1}
    assert len(index.detail(linker).links) == 3  # the details show the span as written


def test_the_report_counts_one_in_the_singular(write, capsys):
    """`skipped 1 duplicate span`, not `1 duplicate spans`; more than one stays plural."""
    one = write("one.json", doc_json(span_json(sid(1), "a"), span_json(sid(1), "a"),
                                     span_json(sid(2), "b", end=500)))
    code, _, err = run_cli(capsys, one)
    summary = err.splitlines()[0]
    assert code == 0
    assert ("skipped 1 duplicate span (already loaded); "
            "warnings: 1 span ending before it starts (duration shown as 0)") in summary
    two = write("two.json", doc_json(span_json(sid(1), "a"), span_json(sid(1), "a"),
                                     span_json(sid(2), "b"), span_json(sid(2), "b")))
    code, _, err = run_cli(capsys, two)
    assert code == 0 and "skipped 2 duplicate spans (already loaded)" in err.splitlines()[0]
