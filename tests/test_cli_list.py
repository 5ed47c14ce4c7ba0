"""`trace-tui FILE --list [--json]`: the Traces table (SPEC §5), and the exit codes."""

from __future__ import annotations

import json
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import pytest
from sdk_data import TRACE_A, TRACE_B, doc_json, link_json, sid, span_json, to_protobuf

from async_trace_tui.cli import main

REPO = Path(__file__).resolve().parent.parent
SAMPLE_JSON = REPO / "async_trace_tui" / "sample" / "checkout-async.otlp.json"
FIELDS = ["trace_id", "root_service", "root_operation", "start_ns", "duration_ns", "spans",
          "errors", "links_in", "links_out", "async_from", "async_to"]


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return code, out, err


def list_json(capsys, *paths):
    code, out, err = run(capsys, *paths, "--list", "--json")
    assert code == 0, err
    return json.loads(out), err


def expected_from_otlp_json(path):
    """The Traces table computed straight from an OTLP/JSON file with the json module,
    by SPEC §5's definitions (independent of the loader and index)."""
    doc = json.loads(path.read_text())
    spans = {}
    for rs in doc["resourceSpans"]:
        service = next((a["value"]["stringValue"] for a in rs["resource"].get("attributes", [])
                        if a["key"] == "service.name"), "unknown_service")
        for ss in rs["scopeSpans"]:
            for sp in ss["spans"]:
                spans[(sp["traceId"], sp["spanId"])] = dict(sp, service=service)
    traces = defaultdict(list)
    for (tid, _), sp in spans.items():
        traces[tid].append(sp)
    out = {}
    for tid, members in traces.items():
        roots = [s for s in members if not s.get("parentSpanId")
                 or (tid, s["parentSpanId"]) not in spans]
        true_roots = [s for s in roots if not s.get("parentSpanId")]
        root = min(true_roots or roots, key=lambda s: int(s["startTimeUnixNano"]))
        start = min(int(s["startTimeUnixNano"]) for s in members)
        end = max(int(s["endTimeUnixNano"]) for s in members)
        out[tid] = {
            "trace_id": tid,
            "root_service": root["service"],
            "root_operation": root["name"],
            "start_ns": start,
            "duration_ns": end - start,
            "spans": len(members),
            "errors": sum(1 for s in members if s.get("status", {}).get("code") == 2),
            "links_out": sum(len(s.get("links", [])) for s in members),
            "links_in": 0,
        }
    came_from, went_to = defaultdict(set), defaultdict(set)
    for (tid, _), sp in spans.items():
        for lk in sp.get("links", []):
            if (lk["traceId"], lk["spanId"]) in spans:
                out[lk["traceId"]]["links_in"] += 1
            if lk["traceId"] != tid:  # a hand-off between traces, by the flow of work
                came_from[tid].add(lk["traceId"])
                if lk["traceId"] in traces:
                    went_to[lk["traceId"]].add(tid)
    for tid, row in out.items():
        row["async_from"] = len(came_from[tid])
        row["async_to"] = len(went_to[tid])
    return out


@pytest.fixture(scope="module")
def sample_expected():
    return expected_from_otlp_json(SAMPLE_JSON)


def test_sample_list_json_matches_the_data(capsys, sample_expected):
    rows, err = list_json(capsys, str(SAMPLE_JSON))
    assert len(rows) == 7
    assert sum(r["spans"] for r in rows) == 49
    for r in rows:
        assert list(r) == FIELDS
    assert {r["trace_id"]: r for r in rows} == sample_expected
    # sorted by start
    assert [r["start_ns"] for r in rows] == sorted(r["start_ns"] for r in rows)
    assert err.splitlines() == ["loaded 49 spans in 7 traces from 1 of 1 file"]  # nothing skipped


