"""The TUI driven headless with Textual's Pilot, on SDK-recorded data.

The bundled sample (async_trace_tui/sample/checkout-async.otlp.json, recorded with the real SDK) holds
49 spans in 7 traces: five `frontend GET /checkout` requests, one `payments-worker orders
process` batch consumer (links to the five producers) and one `email-worker email process`.
Most tests call actions directly; a few press keys to test the bindings themselves.
"""

from __future__ import annotations

import asyncio
import functools
import io
import json
import sys
from pathlib import Path

import pytest
import sdk_data
from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import Link, SpanKind
from spy import record_calls
from waiting import until as wait_until

from async_trace_tui.cli import build_parser
from async_trace_tui.loading import default_sample, load
from async_trace_tui.loading.report import LoadReport
from async_trace_tui.ui.app import DEPS_TAB, TRACES_TAB, create_app, run_app
from async_trace_tui.ui.commands import TraceTuiCommands
from async_trace_tui.ui.dependencies_pane import DependenciesPane
from async_trace_tui.ui.loader import load_for_ui
from async_trace_tui.ui.screens import HelpScreen, ReportScreen
from async_trace_tui.ui.widgets.keybar import KeyBar
from async_trace_tui.ui.widgets.traces_table import TracesTable
from async_trace_tui.ui.widgets.waterfall import Waterfall, tree_order
from async_trace_tui.views.search import build_search
from async_trace_tui.views.traces import trace_rows

SIZE = (160, 50)


