"""Flow tabs in the TUI (SPEC §8), driven with Pilot on the bundled sample (recorded with
the real SDK): `F` on a span opens its flow, `n`/`N` step the critical path, a merged node
or "all roots of this operation" shows the distribution. Actions are called directly;
keys are pressed only to test the bindings themselves.
"""

from __future__ import annotations

import asyncio
import functools

import pytest
from flow_data import Recorder, clone_chain
from test_flow import chain_template
from waiting import until

from async_trace_tui.loading import load
from async_trace_tui.ui.app import DEPS_TAB, TRACES_TAB, create_app
from async_trace_tui.ui.flow_pane import FLOW_PREFIX, FlowPane
from async_trace_tui.ui.widgets.flow_waterfall import FlowWaterfall

SIZE = (160, 50)
FIRST_TRACE = "62f746b484e61ceb95bd447e7184d454"
PAYMENTS_TRACE = "060bed79214119cf6d84cc7956364be9"


def run_async(fn):
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        return asyncio.run(fn(*args, **kwargs))

    return wrapper


async def loaded(app, pilot, timeout: float = 20.0) -> None:
    waited = 0.0
    while app.loading:
        await pilot.pause(0.02)
        waited += 0.02
        assert waited < timeout, "the load did not finish"
    await pilot.pause()


async def flow_ready(app, pilot, timeout: float = 30.0) -> FlowPane:
    assert app.query(FlowPane), "no flow tab was opened"
    waited = 0.0
    while True:
        panes = [p for p in app.query(FlowPane) if app.tabs.active and p.parent.id == app.tabs.active]
        if panes and panes[0].ready:
            await pilot.pause()
            return panes[0]
        await pilot.pause(0.02)
        waited += 0.02
        assert waited < timeout, "the flow was not worked out"


def screen_text(app) -> str:
    return "\n".join(strip.text for strip in app.screen._compositor.render_strips())


def names(app, rows) -> list[tuple[str, str]]:
    return [(app.index.service(r), app.index.name[r]) for r in rows]


@run_async
async def test_F_opens_the_flow_tab_and_n_steps_the_critical_path():
    app = create_app()
    async with app.run_test(size=SIZE) as pilot:
        await loaded(app, pilot)
        assert app.traces_table.current_row.trace_id == FIRST_TRACE
        await pilot.press("F")
        pane = await flow_ready(app, pilot)
        assert app.tabs.active.startswith(FLOW_PREFIX)
        widget = pane.waterfall
        assert isinstance(widget, FlowWaterfall) and widget.has_focus
        screen = screen_text(app)
        assert "end to end 7.68 s · 3 traces · 2 async hops · queue wait 6.74 s (88%)" in screen
        # one header per trace, in start order, then its spans
        layout = widget.flow_layout
        headers = [-1 - x for x in layout.lines if x < 0]
        assert [app.index.trace_ids[t].hex() for t in headers][:2] == [FIRST_TRACE, PAYMENTS_TRACE]
        assert widget.row_count == 3 + 20
        # the path: the cursor starts on the start, n walks it in order, N back
        path = []
        for _ in range(7):
            path.append(widget.selected_span)
            await pilot.press("n")
        assert names(app, path) == [
            ("frontend", "GET /checkout"), ("frontend", "POST /orders"),
            ("checkout", "POST /orders"), ("checkout", "orders publish"),
            ("payments-worker", "orders process"), ("payments-worker", "email publish"),
            ("email-worker", "email process")]
        assert widget.selected_span == path[-1]  # n stops at the end
        await pilot.press("N")
        assert widget.selected_span == path[-2]
        status = screen_text(app).splitlines()[-2]
        assert "payments-worker · email publish" in status and "critical path 6/7" in status
        # the queue wait before the batch consumer is drawn on its line, on the path
        line = layout.line_of[path[4]]
        row = "".join(s.text for s in widget.render_row(line, 150, False))
        assert "┄▶" in row and row.lstrip().startswith("┃")
        # a trace's header runs on over the bar area up to the arrow crossing it, not cut
        # at the name column
        header = layout.lines.index(-1 - headers[2])
        text = "".join(s.text for s in widget.render_row(header, 100, False))
        assert "email-worker email process  (3 spans)" in text and "┊" in text
        assert len(text) == 100


