"""Live mode in the TUI (Pilot): spans sent by the SDK's OTLP/HTTP exporter while the app
runs; the Traces table grows in place, `p` pauses the view, the dependencies view says
`N new` when arrivals touch it and `R` rebuilds it."""

from __future__ import annotations

import argparse
import asyncio
import functools
import io

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


def live_config() -> LiveConfig:
    args = argparse.Namespace(listen=False, otlp_grpc=None, otlp_http="127.0.0.1:0",
                              auth_token=None, save=None, max_spans=1_000_000)
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


async def wait_for(pilot, cond, timeout=15.0):
    waited = 0.0
    while not cond():
        await pilot.pause(0.05)
        waited += 0.05
        assert waited < timeout, "timed out"


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
        await pilot.pause(0.7)
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
        await pilot.pause(0.6)  # the live view notes what the dependencies view shows
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