def run_async(fn):
    """Run an `async def` test in its own event loop (no pytest-asyncio here)."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        return asyncio.run(fn(*args, **kwargs))

    return wrapper

PAYMENTS_TRACE = "060bed79214119cf6d84cc7956364be9"
EMAIL_TRACE = "4fba675d9f6d26b2d4ae6af5fb68eb68"
FIRST_TRACE = "62f746b484e61ceb95bd447e7184d454"


async def loaded(app, pilot, timeout: float = 20.0, search: bool = False) -> None:
    """Wait for the background load to finish (and with `search`, the full-text search
    built after it, so that nothing changes on screen any more)."""
    waited = 0.0
    while app.loading:
        await pilot.pause(0.02)
        waited += 0.02
        assert waited < timeout, "the load did not finish"
    if search and app.index is not None:
        assert await app.traces_pane.wait_search(timeout)
    await pilot.pause()


async def until(pilot, condition) -> None:
    """Pause until `condition()` holds (message round trips take longer on a loaded
    machine than a fixed number of pauses allows)."""
    await wait_until(pilot, condition)


def screen_lines(app) -> list[str]:
    """What the terminal shows, line by line, as plain text."""
    return [strip.text for strip in app.screen._compositor.render_strips()]


def trace_row(app, hex_id: str) -> int:
    return app.index.trace_index[bytes.fromhex(hex_id)]


# -- the Traces tab ----------------------------------------------------------------------

@run_async
async def test_traces_table_shows_every_trace():
    app = create_app()
    async with app.run_test(size=SIZE) as pilot:
        await loaded(app, pilot)
        table = app.traces_table
        assert table.row_count == 7
        assert app.tabs.active == TRACES_TAB
        assert table.has_focus
        text = "\n".join(screen_lines(app))
        assert "payments-worker" in text and "email-worker" in text
        assert "root service" in text and "async from" in text and "async to" in text
        # The batch consumer continued five producers' work; each producer's trace was
        # continued by it (columns named by the flow of work, not by link direction).
        header = next(line for line in screen_lines(app) if "async from" in line)
        row = next(line for line in screen_lines(app) if "orders process" in line)
        at_from, at_to = header.index("async from") + 9, header.index("async to") + 7
        assert row[at_from] == "5" and row[at_to] == "1"
        # start order: the first request first, the email worker last
        rows = table.visible_rows
        assert rows[0].trace_id == FIRST_TRACE
        assert rows[-1].trace_id == EMAIL_TRACE


@run_async
async def test_sort_changes_order_and_keys_cycle_it():
    app = create_app()
    async with app.run_test(size=SIZE) as pilot:
        await loaded(app, pilot)
        table = app.traces_table
        table.sort_by("duration")  # numbers: biggest first
        durations = [r.duration_ns for r in table.visible_rows]
        assert durations == sorted(durations, reverse=True)
        assert table.visible_rows[0].trace_id == PAYMENTS_TRACE  # 634 ms, the longest
        table.action_reverse_sort()
        assert [r.duration_ns for r in table.visible_rows] == sorted(durations)

        table.sort_by("start", reverse=False)
        await pilot.press("s")  # the binding: next sort column
        assert table.sort_key == "duration"
        await pilot.press("S")
        assert table.sort_reverse is False
        table.sort_by("spans")
        assert table.visible_rows[0].spans == 10


@run_async
async def test_mouse_sorts_by_header_selects_and_opens_rows():
    app = create_app()
    async with app.run_test(size=SIZE) as pilot:
        await loaded(app, pilot)
        table = app.traces_table
        lines = screen_lines(app)
        header_y = next(y for y, line in enumerate(lines) if "root service" in line)
        x = lines[header_y].index("errors")
        await pilot.click(offset=(x + 1, header_y))
        assert table.sort_key == "errors"
        assert [r.errors for r in table.visible_rows][:2] == [1, 1]
        await pilot.click(offset=(5, header_y + 3))  # one click selects the third row
        assert table.cursor == 2 and app.tabs.active == TRACES_TAB
        await pilot.click(offset=(5, header_y + 3), times=2)  # a double click opens it
        await pilot.pause()
        assert app.tabs.active == DEPS_TAB
        assert app.deps_pane.focus_row == table.visible_rows[2].summary.root


@run_async
async def test_double_click_on_a_row_opens_it_like_enter():
    """A double click on the table itself (Textual selects all text of the widget first:
    `widget.query("*")`) opens the trace; the app does not die."""
    app = create_app()
    async with app.run_test(size=SIZE) as pilot:
        await loaded(app, pilot)
        table = app.traces_table
        await pilot.click(TracesTable, offset=(5, 1 + 2), times=2)  # the header, then rows
        await pilot.pause()
        assert app.is_running and app.return_code is None
        assert app.tabs.active == DEPS_TAB
        assert app.deps_pane.focus_row == table.visible_rows[2].summary.root


@run_async
async def test_no_widget_shadows_a_textual_attribute():
    """An instance attribute named like a public Widget attribute (`query`, `children`...)
    breaks Textual's own calls into it."""
    from textual.widget import Widget

    app = create_app()
    async with app.run_test(size=SIZE) as pilot:
        await loaded(app, pilot)
        await app.open_dependencies(app.index.traces[0].root)
        await app.open_waterfall(0)
        await pilot.pause()
        for widget in app.screen.query("*"):
            shadowed = {k for k in vars(widget) if not k.startswith("_") and hasattr(Widget, k)}
            assert not shadowed, (type(widget).__name__, shadowed)


@run_async
async def test_filter_by_service_keeps_one_row_and_escape_clears():
    app = create_app()
    async with app.run_test(size=SIZE) as pilot:
        await loaded(app, pilot)
        pane, table = app.traces_pane, app.traces_table
        await pilot.press("slash")  # the binding opens the input
        assert pane.filter_input.has_focus
        pane.filter_input.value = "payments"
        await pilot.pause()
        assert [r.trace_id for r in table.visible_rows] == [PAYMENTS_TRACE]
        # the full search (every span, root attributes) arrives from a worker; same answer
        await pane.wait_search(5)
        await pilot.pause()
        assert table.has_search_texts
        assert [r.trace_id for r in table.visible_rows] == [PAYMENTS_TRACE]
        assert "1 match for 'payments'" in "\n".join(screen_lines(app))
        await pilot.press("escape")
        assert table.row_count == 7
        assert table.has_focus