@run_async
async def test_enter_on_a_flow_row_opens_its_dependencies_and_w_closes_the_tab():
    app = create_app()
    async with app.run_test(size=SIZE) as pilot:
        await loaded(app, pilot)
        await app.action_open_flow()
        pane = await flow_ready(app, pilot)
        tab = app.tabs.active
        widget = pane.waterfall
        widget.go_to_step(4)
        chosen = widget.selected_span
        widget.action_choose()
        await pilot.pause()
        await pilot.pause()
        assert app.tabs.active == DEPS_TAB and app.deps_pane.focus_row == chosen
        app.tabs.active = tab
        await pilot.pause()
        await pilot.press("w")
        await pilot.pause()
        assert not app.query(FlowPane)


@run_async
async def test_F_on_a_merged_node_shows_the_distribution():
    app = create_app(span="fe2fbd720bdcb5d3")  # the batch consumer
    async with app.run_test(size=SIZE) as pilot:
        await loaded(app, pilot)
        # (a focus still on its way into the dependencies tab would switch back to it)
        await until(pilot, lambda: app.deps_pane is not None and app.deps_pane.view is not None
                    and app.deps_pane.dep_tree.has_focus)
        tree = app.deps_pane.dep_tree
        merged = next(i for i in range(tree.line_count) if len(tree.node_at(i).rows) == 5)
        tree.move_cursor(merged)
        await app.action_open_flow()
        pane = await flow_ready(app, pilot)
        dist = pane.distribution
        assert dist is not None and dist.flows == 5
        assert names(app, dist.starts) == [("checkout", "orders publish")] * 5
        screen = screen_text(app)
        assert "5 flows of checkout · orders publish" in screen
        assert "dominant segments" in screen and "wait for payments-worker" in screen
        # from each publish, the flow runs to the e-mail: 7677.6 ms minus its start
        assert dist.max == 7_677_600_000 - 54_600_000


@run_async
async def test_all_roots_of_this_operation_from_the_traces_tab():
    app = create_app()
    async with app.run_test(size=SIZE) as pilot:
        await loaded(app, pilot)
        assert app.tabs.active == TRACES_TAB
        await app.action_flow_all_roots()
        pane = await flow_ready(app, pilot)
        assert pane.distribution.flows == 5
        assert (pane.distribution.p50, pane.distribution.p95) == (4_803_400_000, 7_677_600_000)
        assert "end to end  p50 4.80 s · p95 7.68 s · max 7.68 s" in screen_text(app)
        actions = [name for name, _, _ in app.palette_actions()]
        assert "Flow: all roots of the selected trace's operation (distribution)" in actions
        assert "Flow: end to end and critical path of the selected span" in actions


@run_async
async def test_help_lists_the_flow_keys():
    app = create_app()
    async with app.run_test(size=SIZE) as pilot:
        await loaded(app, pilot)
        sections = dict(app.help_sections())
        flow = dict((d, k) for k, d in sections["Flow tabs"])
        assert flow["Next on critical path"] == "n"
        assert flow["Previous on critical path"] == "N"
        everywhere = dict((d, k) for k, d in sections["Everywhere"])
        assert everywhere["Flow"] == "F"


@pytest.fixture(scope="module")
def big_flow_file(tmp_path_factory):
    req = clone_chain(chain_template(), 300, 10_000_000)
    path = tmp_path_factory.mktemp("bigflow") / "chain.binpb"
    path.write_bytes(req.SerializeToString())
    return str(path)


