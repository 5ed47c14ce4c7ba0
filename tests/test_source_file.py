"""The file-backed Source: what every view reads through (the store implements the same)."""

from __future__ import annotations

import pytest

from async_trace_tui.loading import default_sample
from async_trace_tui.sources import FileSource, open_source
from async_trace_tui.views.traces import trace_rows

SAMPLE = default_sample()


@pytest.fixture(scope="module")
def source() -> FileSource:
    src = open_source([str(SAMPLE)])
    assert isinstance(src, FileSource) and not src.lazy
    rows = src.open()
    assert [r.trace_id for r in rows] == [r.trace_id for r in trace_rows(src.index)]
    return src


def test_pages_of_the_traces_table_add_up_to_all_of_it(source):
    every = source.trace_rows(sort="duration", reverse=True)
    assert len(every) == len(source.index.trace_ids) > 4
    pages = [source.trace_rows(sort="duration", reverse=True, offset=o, limit=3)
             for o in range(0, len(every), 3)]
    assert [r.trace_id for p in pages for r in p] == [r.trace_id for r in every]
    durations = [r.duration_ns for r in every]
    assert durations == sorted(durations, reverse=True)


def test_filter_by_service_and_by_text(source):
    every = source.trace_rows()
    services = {r.root_service for r in every}
    name = sorted(services)[0]
    only = source.trace_rows(query=f"service:{name}")
    assert only and {r.root_service for r in only} == {name}
    op = every[0].root_operation
    assert all(op.lower() in r.root_operation.lower() or op.lower() in r.root_service.lower()
               for r in source.trace_rows(query=op.upper()))


def test_nothing_to_fetch_from_files(source):
    rows = range(len(source.index))
    assert not source.pending(rows)
    source.fetch(rows)  # a no-op
    t = source.index.traces[0]
    assert source.ensure_trace(t.trace_id) == t.index
    sid = source.index.span_id[t.root]
    assert source.find_span(sid) == [t.root]
    assert source.find_span(sid, b"\0" * 16) == []