@run_async
async def test_typing_a_filter_repaints_without_laying_out_the_screen():
    app = create_app()
    async with app.run_test(size=SIZE) as pilot:
        await loaded(app, pilot)
        await pilot.press("slash")
        await pilot.pause()
        laid_out = record_calls(app.screen, "_refresh_layout")
        await pilot.press(*"payments")
        await pilot.pause()
        assert [r.trace_id for r in app.traces_table.visible_rows] == [PAYMENTS_TRACE]
        assert app.traces_pane.filter_input.value == "payments"
        assert "/ payments" in "\n".join(screen_lines(app))
        await pilot.press("escape")
        await pilot.pause()
        assert app.traces_table.row_count == 7
        assert not laid_out


@run_async
async def test_moving_the_focus_repaints_only_what_changes():
    app = create_app()
    async with app.run_test(size=SIZE) as pilot:
        await loaded(app, pilot)
        full = record_calls(app.screen._compositor, "render_full_update")
        await pilot.press("slash")
        await pilot.pause()
        assert app.traces_pane.filter_input.has_focus
        await pilot.press("escape")
        await pilot.pause()
        assert app.traces_table.has_focus
        assert not full


def footer_keys(app) -> list[str]:
    keybar = app.screen.query_one(KeyBar)
    return [desc for _key, _shown, desc, _enabled in keybar._items]


@run_async
async def test_ascii_footer_names_its_keys_in_ascii():
    app = create_app(ascii=True)
    async with app.run_test(size=SIZE) as pilot:
        await loaded(app, pilot)
        await app.open_dependencies(app.index.traces[trace_row(app, PAYMENTS_TRACE)].root)
        await pilot.pause()
        keybar = app.screen.query_one(KeyBar)
        shown = {desc: key for _key, key, desc, _enabled in keybar._items}
        assert shown["Expand"] == "enter" and shown["Group by"] == "g"
        assert all(key.isascii() for key in shown.values())
        assert all(line.isascii() for line in screen_lines(app)[-1:])


@run_async
async def test_the_footer_offers_esc_only_while_there_is_a_filter():
    app = create_app()
    async with app.run_test(size=SIZE) as pilot:
        await loaded(app, pilot)
        pane = app.traces_pane
        assert "Clear filter" not in footer_keys(app) and "Sort" in footer_keys(app)
        await pilot.press("slash")
        await pilot.pause()
        assert "Clear filter" in footer_keys(app)
        await pilot.press(*"email", "enter")  # back to the table, the filter kept
        await pilot.pause()
        assert app.traces_table.has_focus and "Clear filter" in footer_keys(app)
        await pilot.press("escape")
        await pilot.pause()
        assert pane.filter_input.value == "" and "Clear filter" not in footer_keys(app)
        pane.set_filter("frontend")  # from the command palette
        await pilot.pause()
        assert "Clear filter" in footer_keys(app)


@run_async
async def test_filter_reaches_every_span_and_root_attributes():
    app = create_app()
    async with app.run_test(size=SIZE) as pilot:
        await loaded(app, pilot)
        pane, table = app.traces_pane, app.traces_table
        assert await pane.wait_search(5)  # built in the background after the load
        pane.set_filter("UPDATE stock")  # a span deep in the first trace only
        await pilot.pause()
        assert [r.trace_id for r in table.visible_rows] == [FIRST_TRACE]
        pane.set_filter("service:checkout")  # any span of the service: the five requests
        assert table.row_count == 5
        pane.set_filter("firefox")  # a root span attribute (user_agent.original)
        assert [r.trace_id for r in table.visible_rows] == ["60ec6db25097c0405e571eaa66c164e7"]


def test_table_filters_root_service_and_operation_at_once_and_the_rest_later():
    index, _ = load([str(default_sample())])
    table = TracesTable(trace_rows(index))
    table.set_filter("UPDATE stock")  # not a root operation
    assert table.row_count == 0
    table.set_filter("payments")  # a root service: answered without the search text
    assert [r.trace_id for r in table.visible_rows] == [PAYMENTS_TRACE]
    table.set_filter("UPDATE stock")
    search, services_text, _ = build_search(index)
    table.set_search_texts(search, services_text)
    assert [r.trace_id for r in table.visible_rows] == [FIRST_TRACE]


