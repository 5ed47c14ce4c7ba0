"""A store holding every span twice (an exporter's retry: MergeTree keeps both rows) reads as
the same spans held once, as a file given twice does (SPEC §1: a span already loaded is a
duplicate, never counted twice): the Traces table (counts, errors, links both ways, in every
order), the service map's aggregates, flow distributions' starts, the default trace.

The two hours of SDK-recorded traffic (tests/store_data.py) are exported twice into one
chDB table; the file given twice on the command line is what the store must match.
"""

from __future__ import annotations

import json

import pytest
from store_data import WINDOW, write_store

from async_trace_tui.cli import main
from async_trace_tui.sources import open_source

pytest.importorskip("chdb")


@pytest.fixture(scope="module")
def twice(tmp_path_factory):
    path, db = write_store(tmp_path_factory.mktemp("twice"))
    assert main(["export", path, "--to", f"chdb:{db}"]) == 0  # the retry: every row again
    return path, db


def output(capsys, *argv) -> tuple[object, str]:
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    assert code == 0, err
    return json.loads(out), err


def test_every_span_is_in_the_table_twice(twice):
    _, db = twice
    src = open_source([f"chdb:{db}"], since=WINDOW[1], until=WINDOW[3])
    try:
        src.connect()
        total, distinct = src._rows("SELECT count(), uniqExact(TraceId, SpanId) "
                                    "FROM otel.otel_traces")[0]
    finally:
        src.close()
    assert int(total) == 2 * int(distinct) > 0


def test_traces_table_counts_each_span_once(capsys, twice):
    path, db = twice
    want, err = output(capsys, path, path, "--list", "--json")
    assert "duplicate" in err  # the file given twice: skipped and counted
    got, _ = output(capsys, f"chdb:{db}", *WINDOW, "--list", "--json")
    # (A job and the orphan start in the same nanosecond: the store breaks the tie by id.)
    order = lambda r: (r["start_ns"], r["trace_id"])  # noqa: E731
    assert sorted(got, key=order) == sorted(want, key=order)
    assert any(r["links_in"] for r in want) and any(r["errors"] for r in want)


@pytest.mark.parametrize("sort", ["start", "spans", "errors", "links_out", "links_in", "service"])
def test_every_order_of_the_traces_table_counts_each_span_once(capsys, twice, sort):
    path, db = twice
    want = {r["trace_id"]: r for r in output(capsys, path, "--list", "--json")[0]}
    src = open_source([f"chdb:{db}"], since=WINDOW[1], until=WINDOW[3])
    try:
        for reverse in (True, False):
            rows = [r.as_json() for r in src.trace_rows(sort=sort, reverse=reverse, limit=50)]
            assert rows == [want[r["trace_id"]] for r in rows], (sort, reverse)
            field = {"start": "start_ns", "service": "root_service"}.get(sort, sort)
            values = [r[field] for r in rows]
            assert values == sorted(values, reverse=reverse)
    finally:
        src.close()


@pytest.mark.parametrize("by", ["service", "resource:deployment.environment"])
def test_service_map_counts_each_pair_once(capsys, twice, by):
    path, db = twice
    want, _ = output(capsys, path, path, "--map", "--json", "--by", by)
    got, _ = output(capsys, f"chdb:{db}", *WINDOW, "--map", "--json", "--by", by)
    assert got == want and want["edges"]


@pytest.mark.parametrize("op", ["checkout orders publish", "payments-worker orders process"])
def test_flow_distributions_start_once_per_span(capsys, twice, op):
    path, db = twice
    want, _ = output(capsys, path, path, "--flow", "--op", op, "--json")
    got, _ = output(capsys, f"chdb:{db}", *WINDOW, "--flow", "--op", op, "--json")
    assert got == want and want["flows"] >= 40


def test_limit_on_starts_counts_spans_once(capsys, twice):
    _, db = twice
    code = main([f"chdb:{db}", *WINDOW, "--limit", "5", "--flow", "--op",
                 "checkout orders publish", "--json"])
    out, err = capsys.readouterr()
    assert code == 0 and json.loads(out)["flows"] == 5
    assert "the newest 5 of the 240 spans of the operation in the window (--limit)" in err


def test_default_trace_and_its_view_are_the_files(capsys, twice):
    path, db = twice
    want, want_err = output(capsys, path, path, "--json")
    got, got_err = output(capsys, f"chdb:{db}", *WINDOW, "--json")
    assert got == want
    opened = [line for line in want_err.splitlines() if "opening" in line or "trace" in line]
    assert opened and opened[-1] in got_err
    # the copies the fetch met are said on stderr too, after the view (as `r` says in the TUI)
    assert "duplicate" in want_err and "more than once" in got_err
    assert "0 of 0 files" not in got_err  # a store has no files


def test_copies_fetched_are_skipped_and_counted(twice):
    """What the load report (r in the TUI) says: the copies a fetch met, as a file's."""
    from async_trace_tui.loading import DUPLICATES

    _, db = twice
    src = open_source([f"chdb:{db}"], since=WINDOW[1], until=WINDOW[3])
    try:
        row = src.open()[0]
        t = src.trace_of_row(row)
        assert t is not None and len(src.index.spans_of(t)) == row.spans
        assert src.report.skipped[DUPLICATES] == row.spans
        assert any("more than once" in line for line in src.report_lines())
    finally:
        src.close()
