"""The TUI over a ClickHouse store (chDB, the exporter's DDL), driven by Pilot.

Two hours of SDK-recorded traffic (tests/store_data.py) in chDB. The app opens on the
window's newest page; a trace's view is built from what was fetched for it, and a node
whose trace was not fetched whole (a batch consumer that links to the trace's producer)
fetches it when it is expanded (`fetching…` on its row meanwhile), or when `f` refocuses
on it. A fetch that fails (the table renamed away under the app) is one notice and the
screen stays. Fetches are gated by an Event where the test looks at the screen while they
are on their way: the source still does all its work against the engine.
"""

from __future__ import annotations

import asyncio
import functools
import threading

import pytest
from store_data import write_store

from async_trace_tui.sources import FileSource, open_source
from async_trace_tui.sources.clickhouse.backend import ChdbBackend
from async_trace_tui.sources.clickhouse.target import Target
from async_trace_tui.ui.app import DEPS_TAB, create_app
from async_trace_tui.views.dependencies import ASYNC_DOWN, SPAN
from async_trace_tui.views.glyphs import UNICODE
from async_trace_tui.views.labels import node_label

pytest.importorskip("chdb")

SIZE = (170, 50)
SINCE, UNTIL = "2026-01-01T00:00:00Z", "2026-01-01T03:00:00Z"


def run_async(fn):
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        return asyncio.run(fn(*args, **kwargs))

    return wrapper


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    path, db = write_store(tmp_path_factory.mktemp("ui-store"))
    files = FileSource([path])
    files.open()
    return files.index, db


class Gate:
    """Counts a source's fetches and, when closed, holds them until opened."""

    def __init__(self, source) -> None:
        self.calls = 0
        self.open = threading.Event()
        self.open.set()
        real = source.fetch

        def fetch(rows):
            self.calls += 1
            assert self.open.wait(20)
            real(rows)

        source.fetch = fetch


async def wait_for(pilot, cond, timeout: float = 30.0) -> None:
    waited = 0.0
    while not cond():
        await pilot.pause(0.05)
        waited += 0.05
        assert waited < timeout, "timed out"


def store_app(db):
    source = open_source([f"chdb:{db}"], since=SINCE, until=UNTIL)
    return create_app([f"chdb:{db}"], source=source), source


async def open_trace(pilot, trace_id: str):
    """Enter on a trace of the Traces table, as a user does; the pane once it is built."""
    app = pilot.app
    await wait_for(pilot, lambda: not app.loading)
    table = app.traces_table
    assert table.select_trace(trace_id)
    table.action_choose()
    await wait_for(pilot, lambda: app.deps_pane is not None and app.tabs.active == DEPS_TAB
                   and app.deps_pane.view is not None and not app.deps_pane.updating)
    return app.deps_pane


def marker(tree, i: int) -> str:
    """The expand marker drawn on row `i` (just before its label)."""
    text = tree.line_text(i)
    label = node_label(tree.node_at(i), UNICODE).plain
    return text[:text.index(label)].rstrip()[-1]


def consumer_node(tree):
    """The batch consumer that links to the open trace's producer, as the tree shows it."""
    return next(n for n in tree.iter_nodes()
                if n.edge == ASYNC_DOWN and n.operation == "orders process")


def linked_producer(index) -> tuple[str, int]:
    """A checkout whose producer a batch consumer links to: (its trace id, the producer)."""
    producers = sorted((r for r in range(len(index)) if index.name[r] == "orders publish"),
                       key=index.start.__getitem__)
    p = producers[3]
    assert index.linked_from(p)
    return index.trace_id_of(p).hex(), p