# -- opening views -----------------------------------------------------------------------

@run_async
async def test_enter_on_a_trace_opens_its_dependencies():
    app = create_app()
    async with app.run_test(size=SIZE) as pilot:
        await loaded(app, pilot)
        await pilot.press("down")  # the second trace
        await pilot.press("enter")
        await pilot.pause()
        assert app.tabs.active == DEPS_TAB
        pane = app.deps_pane
        assert isinstance(pane, DependenciesPane)
        second = app.traces_table.visible_rows[1]
        assert pane.focus_row == second.summary.root
        # choosing another trace refocuses the same tab
        app.traces_table.move_cursor(5)
        app.traces_table.action_choose()
        await pilot.pause()
        assert pane.focus_row == app.index.traces[trace_row(app, PAYMENTS_TRACE)].root
        assert len(app.query(DependenciesPane)) == 1
        assert "orders process" in "\n".join(screen_lines(app))


@run_async
async def test_a_big_trace_opens_with_the_keyboard_on_its_tree(monkeypatch):
    """A big trace's view is made in a thread, its tree covered by a loading indicator
    meanwhile (and unable to take the focus): once it is up, the tree has the focus and
    the pane's keys work without a click."""
    import async_trace_tui.ui.dependencies_pane as module

    monkeypatch.setattr(module, "BACKGROUND_SPANS", 0)  # every trace counts as big
    app = create_app()
    async with app.run_test(size=SIZE) as pilot:
        await loaded(app, pilot)
        for _ in range(2):  # the first open, then another trace in the same tab
            root = app.traces_table.current_row.summary.root
            await pilot.press("enter")

            def built(root: int = root) -> bool:  # (in a thread: slow on a loaded machine)
                pane = app.deps_pane
                return pane is not None and pane.view is not None and not pane.updating \
                    and pane.view.focus == root

            await until(pilot, built)
            pane = app.deps_pane
            await pilot.pause()  # focus() takes effect on the next turn of the loop
            assert pane.dep_tree.has_focus
            assert "Group by" in footer_keys(app)
            await pilot.press("G")
            assert pane.group_by != "operation"
            pane.group_by = "operation"
            await pilot.press("t", "down")


@run_async
async def test_open_trace_message_opens_waterfall_tabs_and_w_closes():
    app = create_app()
    async with app.run_test(size=SIZE) as pilot:
        await loaded(app, pilot)
        app.traces_table.action_choose()
        await until(pilot, lambda: app.deps_pane is not None and app.deps_pane.view is not None
                    and not app.deps_pane.updating)
        await pilot.pause()
        pane = app.deps_pane
        t = trace_row(app, PAYMENTS_TRACE)
        span = app.index.spans_of(t)[3]
        pane.post_message(DependenciesPane.OpenTrace(pane, t, span))
        await until(pilot, lambda: app.tabs.active == "wf-" + PAYMENTS_TRACE)
        await pilot.pause()
        wf = app.query_one(f"#wf-{PAYMENTS_TRACE} Waterfall", Waterfall)
        assert wf.selected_span == span
        assert wf.has_focus
        # a second one, from the tree's own key
        await app.open_waterfall(trace_row(app, EMAIL_TRACE))
        assert app.waterfall_tabs() == ["wf-" + PAYMENTS_TRACE, "wf-" + EMAIL_TRACE]
        # opening one again activates it, no duplicate
        await app.open_waterfall(t, -1)
        assert app.tabs.active == "wf-" + PAYMENTS_TRACE
        assert len(app.waterfall_tabs()) == 2
        await pilot.press("w")
        await pilot.pause()
        assert app.waterfall_tabs() == ["wf-" + EMAIL_TRACE]
        assert app.tabs.active == DEPS_TAB
        await pilot.press("w")  # not a waterfall: nothing closes
        await pilot.pause()
        assert app.tabs.active == DEPS_TAB
        assert app.waterfall_tabs() == ["wf-" + EMAIL_TRACE]


