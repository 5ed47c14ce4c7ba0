"""The store's Traces table, page by page, against rows worked out span by span.

The newest-first and oldest-first pages are found in slices of the window (see
sources/clickhouse/traces.py); two hours of SDK-recorded traffic, with 20-minute jobs whose
spans straddle every slice and a window that cuts traces in two, check that the pages are
exactly those of the spans in the window, whatever the page size and offset.
"""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from sdk_data import to_otlp_json
from store_data import WINDOW, build_traffic, minutes, rfc3339, window_rows, write_store

from async_trace_tui.cli import main
from async_trace_tui.sources import FileSource, open_source
from async_trace_tui.views.traces import SORT_KEYS

pytest.importorskip("chdb")


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    path, db = write_store(tmp_path_factory.mktemp("pages"))
    files = FileSource([path])
    files.open()
    return files.index, db, path


def _sorted(rows, key, reverse):
    """The file source's order (views.traces) with the store's tie-break: the trace id."""
    rows = sorted(rows, key=lambda r: r["trace_id"], reverse=reverse)
    return sorted(rows, key=lambda r: SORT_KEYS[key](SimpleNamespace(**r)), reverse=reverse)


@pytest.mark.parametrize("lo, hi", [(0, 130), (10, 100), (33, 34), (61, 62)])
def test_pages_are_the_windows_rows(data, lo, hi):
    index, db, _ = data
    since, until = minutes(lo), minutes(hi)
    want = window_rows(index, since, until)
    src = open_source([f"chdb:{db}"], since=rfc3339(since), until=rfc3339(until))
    try:
        for sort, reverse in (("start", True), ("start", False), ("duration", True),
                              ("links_in", True), ("service", False)):
            expected = _sorted(want, sort, reverse)
            for limit in (1, 7, 1000):
                for offset in (0, 5):
                    got = [r.as_json() for r in src.trace_rows(sort=sort, reverse=reverse,
                                                               offset=offset, limit=limit)]
                    assert got == expected[offset:offset + limit], (sort, reverse, limit, offset)
        assert len(src.index) == 0  # aggregates only: no span fetched
    finally:
        src.close()


def test_long_jobs_cross_the_slices(data):
    """The first screen's slice (1/32 of a 100-minute window) holds the ends of the jobs
    started 20 minutes before: they must rank by their start, not by what is in the slice."""
    index, db, _ = data
    since, until = minutes(0), minutes(100)
    src = open_source([f"chdb:{db}"], since=rfc3339(since), until=rfc3339(until))
    try:
        newest = src.trace_rows(reverse=True, limit=12)
    finally:
        src.close()
    want = _sorted(window_rows(index, since, until), "start", True)[:12]
    assert [r.as_json() for r in newest] == want
    jobs = [r for r in window_rows(index, since, until) if r["root_operation"] == "nightly report"]
    assert any(j["start_ns"] + j["duration_ns"] > until - 3 * 60 * 10**9 for j in jobs)
    assert not any(r.root_operation == "nightly report" for r in newest[:3])


@pytest.mark.parametrize("query", ["service:payments-worker", "publish", "REPORT", "system=kafka",
                                   "nothing like it"])
def test_filters_newest_first(data, query):
    index, db, _ = data
    since, until = minutes(0), minutes(125)
    src = open_source([f"chdb:{db}"], since=rfc3339(since), until=rfc3339(until))
    try:
        got = [r.as_json() for r in src.trace_rows(query=query, reverse=True, limit=9)]
    finally:
        src.close()
    q = query.lower()
    spans_of: dict[str, list[int]] = {}
    for r in range(len(index)):
        if since <= index.start[r] <= until:
            spans_of.setdefault(index.trace_id_of(r).hex(), []).append(r)

    def matches(row):
        rows = spans_of[row["trace_id"]]
        if q.startswith("service:"):
            return any(index.service(r).lower() == q[8:] for r in rows)
        roots = [r for r in rows if not index.parent_id[r]]
        items = [f"{k}={v}".lower() for r in roots for attrs in
                 (index.detail(r).attributes, index.resource(r).attributes) for k, v in attrs.items()]
        return (any(q in index.service(r).lower() or q in index.name[r].lower() for r in rows)
                or any(q in item for item in items))

    want = [r for r in _sorted(window_rows(index, since, until), "start", True) if matches(r)]
    assert got == want[:9]
    assert (got != []) == (query != "nothing like it")