def test_sample_async_traces(capsys, sample_expected):
    """The facts the sample's README tells, checked in the CLI's output."""
    rows, _ = list_json(capsys, str(SAMPLE_JSON))
    by_service = defaultdict(list)
    for r in rows:
        by_service[r["root_service"]].append(r)
    assert sorted(by_service) == ["email-worker", "frontend", "payments-worker"]
    assert len(by_service["frontend"]) == 5
    [pay] = by_service["payments-worker"]
    [mail] = by_service["email-worker"]
    assert (pay["root_operation"], pay["spans"], pay["links_out"]) == ("orders process", 7, 5)
    assert pay["errors"] == 1
    # email-worker: 2 links, one to payments-worker's email publish, one not in the file
    assert (mail["root_operation"], mail["spans"], mail["links_out"]) == ("email process", 3, 2)
    # links_in: each front-end trace's orders publish is linked once by the batch consumer;
    # the payments trace gets the email consumer's one resolving link; nothing links to email
    assert [r["links_in"] for r in by_service["frontend"]] == [1] * 5
    assert (pay["links_in"], mail["links_in"]) == (1, 0)
    assert sum(r["links_out"] for r in rows) == 7
    assert sum(r["links_in"] for r in rows) == 6  # 7 links, 1 to a span not in the file
    errors = sorted(r["errors"] for r in by_service["frontend"])
    assert errors == [0, 0, 0, 0, 1]  # the 2nd request's /recommendations timeout
    assert {r["spans"] for r in by_service["frontend"]} == {7, 8, 10}


def test_protobuf_sample_lists_the_same(capsys):
    a, _ = list_json(capsys, str(SAMPLE_JSON))
    b, _ = list_json(capsys, str(SAMPLE_JSON.with_name("checkout-async.binpb")))
    assert a == b


def test_list_json_of_sdk_data(capsys, sdk_request, write):
    rows, _ = list_json(capsys, write("r.binpb", to_protobuf(sdk_request)))
    assert [(r["root_service"], r["root_operation"], r["spans"], r["errors"], r["links_in"],
             r["links_out"]) for r in rows] == [
        ("frontend", "GET /checkout", 7, 0, 1, 0),
        ("frontend", "GET /checkout", 2, 0, 1, 0),
        ("payments-worker", "orders process", 6, 1, 1, 2),
        ("email-worker", "email process", 2, 0, 1, 3),
    ]
    assert [r["duration_ns"] for r in rows] == [50_000_000, 50_000_000, 100_000_000, 20_000_000]


def test_links_out_counts_only_links_with_valid_ids(capsys, write):
    path = write("t.json", doc_json(
        span_json(sid(1), "holder", TRACE_A, links=[
            link_json(TRACE_B, sid(2)), link_json(TRACE_B, sid(9)), link_json("", ""),
            link_json(TRACE_B, "bad")]),
        span_json(sid(2), "target", TRACE_B),
    ))
    rows, err = list_json(capsys, path)
    by_op = {r["root_operation"]: r for r in rows}
    assert by_op["holder"]["links_out"] == 2  # the two with valid ids; one resolves
    assert by_op["target"]["links_in"] == 1
    assert "2 links with an empty or malformed id" in err


def test_list_text_table(capsys):
    code, out, err = run(capsys, str(SAMPLE_JSON), "--list")
    assert code == 0
    assert "payments-worker" in out and "orders process" in out
    assert "email-worker" in out and "GET /checkout" in out
    assert "loaded 49 spans in 7 traces" in err


def text_columns(out: str) -> list[dict[str, str]]:
    """--list's text rows by column title (titles and values are split on 2+ spaces)."""
    import re

    head, *lines = out.splitlines()
    titles = re.split(r"\s{2,}", head.strip())
    return [dict(zip(titles, re.split(r"\s{2,}", line.strip()), strict=True)) for line in lines]


def test_list_text_names_async_columns_by_the_flow_of_work(capsys):
    """The batch consumer continued the work of 5 producer traces ("async from 5"); each
    producer's work went on in 1 trace ("async to 1"); the e-mail trace continued the
    payments trace and one that is not loaded."""
    _, out, _ = run(capsys, str(SAMPLE_JSON), "--list")
    rows = text_columns(out)
    assert list(rows[0]) == ["start (UTC)", "trace id", "duration", "spans", "errors",
                             "async from", "async to", "root service", "root operation"]
    by_service = defaultdict(list)
    for r in rows:
        by_service[r["root service"]].append((r["async from"], r["async to"]))
    assert by_service["frontend"] == [("0", "1")] * 5
    assert by_service["payments-worker"] == [("5", "1")]
    assert by_service["email-worker"] == [("2", "0")]


