"""Live mode in the TUI (Pilot): spans sent by the SDK's OTLP/HTTP exporter while the app
runs; the Traces table grows in place, `p` pauses the view, the dependencies view says
`N new` when arrivals touch it and `R` rebuilds it."""

from __future__ import annotations

import argparse
import asyncio
import functools
import io
import time

from opentelemetry import trace
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.trace import Link, SpanContext, SpanKind, TraceFlags

from async_trace_tui.live import LiveConfig
from async_trace_tui.loading import default_sample
from async_trace_tui.ui.app import DEPS_TAB, create_app
from async_trace_tui.ui.live_mode import LiveHeader
from async_trace_tui.ui.screens import ReportScreen, report_text

SIZE = (160, 40)
PAYMENTS_TRACE = "060bed79214119cf6d84cc7956364be9"


def run_async(fn):
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        return asyncio.run(fn(*args, **kwargs))

    return wrapper


def live_config(max_spans: int = 1_000_000) -> LiveConfig:
    args = argparse.Namespace(listen=False, otlp_grpc=None, otlp_http="127.0.0.1:0",
                              auth_token=None, save=None, max_spans=max_spans)
    return LiveConfig.from_args(args, err=io.StringIO())


def send(port: int, traces: int, service: str = "live-svc",
         link_to: tuple[int, int] | None = None) -> None:
    """`traces` two-span traces from the SDK over OTLP/HTTP; with `link_to` (trace id,
    span id), the first root links to that span."""
    provider = TracerProvider(resource=Resource.create({"service.name": service}))
    provider.add_span_processor(BatchSpanProcessor(
        OTLPSpanExporter(endpoint=f"http://127.0.0.1:{port}/v1/traces"),
        max_queue_size=4096, schedule_delay_millis=20))
    tracer = provider.get_tracer("live-ui")
    for n in range(traces):
        links = []
        if link_to is not None and n == 0:
            links = [Link(SpanContext(link_to[0], link_to[1], is_remote=True,
                                      trace_flags=TraceFlags(1)))]
        with tracer.start_as_current_span(f"job {n}", kind=SpanKind.CONSUMER, links=links,
                                          context=trace.set_span_in_context(trace.INVALID_SPAN)):
            with tracer.start_as_current_span("step"):
                pass
    assert provider.force_flush(20_000)
    provider.shutdown()


async def wait_for(pilot, cond, timeout=60.0):
    """Until `cond()` holds: on state, never on a guess of how long it takes (the machine
    may be loaded); the clock is the real one, the timeout generous."""
    deadline = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < deadline, "timed out"
        await pilot.pause(0.05)


def header(app) -> str:
    return str(app.query_one(LiveHeader).render())


@run_async
async def test_spans_arriving_grow_the_table_in_place_and_p_pauses_the_view():
    config = live_config()
    port = config.http[1]
    app = create_app([str(default_sample())], live=config)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: not app.loading)
        table = app.traces_table
        assert table.row_count == 7
        table.sort_by("spans", reverse=True)
        table.move_cursor(2)
        chosen = table.current_row.trace_id
        await asyncio.to_thread(send, port, 30)
        await wait_for(pilot, lambda: table.row_count == 37)
        assert table.current_row.trace_id == chosen  # the selection held
        counts = [r.spans for r in table.visible_rows]
        assert counts == sorted(counts, reverse=True)  # and the sort
        assert "live-svc" in {r.root_service for r in table.all_rows}
        text = header(app)
        assert "spans/s" in text and "109 spans  ·  37 traces" in text

        # p: the view stops, ingest goes on; p again catches up
        await pilot.press("p")
        assert app.live.paused and "PAUSED" in header(app)
        await asyncio.to_thread(send, port, 5)
        await wait_for(pilot, lambda: len(app.index) == 119)
        await wait_for(pilot, lambda: "119 spans" in header(app))  # a refresh since
        assert table.row_count == 37
        await pilot.press("p")
        await wait_for(pilot, lambda: table.row_count == 42)

        # a filter holds too
        app.traces_pane.set_filter("live-svc")
        assert table.row_count == 35
        await asyncio.to_thread(send, port, 3)
        await wait_for(pilot, lambda: table.row_count == 38)

        app.action_report()
        await pilot.pause()
        assert isinstance(app.screen, ReportScreen)
        text = report_text(app.report).plain
        assert "requests:" in text and "0 rejected" in text and "dropped" in text


@run_async
async def test_dependencies_view_says_n_new_and_r_rebuilds_keeping_the_cursor():
    config = live_config()
    port = config.http[1]
    app = create_app([str(default_sample())], live=config)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: not app.loading)
        t = app.index.trace_index[bytes.fromhex(PAYMENTS_TRACE)]
        root = app.index.traces[t].root
        pane = await app.open_dependencies(root)
        await wait_for(pilot, lambda: pane.view is not None)
        # the live view notes what the dependencies view shows (on its next refresh)
        await wait_for(pilot, lambda: app.live.watching is pane.view)
        before = pane.dep_tree.cursor_node.key
        assert "new" not in header(app)
        # a consumer in a new trace links to the batch consumer's span: it touches the view
        await asyncio.to_thread(send, port, 1, "late-svc",
                                (int(PAYMENTS_TRACE, 16), int(app.index.span_id[root].hex(), 16)))
        await wait_for(pilot, lambda: app.live.deps_new > 0)
        await wait_for(pilot, lambda: "new (R rebuilds)" in header(app))
        assert app.index.linked_from(root)  # the link resolved on arrival
        await pilot.press("R")
        await wait_for(pilot, lambda: app.live.deps_new == 0 and "new" not in header(app))
        assert app.tabs.active == DEPS_TAB
        assert pane.dep_tree.cursor_node.key == before
        labels = [n.operation for n, _ in pane.dep_tree.shown_nodes()]
        assert any("job 0" in label for label in labels)