@run_async
async def test_o_in_the_dependencies_tree_opens_the_waterfall():
    app = create_app()
    async with app.run_test(size=SIZE) as pilot:
        await loaded(app, pilot)
        await app.open_dependencies(app.index.traces[trace_row(app, EMAIL_TRACE)].root)
        await pilot.pause()
        await pilot.press("o")
        await pilot.pause()
        await pilot.pause()
        assert app.tabs.active == "wf-" + EMAIL_TRACE


@run_async
async def test_waterfall_lists_spans_in_tree_order_and_enter_refocuses():
    app = create_app()
    async with app.run_test(size=SIZE) as pilot:
        await loaded(app, pilot)
        t = trace_row(app, FIRST_TRACE)
        await app.open_waterfall(t)
        await pilot.pause()
        wf = app.query_one(Waterfall)
        idx = app.index
        names = [idx.name[r] for r in wf.spans]
        assert names[0] == "GET /checkout" and len(names) == 10
        # depth first: each span comes right after its parent's earlier subtrees
        for pos, row in enumerate(wf.spans):
            if wf.depths[pos]:
                assert idx.parent[row] in wf.spans[:pos]
        text = "\n".join(screen_lines(app))
        assert "UPDATE stock" in text and "█" in text
        target = names.index("UPDATE stock")
        await pilot.press(*["down"] * target)
        assert wf.cursor == target
        await pilot.press("enter")
        await pilot.pause()
        assert app.tabs.active == DEPS_TAB
        assert app.deps_pane.focus_row == wf.spans[target]


@run_async
async def test_waterfall_marks_rows_with_links_and_its_axis_counts_from_0_in_round_steps():
    import re

    app = create_app()
    async with app.run_test(size=SIZE) as pilot:
        await loaded(app, pilot)
        await app.open_waterfall(trace_row(app, PAYMENTS_TRACE))
        await pilot.pause()
        wf = app.query_one(Waterfall)
        idx = app.index
        lines = screen_lines(app)
        header = next(line for line in lines if "service · operation" in line)
        marks = {}
        for row in wf.spans:
            line = next(ln for ln in lines if idx.name[row] in ln and "█" in ln)
            marks[idx.name[row]] = line[0]
        # The batch consumer links to its producers; the email worker links to its publish.
        assert marks["orders process"] == "⇠" and marks["email publish"] == "⇢"
        assert marks["decode batch"] == " "
        # The axis: 0, then one unit and steps of 1, 2 or 5 of it (the trace lasts 634 ms).
        axis = header[header.index("service · operation") + wf._layout(wf.size.width)[0]:]
        assert axis.split()[0] == "0"
        ticks = re.findall(r"┊(\d+(?:\.\d+)?) (ms|s)", axis)
        assert [unit for _, unit in ticks] == ["ms"] * len(ticks) and len(ticks) >= 3
        values = [float(v) for v, _ in ticks]
        step = values[0]
        assert step in (100, 200, 50) and values == [step * (k + 1) for k in range(len(values))]
        # The status line says what the mark means for the selected span.
        wf.move_cursor(list(wf.spans).index(next(r for r in wf.spans
                                                 if idx.name[r] == "orders process")))
        await pilot.pause()
        assert "⇠ links to 5, from 0" in "\n".join(screen_lines(app))


def test_tree_order_is_iterative_on_a_very_deep_trace(write):
    depth = 20_000
    spans = [sdk_data.span_json(f"{i + 1:016x}", f"op{i}", parent=f"{i:016x}" if i else "",
                                start=1_000 + i, end=10_000_000 - i) for i in range(depth)]
    path = write("deep.json", sdk_data.doc_json(*spans))
    index, _ = load([path])
    rows, depths = tree_order(index, 0)
    assert len(rows) == depth
    assert depths[-1] == depth - 1


# -- help, report, palette ---------------------------------------------------------------

