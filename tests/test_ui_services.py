"""The Services tab (the async service map) driven with Pilot, keyboard only, on the bundled
sample (sample_data/generate.py: frontend -> checkout sync, checkout => payments-worker
through five batch links, checkout => inventory as a CONSUMER child, payments-worker =>
email-worker)."""

from __future__ import annotations

import asyncio
import functools
import json

from waiting import until

from async_trace_tui.ui.app import DEPS_TAB, SERVICES_TAB, create_app
from async_trace_tui.ui.services_pane import ServicesPane
from async_trace_tui.ui.widgets.map_drawing import MapDrawingView


def run_async(fn):
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        return asyncio.run(fn(*args, **kwargs))

    return wrapper


def screen_lines(app) -> list[str]:
    return [strip.text for strip in app.screen._compositor.render_strips()]


async def services_shown(app, pilot, timeout: float = 20.0) -> ServicesPane:
    """Wait for the load, press m, wait for the map."""
    waited = 0.0
    while app.loading:
        await pilot.pause(0.02)
        waited += 0.02
        assert waited < timeout, "the load did not finish"
    await pilot.press("m")
    pane = app.services_pane
    assert pane is not None and app.tabs.active == SERVICES_TAB
    while pane.service_map is None:
        await pilot.pause(0.02)
        waited += 0.02
        assert waited < timeout, "the map was never built"
    await pilot.pause()
    return pane


async def settled(pilot, condition) -> None:
    """Let the app run until `condition()` holds (a tab switch moves the focus in steps)."""
    await until(pilot, condition)


def row_texts(pane: ServicesPane) -> list[str]:
    table = pane.table
    return [table.cells(i)[0].strip() for i in range(table.row_count)]


@run_async
async def test_services_tab_keyboard_only_down_to_the_dependencies_view():
    app = create_app()
    async with app.run_test(size=(160, 50)) as pilot:
        pane = await services_shown(app, pilot)
        table = pane.table
        assert table.has_focus
        # call depth order, each service's edges out then in
        assert row_texts(pane)[:7] == [
            "frontend  16 spans · 1 error · 5 traces", "→ checkout",
            "checkout  20 spans · 0 errors · 5 traces", "⇢ payments-worker", "⇢ inventory",
            "← frontend", "inventory  3 spans · 0 errors · 1 trace"]

        await pilot.press("s")  # by calls, the busiest first
        assert table.sort_key == "calls"
        await pilot.press("s", "s", "s")  # error rate, p95 duration, p95 lag
        assert table.sort_key == "lag"
        assert row_texts(pane)[1] == "⇢ payments-worker"  # p95 lag 6.33 s: the longest wait

        await pilot.press("slash", "p", "a", "y", "enter")
        assert pane.filter_input.value == "pay" and table.has_focus
        # checkout only for its edge to payments-worker; payments-worker whole
        assert row_texts(pane) == ["checkout  20 spans · 0 errors · 5 traces",
                                   "⇢ payments-worker",
                                   "payments-worker  7 spans · 1 error · 1 trace",
                                   "⇠ checkout", "⇢ email-worker",
                                   "email-worker  3 spans · 0 errors · 1 trace · "
                                   "1 unresolved link (to spans not loaded)",
                                   "⇠ payments-worker"]
        await pilot.press("down", "enter")
        pairs = pane.pair_list
        assert pairs.display and pairs.has_focus and not table.display
        while not pairs.pairs:
            await pilot.pause(0.02)
        idx = app.index
        # the five producers, the longest queue lag first (6.33 s ... 1.24 s)
        assert [p.lag for p in pairs.pairs] == [6_329_300_000, 4_908_800_000, 3_466_900_000,
                                                2_452_400_000, 1_240_000_000]
        text = "\n".join(screen_lines(app))
        assert "checkout ⇢ payments-worker  5 async pairs" in text and "6.33 s" in text

        await pilot.press("escape")  # back to the table, the filter kept
        assert table.display and table.has_focus and pane.filter_input.value == "pay"
        await pilot.press("enter", "down", "enter")  # the second slowest pair
        assert app.tabs.active == DEPS_TAB
        effect = pairs.pairs[1].effect
        assert app.deps_pane.focus_row == effect
        assert idx.service(effect) == "payments-worker" and idx.name[effect] == "orders process"

        await pilot.press("m")  # back to the map, where we were: the pairs
        assert app.tabs.active == SERVICES_TAB and pairs.has_focus and pairs.cursor == 1
        await pilot.press("escape")
        assert table.has_focus