def test_live_growth_keeps_every_sort_order_without_sorting_everything_again():
    """Rows added at the end, in the middle and rows whose key changed all land where a
    full sort puts them, for every sort key (ties: any order of equal keys)."""
    import random
    from types import SimpleNamespace

    from async_trace_tui.ui.widgets.traces_table import _SORT_FIELDS, grown_order, sort_order

    rnd = random.Random(5)

    def row(start: int) -> SimpleNamespace:
        return SimpleNamespace(start_ns=start, duration_ns=rnd.randrange(1000),
                               spans=rnd.randrange(1, 9), errors=rnd.randrange(3),
                               links_in=rnd.randrange(2), links_out=rnd.randrange(2),
                               root_service=rnd.choice("abc"), root_operation=rnd.choice("xyz"),
                               trace_id=f"{rnd.getrandbits(128):032x}")

    def keys(rows, key, order):
        field, then = _SORT_FIELDS[key]
        return [(getattr(rows[i], field), getattr(rows[i], then) if then else None)
                for i in order]

    for key in _SORT_FIELDS:
        for n, changes, news, late in ((200, 0, 20, False), (200, 3, 5, True),
                                       (200, 60, 80, True), (0, 0, 5, True), (50, 10, 0, True),
                                       (3000, 4, 6, True), (3000, 0, 9, True),
                                       (3000, 40, 300, True), (3000, 90, 20, False)):
            rows = [row(t * 10) for t in range(n)]
            order = sort_order(rows, key)
            moved = {}
            for i in rnd.sample(range(n), changes):  # a late span: more spans, an earlier
                field, then = _SORT_FIELDS[key]     # start, another root
                was = getattr(rows[i], field), getattr(rows[i], then) if then else None
                rows[i] = row(rows[i].start_ns - rnd.randrange(50))
                if was != (getattr(rows[i], field), getattr(rows[i], then) if then else None):
                    moved[i] = was if then else was[0]
            # new traces after the others, or (late) some of them earlier than the last
            rows += [row((n + k) * 10 - (rnd.randrange(n * 10 + 1) if late else 0))
                     for k in range(news)]
            got = grown_order(rows, key, order, moved, n)
            assert sorted(got) == list(range(len(rows))), (key, n)
            assert keys(rows, key, got) == keys(rows, key, sort_order(rows, key)), (key, n)


@run_async
async def test_max_spans_drops_the_earliest_traces_whole_while_the_app_runs():
    """Past --max-spans the traces received first (the preloaded file's, then the first
    ones sent) go, whole; the table, the header and the report say so; the app goes on."""
    config = live_config(max_spans=60)
    port = config.http[1]
    app = create_app([str(default_sample())], live=config)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: not app.loading)
        table = app.traces_table
        stats = app.live.ingest.stats
        preloaded = {r.trace_id for r in table.all_rows}
        assert len(app.index) == 49 and len(preloaded) == 7

        def settled(total: int) -> bool:
            """Everything sent is in the index or dropped, the cap holds, the table shows
            the index as it is."""
            index = app.index
            return (len(index) + stats.dropped_spans == total and len(index) <= 60
                    and table.row_count == sum(1 for s in index.traces if s.spans))

        await asyncio.to_thread(send, port, 40)  # 80 spans: 129 in all
        await wait_for(pilot, lambda: settled(129))
        index = app.index
        kept = {r.trace_id for r in table.all_rows}
        assert stats.dropped_traces == 47 - len(kept) and stats.dropped_spans == 129 - len(index)
        assert not kept & preloaded  # received first: dropped first
        jobs = sorted(int(r.root_operation.split()[1]) for r in table.all_rows)
        assert jobs == list(range(40 - len(jobs), 40))  # the newest ones, in order
        assert all(s.spans == 2 for s in index.traces if s.spans)  # whole traces only
        await wait_for(pilot, lambda: "dropped (--max-spans)" in header(app))
        assert f"{stats.dropped_spans:,} dropped" in header(app)
        app.action_report()
        await pilot.pause()
        assert isinstance(app.screen, ReportScreen)
        assert (f"dropped past --max-spans: {stats.dropped_traces:,} traces, "
                f"{stats.dropped_spans:,} spans") in report_text(app.report).plain
        app.pop_screen()

        # the app goes on: a kept trace opens, more spans arrive and are shown
        newest = next(r for r in table.all_rows if r.root_operation == "job 39")
        t = index.trace_index[bytes.fromhex(newest.trace_id)]
        pane = await app.open_dependencies(index.traces[t].root)
        await wait_for(pilot, lambda: pane.view is not None)
        assert app.tabs.active == DEPS_TAB
        await asyncio.to_thread(send, port, 3, "after-svc")
        await wait_for(pilot, lambda: settled(135)
                       and "after-svc" in {r.root_service for r in table.all_rows})
        assert app.tabs.active == DEPS_TAB and app.deps_pane is not None