@run_async
async def test_help_lists_every_key_and_the_legend():
    app = create_app()
    async with app.run_test(size=SIZE) as pilot:
        await loaded(app, pilot)
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        screen = "\n".join(screen_lines(app))
        assert "Keys" in screen and "Quit" in screen and "ctrl+p" in screen
        text = app.screen.query_one("#help-text").content.plain  # the whole (scrolling) help
        for expected in ("Quit", "Load report", "Close tab", "Filter", "Sort", "Waterfall",
                         "Dependencies of span", "Group by", "Aggregate", "Internal spans",
                         "Focus span", "Expand", "ctrl+p", "Legend", "pub/sub", "database",
                         "async request"):
            assert expected in text, expected
        sections = dict(app.help_sections())
        deps = dict((d, k) for k, d in sections["Dependencies tab"])
        assert deps["Group by"] == "g" and deps["Internal spans"] == "i"
        await pilot.press("escape")
        assert not isinstance(app.screen, HelpScreen)


@run_async
async def test_report_screen_shows_skipped_records(write):
    lines = sdk_data.to_json_lines(sdk_data.build_request()).splitlines()
    lines.insert(1, b'{"resourceSpans": [ this is not json')
    path = write("traces.jsonl", b"\n".join(lines) + b"\n")
    app = create_app([path])
    async with app.run_test(size=SIZE) as pilot:
        await loaded(app, pilot)
        assert app.report.skipped
        assert app.traces_table.row_count == sdk_data.EXPECTED_TRACES
        await pilot.press("r")
        await pilot.pause()
        assert isinstance(app.screen, ReportScreen)
        text = "\n".join(screen_lines(app))
        assert "JSON lines that do not parse" in text
        assert "traces.jsonl:2" in text  # the message names the file and line
        assert f"{sdk_data.EXPECTED_SPANS} spans" in text


@run_async
async def test_command_palette_lists_actions_traces_and_services():
    app = create_app()
    async with app.run_test(size=SIZE) as pilot:
        await loaded(app, pilot)
        provider = TraceTuiCommands(app.screen)
        await provider.startup()
        discovered = [hit async for hit in provider.discover()]
        found = [hit.text for hit in discovered]
        # Every key of the dependencies tab (but moving the cursor) is in the palette and
        # in the help.
        deps_keys = {h.help.removeprefix("key ") for h in discovered
                     if h.text.startswith("Dependencies:")}
        help_keys = {k for keys, _ in dict(app.help_sections())["Dependencies tab"]
                     for k in [keys, *keys.split("/")]}
        for key in ("g", "G", "a", "i", "L", "f", "o", "/", "n", "N", "e", "E", "+", "-",
                    "backspace", "\\", "{", "}"):
            assert key in deps_keys, key
            assert key in help_keys, key
        for action in ("Traces: filter", "Dependencies: choose the group-by key (type to narrow)",
                       "Dependencies: next aggregation (avg, max, min, sum)",
                       "Dependencies: show or hide internal spans", "Help: keys and legend",
                       "Load report: files, spans, skipped records",
                       "Tabs: close the waterfall or flow tab",
                       "Quit"):
            assert action in found
        hits = [hit async for hit in provider.search("payments")]
        texts = [h.text for h in hits]
        assert "service: payments-worker" in texts
        jump = f"jump to trace payments-worker orders process {PAYMENTS_TRACE}"
        assert jump in texts
        # choosing the service entry filters the table
        service_hit = hits[texts.index("service: payments-worker")]
        await service_hit.command()
        await pilot.pause()
        assert [r.trace_id for r in app.traces_table.visible_rows] == [PAYMENTS_TRACE]
        # checkout is no root service, yet it is listed (every span's service)
        assert "service: checkout" in [h.text async for h in provider.search("checkout")]
        # jumping opens the trace's dependencies
        await hits[texts.index(jump)].command()
        await pilot.pause()
        assert app.tabs.active == DEPS_TAB
        # the palette itself opens with ctrl+p
        await pilot.press("ctrl+p")
        await pilot.pause()
        assert type(app.screen).__name__ == "CommandPalette"