def test_service_map_of_the_traffic_is_the_files(data, capsys, tmp_path):
    """Two hours of traffic (batch consumers linking three producers each, a CONSUMER child
    in another service, failing calls, a link an hour back): --map --json from the store is
    the file's; over a window, the map of a file of the spans starting in it."""
    _, db, path = data
    spans = build_traffic()
    since, until = minutes(20), minutes(70)
    part = tmp_path / "part.json"
    part.write_bytes(to_otlp_json(encode_spans(
        [s for s in spans if since <= s.start_time <= until])))
    for store_args, file in ((WINDOW, path), (["--since", rfc3339(since), "--until", rfc3339(until)],
                                              str(part))):
        for by in ("service", "resource:deployment.environment"):
            assert main([file, "--map", "--json", "--by", by]) == 0
            want = json.loads(capsys.readouterr().out)
            assert main([f"chdb:{db}", *store_args, "--map", "--json", "--by", by]) == 0
            assert json.loads(capsys.readouterr().out) == want
            assert want["edges"]


@pytest.mark.parametrize("op", ["checkout orders publish", "frontend GET /checkout",
                                "payments-worker orders process", "reports nightly report"])
def test_flow_distributions_from_the_store_are_the_files(data, capsys, op):
    """--flow --op: the starts found in SQL, their flows' traces fetched hop by hop (the
    producers' consumers, their e-mail workers), the distribution worked out as for files."""
    _, db, path = data
    assert main([path, "--flow", "--op", op, "--json"]) == 0
    want = json.loads(capsys.readouterr().out)
    assert main([f"chdb:{db}", *WINDOW, "--flow", "--op", op, "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == want and want["flows"] >= 8


def test_the_first_trace_of_a_part_is_fetched_whole(data, capsys):
    """The lookup table bounds a trace to its seconds; the part holding the table's first
    spans begins inside that trace's second (the engine's min-max pruning once dropped it)."""
    index, db, path = data
    first = min(range(len(index)), key=index.start.__getitem__)
    tid = index.trace_id_of(first).hex()
    assert main([path, "--json", "--trace", tid]) == 0
    want = json.loads(capsys.readouterr().out)
    assert main([f"chdb:{db}", *WINDOW, "--json", "--trace", tid]) == 0
    assert json.loads(capsys.readouterr().out) == want


def test_flow_of_a_span_and_the_limit_on_starts(data, capsys):
    index, db, path = data
    producers = sorted((r for r in range(len(index)) if index.name[r] == "orders publish"),
                       key=index.start.__getitem__)
    sid = index.span_id[producers[3]].hex()  # a batch consumer links it (and two more)
    assert main([path, "--flow", "--span", sid, "--json"]) == 0
    want = json.loads(capsys.readouterr().out)
    assert main([f"chdb:{db}", *WINDOW, "--flow", "--span", sid, "--json"]) == 0
    got = json.loads(capsys.readouterr().out)
    # producer ⇢ batch consumer (a link) → e-mail publish ⇢ e-mail consumer (a CONSUMER child)
    assert got == want and got["async_hops"] == 2 and got["traces"] == 2
    assert main([f"chdb:{db}", *WINDOW, "--limit", "5", "--flow", "--op",
                 "checkout orders publish", "--json"]) == 0
    out, err = capsys.readouterr()
    assert json.loads(out)["flows"] == 5
    assert "the newest 5 of the 240 spans of the operation in the window (--limit)" in err


def test_default_trace_is_the_busiest_of_the_first_page(data, capsys):
    """--print/--json without an id on a store: the busiest of the Traces table's first page
    (the newest --limit traces), said on stderr when the window holds more; with all of
    them on the page it is the file's choice (test_store_chdb, test_store_duplicates)."""
    index, db, path = data
    src = open_source([f"chdb:{db}"], since=WINDOW[1], until=WINDOW[3], limit=20)
    try:
        page = src.trace_rows(reverse=True)
    finally:
        src.close()
    best = min(page, key=lambda r: (-(r.links_in + r.links_out), -r.spans, r.start_ns))
    assert best.links_in + best.links_out > 0 and len(page) == 20
    assert main([f"chdb:{db}", *WINDOW, "--limit", "20", "--json"]) == 0
    out, err = capsys.readouterr()
    assert f"showing trace {best.trace_id}" in err
    assert "of the newest 20 traces of the window (--limit)" in err
    assert json.loads(out)["focus"]["trace_id"] == best.trace_id