@run_async
async def test_drawing_where_it_fits_table_alone_when_narrow():
    app = create_app()
    async with app.run_test(size=(160, 50)) as pilot:
        pane = await services_shown(app, pilot)
        drawing = pane.query_one(MapDrawingView)
        assert drawing.display
        text = "\n".join(screen_lines(app))
        assert "│ payments-worker │" in text and "p95 6.33 s" in text and "×5" in text
        assert "┄" in text and "─" in text  # dotted async, solid sync

        await pilot.resize_terminal(80, 40)
        await settled(pilot, lambda: not drawing.display)
        text = "\n".join(screen_lines(app))
        assert "│ payments-worker │" not in text
        assert "⇢ payments-worker" in text and "p95 lag" in text  # the table, whole


@run_async
async def test_ascii_services_tab():
    app = create_app(ascii=True)
    async with app.run_test(size=(160, 50)) as pilot:
        await services_shown(app, pilot)
        text = "\n".join(screen_lines(app)[2:-2])  # the tab's own lines
        assert ".> payments-worker" in text and "-> checkout" in text
        assert "| payments-worker |" in text
        assert text.isascii()


@run_async
async def test_services_in_help_and_palette():
    app = create_app()
    async with app.run_test(size=(160, 50)) as pilot:
        await services_shown(app, pilot)
        sections = dict(app.help_sections())
        keys = sections["Services tab"]
        for want in [("s", "Sort"), ("S", "Reverse sort"), ("/", "Filter"), ("esc", "Back"),
                     ("enter", "Span pairs"), ("enter", "Dependencies of pair")]:
            assert want in keys
        assert "m" in dict(sections["Everywhere"])
        actions = {name: (keys, run) for name, keys, run in app.palette_actions()}
        assert [k for name, (k, _) in actions.items() if name.startswith("Services")] == [
            "key m", "key s", "key /", "key g"]
        app.action_show_traces()
        await settled(pilot, lambda: app.traces_table.has_focus)
        await next(run for name, (_, run) in actions.items()
                   if name.startswith("Services: sort"))()
        assert app.tabs.active == SERVICES_TAB and app.services_pane.table.sort_key == "calls"
        await settled(pilot, lambda: app.services_pane.table.has_focus)
        app.action_show_traces()
        await settled(pilot, lambda: app.traces_table.has_focus)
        await next(run for name, (_, run) in actions.items()
                   if name.startswith("Services: filter"))()
        await settled(pilot, lambda: app.services_pane.filter_input.has_focus)
        assert app.tabs.active == SERVICES_TAB and app.services_pane.filter_input.has_focus


@run_async
async def test_map_by_resource_key_in_the_tab():
    app = create_app()
    app.map_by = "resource:host.name"  # what --by sets
    async with app.run_test(size=(160, 50)) as pilot:
        pane = await services_shown(app, pilot)
        names = [s.name for s in pane.service_map.services]
        assert "payments-worker-84f6d9c7b-9lpkd" in names and len(names) == 5