@run_async
async def test_expanding_a_consumer_not_fetched_fetches_its_trace(data):
    index, db = data
    trace_id, producer = linked_producer(index)
    app, source = store_app(db)
    async with app.run_test(size=SIZE) as pilot:
        pane = await open_trace(pilot, trace_id)
        tree = pane.dep_tree
        gate = Gate(source)
        consumer = consumer_node(tree)
        i = tree.line_of(consumer)
        # Its trace was not fetched: only the span that links here is known, so the row
        # offers to expand, and expanding it fetches.
        assert source.pending(consumer.rows) and marker(tree, i) == "▸"
        gate.open.clear()
        tree.move_cursor(i)
        assert tree.expand_line(i)
        await wait_for(pilot, lambda: gate.calls == 1)
        assert tree.line_text(i).endswith("fetching…") and marker(tree, i) == "⋯"
        assert tree.expand_line(i)  # again while on its way: nothing more
        gate.open.set()
        await wait_for(pilot, lambda: not pane.updating and not source.pending(consumer.rows))
        await wait_for(pilot, lambda: any(n.operation == "charge card" for n in tree.iter_nodes()))
        node = consumer_node(tree)
        assert tree.is_expanded(tree.line_of(node))
        kids = {c.operation for c in node.children()}
        assert {"charge card", "email publish"} <= kids
        assert tree.cursor_node is node  # the cursor stayed on it
        assert pane.index is source.index and app.index is not None
        # Cached: closing and opening it again asks the store nothing.
        at = tree.line_of(node)
        assert tree.collapse_line(at) and tree.expand_line(at)
        await pilot.pause()
        assert gate.calls == 1 and tree.is_expanded(at)
    source.close()


@run_async
async def test_f_on_a_span_not_fetched_fetches_then_refocuses(data):
    index, db = data
    trace_id, producer = linked_producer(index)
    consumer_row = index.linked_from(producer)[0]
    consumer_trace = index.trace_id_of(consumer_row)
    app, source = store_app(db)
    async with app.run_test(size=SIZE) as pilot:
        pane = await open_trace(pilot, trace_id)
        tree = pane.dep_tree
        gate = Gate(source)
        node = consumer_node(tree)
        tree.move_cursor(tree.line_of(node))
        gate.open.clear()
        tree.action_refocus()
        await wait_for(pilot, lambda: gate.calls == 1)
        assert tree.line_text(tree.cursor_line).endswith("fetching…")
        gate.open.set()
        await wait_for(pilot, lambda: pane.view is not None and pane.view.index.trace_ids[
            pane.view.index.trace[pane.view.focus]] == consumer_trace and not pane.updating)
        view = pane.view
        focus = view.index.span_id[view.focus]
        assert focus == index.span_id[consumer_row]
        # The batch consumer's view: the three producers it links to, up its async edges.
        up = [n for n in tree.iter_nodes() if n.kind == SPAN and n.edge == "async-up"]
        assert sum(n.count for n in up) == 3 and {n.operation for n in up} == {"orders publish"}
    source.close()


@run_async
async def test_a_failed_fetch_is_one_notice_and_keeps_the_screen(data):
    index, db = data
    trace_id, _ = linked_producer(index)
    app, source = store_app(db)
    async with app.run_test(size=SIZE) as pilot:
        pane = await open_trace(pilot, trace_id)
        tree = pane.dep_tree
        node = consumer_node(tree)
        before = [tree.line_text(k) for k in range(tree.line_count)]
        admin = ChdbBackend(Target("chdb", path=db))
        admin.command("RENAME TABLE otel.otel_traces TO otel.moved_away")
        try:
            i = tree.line_of(node)
            assert tree.expand_line(i)
            await wait_for(pilot, lambda: any(n.title == "fetch failed" for n in app._notifications))
            await wait_for(pilot, lambda: not pane.updating)
        finally:
            admin.command("RENAME TABLE otel.moved_away TO otel.otel_traces")
            admin.close()
        failed = [n for n in app._notifications if n.title == "fetch failed"]
        assert len(failed) == 1 and "moved" not in failed[0].message
        assert "otel_traces" in failed[0].message and "\n" not in failed[0].message
        assert [tree.line_text(k) for k in range(tree.line_count)] == before
        # The store is back: the same key now fetches and expands.
        assert tree.expand_line(tree.line_of(node))
        await wait_for(pilot, lambda: any(n.operation == "charge card" for n in tree.iter_nodes()))
    source.close()