@run_async
async def test_a_big_flow_is_worked_out_in_a_worker_and_draws_only_what_shows(big_flow_file):
    app = create_app([big_flow_file])
    async with app.run_test(size=SIZE) as pilot:
        await loaded(app, pilot)
        index = app.index
        first = min(range(len(index)), key=lambda r: (index.start[r], index.parent[r] >= 0))
        await app.open_flow([first])
        pane = app.query_one(FlowPane)
        assert not pane.ready  # still working: the UI answered first
        pane = await flow_ready(app, pilot)
        widget = pane.waterfall
        assert widget.row_count == 300 + 30_000
        drawn = []
        original = widget.render_row

        def counting(i, width, selected):
            drawn.append(i)
            return original(i, width, selected)

        widget.render_row = counting
        widget.refresh_rows()  # forgets the lines drawn so far
        await pilot.pause()
        assert drawn and len(set(drawn)) <= SIZE[1]
        widget.go_to_step(len(widget.flow_layout.flow.path) - 1)
        await pilot.pause()
        assert widget.selected_span == widget.flow_layout.flow.end_row
        assert "299 async hops" in screen_text(app)


def test_flow_rows_of_a_flow_across_traces_in_tree_order(tmp_path):
    """Rows under each trace header are its spans depth-first from where the flow
    entered the trace (not the trace's root when the flow came in lower down)."""
    from async_trace_tui.views.flow import Flow
    from async_trace_tui.views.flow_layout import FlowLayout

    rec = Recorder(seed=41)
    root = rec.open("a", "root", 0, "server")
    p = rec.span("a", "publish", 1, 2, "producer", parent=root)
    rec.close(root, 3)
    other = rec.open("b", "unrelated root", 5, "server")
    c = rec.open("b", "consume", 10, "consumer", parent=other, links=[p])
    rec.span("b", "work", 11, 12, "internal", parent=c)
    rec.close(c, 13)
    rec.close(other, 20)
    path = tmp_path / "f.binpb"
    path.write_bytes(rec.request().SerializeToString())
    index, _ = load([str(path)])
    start = next(r for r in range(len(index)) if index.name[r] == "root")
    layout = FlowLayout(Flow(index, start))
    shown = [("header", None) if x < 0 else (index.name[x], layout.depths[i])
             for i, x in enumerate(layout.lines)]
    assert shown == [("header", None), ("root", 0), ("publish", 1),
                     ("header", None), ("consume", 0), ("work", 1)]
    (h,) = layout.handoffs
    assert index.name[h.producer] == "publish" and h.top == 2 and h.bottom == 4


@pytest.fixture(scope="module")
def store():
    """The store tests' traffic (SDK-recorded) as an OTLP/JSON file and in chDB."""
    pytest.importorskip("chdb")
    import tempfile

    from store_data import write_store

    with tempfile.TemporaryDirectory() as d:
        from pathlib import Path

        yield write_store(Path(d))


@run_async
async def test_F_on_a_store_fetches_what_the_flow_reaches(store):
    """From a ClickHouse store, nothing is loaded whole: F on a Traces row fetches that
    trace, then the worker fetches the traces the flow reaches, hop by hop, and the flow is
    the one the same spans give from a file."""
    from async_trace_tui.sources import FileSource, open_source
    from async_trace_tui.views.flow import Flow
    from async_trace_tui.views.flow_render import flow_json

    path, db = store
    files = FileSource([path])
    files.open()
    fidx = files.index
    producer = sorted((r for r in range(len(fidx)) if fidx.name[r] == "orders publish"),
                      key=fidx.start.__getitem__)[3]  # a batch consumer links it
    t = fidx.traces[fidx.trace[producer]]
    want = flow_json(Flow(fidx, t.root))
    assert want["async_hops"] >= 1

    source = open_source([f"chdb:{db}"], since="2020-01-01T00:00:00Z",
                         until="2035-01-01T00:00:00Z")
    app = create_app(source=source)
    try:
        async with app.run_test(size=SIZE) as pilot:
            await loaded(app, pilot)
            assert not app.index.trace_index.get(t.trace_id)  # not fetched yet
            assert app.traces_table.select_trace(t.trace_id.hex())
            await app.action_open_flow()
            await until(pilot, lambda: app.query(FlowPane))
            pane = await flow_ready(app, pilot)
            assert not pane.error
            assert flow_json(pane.flow) == want
    finally:
        source.close()  # chDB holds one data directory per process: let the next test have it