def test_list_text_counts_links_as_the_traces_tab_does(capsys, tmp_path):
    """A consumer linking to two spans of one producer trace: the TUI's Traces tab shows
    async from 2 / async to 2 (links); --list says the same under the same titles, and its
    JSON has both counts: 2 links, 1 trace on each side."""
    producer = [span_json(sid(1), "request", TRACE_A), span_json(sid(2), "publish", TRACE_A,
                                                                 parent=sid(1), kind=4),
                span_json(sid(3), "publish", TRACE_A, parent=sid(1), kind=4)]
    consumer = span_json(sid(4), "process batch", TRACE_B, kind=5, start=5_000, end=6_000,
                         links=[link_json(TRACE_A, sid(2)), link_json(TRACE_A, sid(3))])
    path = tmp_path / "batch.json"
    path.write_text(json.dumps(doc_json(*producer, consumer)))
    _, out, _ = run(capsys, str(path), "--list")
    shown = {r["trace id"]: (r["async from"], r["async to"]) for r in text_columns(out)}
    assert shown == {TRACE_A: ("0", "2"), TRACE_B: ("2", "0")}
    rows, _ = list_json(capsys, str(path))
    by_id = {r["trace_id"]: r for r in rows}
    assert [by_id[TRACE_B][k] for k in ("links_out", "async_from")] == [2, 1]
    assert [by_id[TRACE_A][k] for k in ("links_in", "async_to")] == [2, 1]


def test_list_json_async_from_and_to_keep_links_in_and_out(capsys):
    rows, _ = list_json(capsys, str(SAMPLE_JSON))
    [pay] = [r for r in rows if r["root_service"] == "payments-worker"]
    # links count link direction (SPEC §5); async_* count traces by the flow of work
    assert (pay["links_in"], pay["links_out"], pay["async_from"], pay["async_to"]) == (1, 5, 5, 1)


def test_list_text_columns_line_up_and_nothing_is_cut(capsys, write):
    """Every row's columns start where the header's do; a long root operation (last) is
    written whole; control characters in span data show as escapes."""
    long_op = "SELECT " + "x, " * 60 + "y FROM t"
    path = write("t.json", doc_json(
        span_json(sid(1), long_op, TRACE_A),
        span_json(sid(2), "evil\x1b[31m\u202e", TRACE_B),
        service="a-rather-long-service-name"))
    _, out, _ = run(capsys, path, "--list")
    head, *lines = out.splitlines()
    assert long_op in out and "\x1b" not in out and "\u202e" not in out
    assert "evil\\e[31m\\u202e" in out
    service_at = head.index("root service")
    operation_at = head.index("root operation")
    for line in lines:
        assert line[service_at:].startswith("a-rather-long-service-name")
        assert line[operation_at - 2:operation_at] == "  " and line[operation_at] != " "


def test_list_json_escapes_control_and_bidi_characters(capsys, write):
    name = "a\x00\x1b\x7f\x85\u202e\u2066b"
    path = write("t.json", doc_json(span_json(sid(1), name, TRACE_A)))
    code, out, _ = run(capsys, path, "--list", "--json")
    assert code == 0
    for c in "\x00\x1b\x7f\x85\u202e\u2066":
        assert c not in out
        assert f"\\u{ord(c):04x}" in out
    assert json.loads(out)[0]["root_operation"] == name


def test_list_text_streams_its_rows():
    """--list writes as it goes (a chunk at a time), not one table rendered whole."""
    import io

    from async_trace_tui.loading import load
    from async_trace_tui.views.glyphs import glyphs
    from async_trace_tui.views.render_list import write_text
    from async_trace_tui.views.traces import trace_rows

    class Counting(io.StringIO):
        writes = 0

        def write(self, s: str) -> int:
            self.writes += 1
            return super().write(s)

    index, _ = load([str(SAMPLE_JSON)])
    rows = trace_rows(index) * 3000  # 21,000 rows
    out = Counting()
    write_text(rows, out, glyphs())
    assert out.getvalue().count("\n") == len(rows) + 1
    assert out.writes > 3


def test_no_file_opens_the_bundled_sample(capsys):
    rows, _ = list_json(capsys)
    assert len(rows) == 7 and sum(r["spans"] for r in rows) == 49


def test_exit_1_when_nothing_loaded(capsys, tmp_path, write):
    code, out, err = run(capsys, str(tmp_path / "missing.json"), "--list", "--json")
    assert code == 1 and out == ""
    assert f"{tmp_path / 'missing.json'}: no such file" in err
    assert "nothing could be loaded" in err
    code, out, err = run(capsys, write("e.json", ""), "--list")
    assert code == 1 and out == ""