@run_async
async def test_g_regroups_the_map_by_a_resource_key_picked_by_typing():
    from async_trace_tui.ui.widgets.group_picker import GroupPicker

    app = create_app()
    async with app.run_test(size=(160, 50)) as pilot:
        pane = await services_shown(app, pilot)
        assert len(pane.service_map.services) == 5
        await pilot.press("g")
        await settled(pilot, lambda: isinstance(app.screen, GroupPicker))
        picker = app.screen
        assert picker.choices[0] == "service"
        assert "resource:deployment.environment" in picker.choices
        assert "resource:service.name" not in picker.choices
        await pilot.press(*"deploy")
        assert picker.highlighted == "resource:deployment.environment"
        await pilot.press("enter")
        await settled(pilot, lambda: pane.service_map.by == "resource:deployment.environment")
        # the sample's five services all run in `demo`: one group, its async edge to itself
        assert [s.name for s in pane.service_map.services] == ["demo"]
        assert [(e.source, e.target, e.kind) for e in pane.service_map.edges] == [
            ("demo", "demo", "async")]
        await settled(pilot, lambda: pane.table.has_focus)
        status = str(pane.query_one("#services-status").render())
        assert "by resource:deployment.environment" in status and "1 group" in status
        await pilot.press("g", "escape")  # escape leaves the grouping as it was
        await settled(pilot, lambda: not isinstance(app.screen, GroupPicker))
        assert pane.by == "resource:deployment.environment" and not pane.building
        await pilot.press("g")
        await settled(pilot, lambda: isinstance(app.screen, GroupPicker))
        assert app.screen.highlighted == "resource:deployment.environment"  # the current one
        await pilot.press(*"service", "enter")
        await settled(pilot, lambda: pane.service_map.by == "service")
        assert len(pane.service_map.services) == 5


@run_async
async def test_a_grown_index_is_noted_and_m_rebuilds_the_map():
    """Live mode grows the index in place: the tab says so, and m builds the map again."""
    from async_trace_tui.loading import LoadReport, decode, default_sample

    app = create_app()
    async with app.run_test(size=(160, 50)) as pilot:
        pane = await services_shown(app, pilot)
        before = pane.service_map
        assert before.service("frontend").spans == 16
        # the sample again as a live request would bring it, under other trace ids
        doc = json.loads(default_sample().read_text())
        for rs in doc["resourceSpans"]:
            for ss in rs["scopeSpans"]:
                for sp in ss["spans"]:
                    sp["traceId"] = "ff" + sp["traceId"][2:]
                    for link in sp.get("links", []):
                        link["traceId"] = "ff" + link["traceId"][2:]
        batch, _ = decode(json.dumps(doc).encode(), "live", LoadReport())
        app.index.append(batch)
        pane._note_growth()
        status = str(pane.query_one("#services-status").render())
        assert "49 new spans since: m updates" in status
        app.action_show_traces()
        await pilot.press("m")
        while pane.service_map is before or pane.building:
            await pilot.pause(0.02)
        assert pane.service_map.service("frontend").spans == 32


@run_async
async def test_sort_arrow_points_the_way_the_traces_table_does():
    """`calls ▲` listed the busiest first: the Traces table's ▲ is ascending (`spans ▼` is
    the biggest first). Figures sorted biggest first now read ▼, call depth and names
    (ascending) ▲, and S turns the arrow with the order."""
    app = create_app()
    async with app.run_test(size=(160, 50)) as pilot:
        pane = await services_shown(app, pilot)
        table = pane.table
        header = lambda: "".join(s.text for s in table.render_header(160))  # noqa: E731
        assert "service / edge ▲" in header() and "call depth ▲" in table.describe()
        table.sort_by("calls")
        assert row_texts(pane)[1] == "← frontend"  # 5 calls before 1
        assert "calls ▼" in header() and "sorted by calls ▼" in table.describe()
        table.action_reverse_sort()
        assert row_texts(pane)[1] == "⇠ payments-worker"  # 1 call first
        assert "calls ▲" in header() and "sorted by calls ▲" in table.describe()
        table.sort_by("name", reverse=True)
        assert "service / edge ▼" in header()