@run_async
async def test_all_roots_of_an_operation_on_a_store(store):
    """The palette's "all roots of this operation" from a store's Traces row: the roots are
    found in SQL (--flow --op's query, roots only) in the worker, their flows fetched hop by
    hop, and the distribution is the one the same spans give from a file; with --limit
    below their number, the newest of them, said in the tab's status line."""
    import threading

    from async_trace_tui.sources import FileSource, open_source
    from async_trace_tui.views.flow import distribution, roots_like
    from async_trace_tui.views.flow_render import distribution_json

    path, db = store
    files = FileSource([path])
    files.open()
    fidx = files.index
    t = max((s for s in fidx.traces if s.root >= 0 and fidx.name[s.root] == "GET /checkout"),
            key=lambda s: s.start)  # the newest checkout: on the first page of any --limit
    roots = roots_like(fidx, t.index)
    want = distribution_json(distribution(fidx, roots))
    assert want["flows"] == 240 and len(want["segments"]) > 2

    for limit in (1000, 30):
        source = open_source([f"chdb:{db}"], since="2020-01-01T00:00:00Z",
                             until="2035-01-01T00:00:00Z", limit=limit)
        go = threading.Event()
        real = source.operation_roots

        def operation_roots(service, operation, real=real, go=go):
            assert go.wait(20)
            return real(service, operation)

        source.operation_roots = operation_roots
        app = create_app(source=source)
        try:
            async with app.run_test(size=SIZE) as pilot:
                await loaded(app, pilot)
                assert app.traces_table.select_trace(t.trace_id.hex())
                await app.action_flow_all_roots()
                pane = app.query_one(FlowPane)
                await pilot.pause()
                assert "fetching… the starts (frontend · GET /checkout) from the store" in str(
                    pane.query_one(".flow-note").render())
                go.set()
                pane = await flow_ready(app, pilot)
                assert not pane.error and pane.distribution is not None
                got = distribution_json(pane.distribution)
                status = str(pane.query_one(".flow-status").render())
                if limit == 1000:
                    assert got == want and "--limit" not in status
                else:
                    newest = sorted(roots, key=fidx.start.__getitem__)[-30:]
                    assert got == distribution_json(distribution(fidx, newest))
                    assert "the newest 30 of the 240 roots of the operation" in status
        finally:
            source.close()


@run_async
async def test_F_on_a_waterfall_row_and_on_a_flow_row():
    app = create_app()
    async with app.run_test(size=SIZE) as pilot:
        await loaded(app, pilot)
        from async_trace_tui.ui.widgets.waterfall import Waterfall

        t = app.index.trace_index[bytes.fromhex(PAYMENTS_TRACE)]
        await app.open_waterfall(t)
        wf = app.query_one(Waterfall)
        wf.move_cursor([app.index.name[r] for r in wf.spans].index("email publish"))
        await app.action_open_flow()
        pane = await flow_ready(app, pilot)
        assert names(app, [pane.flow.start]) == [("payments-worker", "email publish")]
        assert pane.flow.traces == 2 and pane.flow.async_hops == 1
        # and F on the flow's last span opens that span's own flow
        pane.waterfall.go_to_step(len(pane.flow.path) - 1)
        await app.action_open_flow()
        inner = await flow_ready(app, pilot)
        assert inner is not pane and names(app, [inner.flow.start]) == [
            ("email-worker", "email process")]