def test_exit_0_when_something_loaded_beside_a_failure(capsys, tmp_path):
    code, out, err = run(capsys, str(tmp_path / "missing.json"), str(SAMPLE_JSON),
                         "--list", "--json")
    assert code == 0
    assert len(json.loads(out)) == 7
    assert "no such file" in err and "from 1 of 2 files" in err


@pytest.mark.parametrize("argv", [
    ["--no-such-option"],
    ["--list", "--async-cap", "-1"],
    ["--list", "--depth", "many"],
    ["--list", "--agg", "median"],
])
def test_exit_2_on_usage_errors(argv, capsys):
    with pytest.raises(SystemExit) as e:
        main([str(SAMPLE_JSON), *argv])
    assert e.value.code == 2
    _, err = capsys.readouterr()
    assert "usage" in err.lower() and "Traceback" not in err


def test_python_dash_m_subprocess(tmp_path):
    """The module entry point, as a user would run it: stdout JSON, report on stderr."""
    p = subprocess.run(
        [sys.executable, "-m", "async_trace_tui", str(SAMPLE_JSON), "--list", "--json"],
        capture_output=True, text=True, cwd=tmp_path, timeout=60)
    assert p.returncode == 0, p.stderr
    rows = json.loads(p.stdout)
    assert len(rows) == 7 and sum(r["spans"] for r in rows) == 49
    assert p.stderr.startswith("loaded 49 spans in 7 traces")

    p = subprocess.run(
        [sys.executable, "-m", "async_trace_tui", str(tmp_path / "nope"), "--list"],
        capture_output=True, text=True, cwd=tmp_path, timeout=60)
    assert p.returncode == 1 and "Traceback" not in p.stderr
    assert "no such file" in p.stderr


def test_stdin_dash_subprocess(tmp_path):
    data = SAMPLE_JSON.with_name("checkout-async.binpb").read_bytes()
    p = subprocess.run(
        [sys.executable, "-m", "async_trace_tui", "-", "--list", "--json"],
        input=data, capture_output=True, cwd=tmp_path, timeout=60)
    assert p.returncode == 0, p.stderr
    assert len(json.loads(p.stdout)) == 7


def test_timestamps_are_exact_to_the_millisecond():
    """Start times print truncated to the millisecond, never rounded into the next second
    (a float of ns since 1970 cannot hold them)."""
    from async_trace_tui.views.format import timestamp

    base = 1_767_225_600_000_000_000  # 2026-01-01T00:00:00Z
    assert timestamp(base + 999_999_999) == "2026-01-01 00:00:00.999"
    assert timestamp(base + 1_000_000_000) == "2026-01-01 00:00:01.000"
    assert timestamp(base + 59_123_456_789) == "2026-01-01 00:00:59.123"
    assert timestamp(0) == "-"


def test_list_names_a_root_for_a_trace_whose_parents_loop(capsys, write):
    """Headless --list skips the TUI's lazy maps, but a trace whose spans only point at each
    other still gets its earliest span as the root, as the TUI shows it."""
    path = write("loop.json", doc_json(
        span_json(sid(1), "late", TRACE_A, parent=sid(2), start=3_000, end=4_000),
        span_json(sid(2), "early", TRACE_A, parent=sid(1), start=1_000, end=5_000),
        span_json(sid(3), "fine root", TRACE_B)))
    rows, _ = list_json(capsys, path)
    assert sorted(r["root_operation"] for r in rows) == ["early", "fine root"]


def test_roots_that_start_together_name_the_trace_whatever_the_load_order(capsys, write):
    """Two roots of one trace start at the same microsecond (Jaeger and Zipkin times are
    whole µs): the trace's root is the smaller span id, in either file order, as a store's
    SQL picks it; --flow --trace starts there too."""
    spans = [span_json(sid(2), "second", TRACE_A, start=1_000, end=3_000),
             span_json(sid(1), "first", TRACE_A, start=1_000, end=2_000)]
    for name, order in (("ab.json", spans), ("ba.json", spans[::-1])):
        path = write(name, doc_json(*order))
        rows, _ = list_json(capsys, path)
        assert [r["root_operation"] for r in rows] == ["first"]
        code, out, _ = run(capsys, path, "--flow", "--json", "--trace", TRACE_A)
        assert code == 0 and json.loads(out)["start"]["span_id"] == sid(1)