# -- data shown literally ----------------------------------------------------------------

EVIL_NAME = "[bold red]x\x1b[2J"
EVIL_SERVICE = "evil[/]svc\x07"


def evil_request():
    """Spans whose names and attributes look like markup and terminal escapes, recorded
    with the real SDK and encoded by the OTLP exporter."""
    exporter = InMemorySpanExporter()
    provider = TracerProvider(resource=Resource({"service.name": EVIL_SERVICE}),
                              id_generator=sdk_data.SeededIds(11), shutdown_on_exit=False)
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracer = provider.get_tracer("evil")
    root = tracer.start_span(EVIL_NAME, context=Context(), kind=SpanKind.SERVER,
                             start_time=sdk_data.ms(0),
                             attributes={"note": "[link=https://x.example]y[/link]\x1b]8;;\x07"})
    child = tracer.start_span("child [i]italic?[/i]", context=trace.set_span_in_context(root),
                              start_time=sdk_data.ms(1), kind=SpanKind.PRODUCER)
    child.end(end_time=sdk_data.ms(2))
    root.end(end_time=sdk_data.ms(5))
    consumer = tracer.start_span("consume [b]", context=Context(), kind=SpanKind.CONSUMER,
                                 start_time=sdk_data.ms(10),
                                 links=[Link(child.get_span_context())])
    consumer.end(end_time=sdk_data.ms(12))
    spans = exporter.get_finished_spans()
    provider.shutdown()
    return encode_spans(spans)


@run_async
async def test_span_data_is_shown_literally(write):
    path = write("evil.json", sdk_data.to_otlp_json(evil_request()))
    app = create_app([path])
    async with app.run_test(size=SIZE) as pilot:
        await loaded(app, pilot)
        shown_name = "[bold red]x\\e[2J"
        shown_service = "evil[/]svc\\x07"

        def check_screen() -> str:
            text = "\n".join(screen_lines(app))
            assert "\x1b" not in text and "\x07" not in text
            return text

        text = check_screen()
        assert shown_name in text and shown_service in text
        app.traces_table.sort_by("start", reverse=False)
        app.traces_table.action_choose()
        # The tab is added, then its view built (in a thread) and painted.
        await until(pilot, lambda: "child [i]italic?[/i]" in check_screen())
        text = check_screen()
        assert shown_name in text and "child [i]italic?[/i]" in text
        await app.open_waterfall(0)
        await pilot.pause()
        text = check_screen()
        assert shown_name in text and shown_service in text
        provider = TraceTuiCommands(app.screen)
        hits = [h async for h in provider.search("bold")]
        assert any(h.prompt.plain.startswith(f"jump to trace {shown_service} {shown_name}")
                   for h in hits)
        app.traces_pane.set_filter("link=https")  # the root's attribute, as text
        await app.traces_pane.wait_search(5)
        await pilot.pause()
        assert app.traces_table.row_count == 1


# -- starting and loading ----------------------------------------------------------------

@run_async
async def test_trace_option_opens_its_dependencies_directly():
    app = create_app(trace=PAYMENTS_TRACE)
    async with app.run_test(size=SIZE) as pilot:
        await loaded(app, pilot)
        # The tab opens once the loaded index has been taken in.
        await until(pilot, lambda: app.tabs.active == DEPS_TAB)
        assert app.deps_pane.focus_row == app.index.traces[trace_row(app, PAYMENTS_TRACE)].root


@run_async
async def test_unknown_trace_option_notifies_and_stays_on_traces():
    app = create_app(trace="00" * 16)
    async with app.run_test(size=SIZE) as pilot:
        await loaded(app, pilot)
        assert app.tabs.active == TRACES_TAB
        assert any("no trace" in n.message for n in app._notifications)


@run_async
async def test_nothing_loaded_exits_with_status_1(write):
    path = write("not-otlp.json", {"hello": "world"})
    app = create_app([path])
    async with app.run_test(size=SIZE) as pilot:
        waited = 0.0
        while app.is_running and waited < 10:
            await pilot.pause(0.05)
            waited += 0.05
    assert app.nothing_loaded
    assert app.return_code == 1