def expected(index, key: str, reverse: bool, query: str = "") -> list[str]:
    """Trace ids of the window's rows in the store's order (ties: the trace id)."""
    from types import SimpleNamespace

    from store_data import minutes, window_rows

    from async_trace_tui.views.traces import SORT_KEYS

    rows = window_rows(index, minutes(0), minutes(180))
    if query:
        keep = {index.trace_id_of(r).hex() for r in range(len(index))
                if query in index.service(r) or query in index.name[r]}
        rows = [r for r in rows if r["trace_id"] in keep]
    rows.sort(key=lambda r: r["trace_id"], reverse=reverse)
    rows.sort(key=lambda r: SORT_KEYS[key](SimpleNamespace(**r)), reverse=reverse)
    return [r["trace_id"] for r in rows]


@run_async
async def test_traces_table_pages_sorts_and_filters_in_the_store(data):
    from async_trace_tui.ui import store_pages

    index, db = data
    source = open_source([f"chdb:{db}"], since=SINCE, until=UNTIL, limit=20)
    asked: list[tuple] = []
    real = source.trace_rows

    def trace_rows(**kw):
        asked.append((kw.get("query", ""), kw.get("sort", "start"), kw.get("reverse", False),
                      kw.get("offset", 0)))
        return real(**kw)

    source.trace_rows = trace_rows
    app = create_app([f"chdb:{db}"], source=source)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: not app.loading)
        pane, table = app.traces_pane, app.traces_table
        ids = lambda: [r.trace_id for r in table.visible_rows]  # noqa: E731
        newest = expected(index, "start", True)
        assert ids() == newest[:20] and len(newest) == 289
        assert "scroll down for more" in str(pane.query_one("#traces-status").render())
        # Near the end of what is shown, the next page comes, after what is there.
        table.move_cursor(15)
        await wait_for(pilot, lambda: table.row_count == 40)
        assert ids() == newest[:40] and table.cursor == 15
        while pane.store.more:
            table.move_cursor(table.row_count - 1)
            await wait_for(pilot, lambda: not pane.store.busy)
        assert ids() == newest and asked[-1][3] == 280
        # Sorting asks the store for the first page in that order.
        table.sort_by("duration")
        await wait_for(pilot, lambda: not pane.store.busy and asked[-1][1] == "duration")
        assert ids() == expected(index, "duration", True)[:20]
        # Typing a filter asks once, when the typing pauses; rows come from SQL (a span of
        # the service anywhere in the trace, not only at its root).
        before = len(asked)
        for text in ("e", "em", "ema", "email"):
            pane.filter_input.value = text
            await pilot.pause(store_pages.DEBOUNCE / 4)
        await wait_for(pilot, lambda: len(asked) > before and not pane.store.busy)
        assert asked[before:] == [("email", "duration", True, 0)]
        want = expected(index, "duration", True, "email")
        assert ids() == want[:20] and len(want) == 40
        assert all(r.root_service == "payments-worker" for r in table.visible_rows)
        table.action_choose()  # enter on a row the store found
        await wait_for(pilot, lambda: app.deps_pane is not None and app.deps_pane.view is not None)
        assert app.deps_pane.view.index.trace_ids[app.deps_pane.view.index.trace[
            app.deps_pane.view.focus]].hex() == want[0]
    source.close()


@run_async
async def test_empty_window_and_unmatched_filter_say_so(data):
    """A window the store holds no trace in says so, and what sets it, not `no traces
    loaded yet` (the load is over: a user would wait for nothing); a filter the store
    finds nothing for says there is no match."""
    from async_trace_tui.ui import store_pages

    _index, db = data
    source = open_source([f"chdb:{db}"], since="2025-01-01T00:00:00Z",
                         until="2025-01-01T01:00:00Z")
    app = create_app([f"chdb:{db}"], source=source)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: not app.loading)
        msg = app.traces_table.empty_message()
        assert msg.startswith("no traces in the window 2025-01-01T00:00:00Z to 2025-01-01T01:00:00Z")
        assert "--since" in msg
    source.close()
    app, source = store_app(db)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: not app.loading)
        pane, table = app.traces_pane, app.traces_table
        pane.filter_input.value = "zzzz"
        await pilot.pause(store_pages.DEBOUNCE)
        await wait_for(pilot, lambda: not pane.store.busy and table.row_count == 0)
        assert table.empty_message().startswith("no trace matches 'zzzz'")
    source.close()


@run_async
async def test_palette_jumps_to_and_opens_a_stores_traces(data):
    """ctrl+p over a store: typing a service or a trace found nothing (the palette's entries
    raised on a store's rows, which hold no spans), and "open the selected trace's
    waterfall" raised. Now the entries are there, a trace's entry opens its dependencies
    view and the action its waterfall, each once the trace is fetched (as enter and `o`)."""
    from async_trace_tui.ui.app_tabs import WATERFALL_PREFIX

    _index, db = data
    app, source = store_app(db)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: not app.loading)
        row = app.traces_table.current_row
        entries = app.palette_data_entries()
        assert ("service", row.root_service) in {(kind, arg) for _t, _l, kind, arg in entries}
        jump = next(e for e in entries if e[2] == "trace" and e[3] == row.trace_id)
        assert jump[0].startswith(f"jump to trace {row.root_service} ")
        await app.palette_run(jump[2], jump[3])
        await wait_for(pilot, lambda: app.tabs.active == DEPS_TAB and app.deps_pane is not None
                       and app.deps_pane.view is not None and not app.deps_pane.updating)
        view = app.deps_pane.view
        assert view.index.trace_ids[view.index.trace[view.focus]].hex() == row.trace_id
        app.action_show_traces()
        app.action_open_waterfall()
        await wait_for(pilot, lambda: app.tabs.active == WATERFALL_PREFIX + row.trace_id)
        assert app._exception is None
    source.close()


@run_async
async def test_services_tab_shows_the_stores_map(data, capsys):
    """m over a store: the map of the whole window from SQL (what --map --json from the same
    store prints), not of the spans fetched; fetched in a worker, `fetching…` and the window
    on screen meanwhile, the window said once it is there."""
    import json

    from async_trace_tui.cli import main

    index, db = data
    app, source = store_app(db)
    asked = threading.Event()
    go = threading.Event()
    real = source.service_map_json

    def service_map_json(by):
        asked.set()
        assert go.wait(20)
        return real(by)

    source.service_map_json = service_map_json
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: not app.loading)
        assert len(source.index) == 0
        await app.action_show_services()
        pane = app.services_pane
        await wait_for(pilot, asked.is_set)
        status = lambda: str(pane.query_one("#services-status").render())  # noqa: E731
        window = "window 2026-01-01T00:00:00Z to 2026-01-01T03:00:00Z"
        assert "fetching… the service map of the " + window in status()
        assert pane.building and pane.service_map is None
        go.set()
        await wait_for(pilot, lambda: pane.service_map is not None and not pane.building)
        assert window in status() and "fetching" not in status()
        got = pane.service_map.as_json()
        assert len(source.index) == 0  # aggregates only: no span fetched
        # the table the user reads: each edge as its cause's outgoing row, with its count
        rows = {(r.service.name, r.edge.target, r.edge.kind, r.edge.count)
                for r in pane.table.rows if r.edge is not None and r.direction == "out"}
        assert rows == {(e["from"], e["to"], e["kind"], e["count"]) for e in got["edges"]}
        calls = {(e["from"], e["to"], e["kind"]): e["count"] for e in got["edges"]}
        assert calls[("checkout", "payments-worker", "async")] == 120
        assert {s["name"] for s in got["services"]} == {
            "checkout", "email-worker", "frontend", "payments-worker", "reports"}
    source.close()
    capsys.readouterr()
    assert main([f"chdb:{db}", "--since", SINCE, "--until", UNTIL, "--map", "--json"]) == 0
    out, err = capsys.readouterr()
    assert got == json.loads(out)