def test_run_app_without_any_existing_file_prints_the_report(capsys, tmp_path):
    missing = str(tmp_path / "nope.json")
    args = build_parser().parse_args([missing])
    assert run_app([missing], args) == 1
    err = capsys.readouterr().err
    assert "nope.json: no such file" in err
    assert "nothing could be loaded" in err


def test_run_app_rejects_a_malformed_trace_id(capsys):
    args = build_parser().parse_args(["--trace", "xyz"])
    assert run_app([str(default_sample())], args) == 2
    assert "trace id 'xyz' is not hex digits" in capsys.readouterr().err


def test_loader_previews_rows_while_loading(write):
    req = sdk_data.build_request()
    path = write("traces.jsonl", sdk_data.to_json_lines(req))
    previews: list = []
    progress: list = []
    index, rows = load_for_ui([path], LoadReport(), progress=lambda *a: progress.append(a),
                              preview=previews.append, preview_after=0.0)
    assert previews and 0 < len(previews[0]) <= sdk_data.EXPECTED_TRACES
    assert len(rows) == sdk_data.EXPECTED_TRACES
    assert progress[-1][3:] == (1, 1)  # one file of one done


def test_search_texts_cover_every_span():
    index, _ = load([str(default_sample())])
    search, services_text, services = build_search(index)
    t = index.trace_index[bytes.fromhex(FIRST_TRACE)]
    assert "update stock" in search.text(t) and "\x00inventory\x00" in services_text[t]
    assert services == ["checkout", "email-worker", "frontend", "inventory", "payments-worker"]


def test_json_of_the_sample_is_what_the_tests_assume():
    doc = json.loads(Path(default_sample()).read_text())
    assert "resourceSpans" in doc


# -- snapshots (tests/__snapshots__) -----------------------------------------------------

async def _wait_loaded(pilot) -> None:
    await loaded(pilot.app, pilot, search=True)


def test_snapshot_traces_table(snap_compare):
    assert snap_compare(create_app(), terminal_size=(130, 20), run_before=_wait_loaded)


def test_snapshot_filtered_and_sorted(snap_compare):
    async def run_before(pilot) -> None:
        await loaded(pilot.app, pilot, search=True)
        pilot.app.traces_pane.set_filter("frontend")
        pilot.app.traces_table.sort_by("duration")
        await pilot.pause()

    assert snap_compare(create_app(), terminal_size=(130, 20), run_before=run_before)


def test_snapshot_waterfall(snap_compare):
    async def run_before(pilot) -> None:
        app = pilot.app
        await loaded(app, pilot, search=True)
        await app.open_waterfall(trace_row(app, PAYMENTS_TRACE))
        await pilot.pause()
        await pilot.press("down", "down")

    assert snap_compare(create_app(), terminal_size=(130, 20), run_before=run_before)


def test_snapshot_dependencies_of_the_batch_consumer(snap_compare):
    """The heart of the product at a glance: the batch consumer, three of its five converging
    producers plus `+2 more`, the front-end upstream and the second async hop downstream,
    with the controls, the legend and the details panel."""

    async def run_before(pilot) -> None:
        app = pilot.app
        await loaded(app, pilot, search=True)
        idx = app.index
        consumer = next(r for r in range(len(idx)) if idx.name[r] == "orders process"
                        and idx.service(r) == "payments-worker")
        pane = await app.open_dependencies(consumer)
        await pilot.pause()
        pane.group_by = "none"  # the five producers apart: three shown, `+2 more`
        await pilot.pause(0.1)

    assert snap_compare(create_app(), terminal_size=(150, 42), run_before=run_before)


@pytest.fixture(autouse=True)
def _no_stdin_games(monkeypatch):
    # run_app reattaches a piped stdin to the terminal; tests never pipe data in.
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b"")))
    monkeypatch.setattr(sys.stdin, "isatty", lambda: True)
