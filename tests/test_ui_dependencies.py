"""The dependencies pane of the TUI (SPEC §3, §4) on the bundled SDK sample, driven by Pilot.

Keys are pressed only where the binding itself is under test (a press costs ~60 ms); other
steps call the actions directly. Expected numbers are computed from the index's columns, not
from the code under test.
"""

from __future__ import annotations

import asyncio
import functools
from typing import Any

import pytest
from rich.cells import cell_len
from spy import record_calls
from textual.app import App, ComposeResult
from waiting import until

from async_trace_tui.loading import default_sample, load
from async_trace_tui.model import KIND_CONSUMER, KIND_PRODUCER
from async_trace_tui.ui.dependencies_pane import CSS_PATH, DependenciesPane
from async_trace_tui.ui.widgets.dep_tree import DependencyTree
from async_trace_tui.views.dependencies import (
    ASYNC_UP,
    MISSING,
    MORE,
    SPAN,
    DependencyView,
    DepNode,
    ViewOptions,
    walk,
)
from async_trace_tui.views.details import DetailsBuilder
from async_trace_tui.views.format import duration
from async_trace_tui.views.glyphs import ASCII, UNICODE
from async_trace_tui.views.group_keys import GroupKeyCollector, next_choice
from async_trace_tui.views.grouping import aggregate
from async_trace_tui.views.labels import node_label
from async_trace_tui.views.render_text import tree_lines
from async_trace_tui.views.tree_state import EXACT, NodeMapper, carry_over

SIZE = (160, 50)


def run_async(fn):
    """Run an `async def` test in its own event loop (no pytest-asyncio here)."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        return asyncio.run(fn(*args, **kwargs))

    return wrapper


@pytest.fixture(scope="module")
def sample():
    index, report = load([str(default_sample())])
    assert not report.skipped
    return index


def only(index, name, service=None, kind=None):
    rows = [r for r in range(len(index)) if index.name[r] == name
            and (service is None or index.service(r) == service)
            and (kind is None or index.kind[r] == kind)]
    assert len(rows) == 1, (name, rows)
    return rows[0]


def consumer_row(index):
    return only(index, "orders process", "payments-worker", KIND_CONSUMER)


def durations_of(index, rows):
    return [index.end[r] - index.start[r] for r in rows]


def producers(index):
    """The five `orders publish` spans the batch consumer links to."""
    rows = sorted(r for r in range(len(index)) if index.name[r] == "orders publish"
                  and index.kind[r] == KIND_PRODUCER)
    assert len(rows) == 5
    return rows


class PaneApp(App):
    CSS_PATH = [CSS_PATH]

    def __init__(self, index, focus: int, options: ViewOptions | None = None,
                 ascii: bool = False) -> None:
        super().__init__()
        self.index = index
        self.focus_row = focus
        self.options = options
        self.ascii = ascii
        self.opened: list[tuple[int, int]] = []

    def compose(self) -> ComposeResult:
        yield DependenciesPane(self.index, self.focus_row, self.options, ascii=self.ascii)

    def on_dependencies_pane_open_trace(self, event: DependenciesPane.OpenTrace) -> None:
        self.opened.append((event.trace_index, event.row))


def run(index, focus, options=None, ascii=False) -> Any:
    return PaneApp(index, focus, options, ascii).run_test(size=SIZE)


def pane_of(app: App) -> DependenciesPane:
    return app.query_one(DependenciesPane)


def nodes(tree: DependencyTree) -> list[DepNode]:
    return list(tree.iter_nodes())


def shown_rows(tree: DependencyTree) -> set[int]:
    """The spans shown in the tree (span and cycle rows; a trace row repeats its root)."""
    out: set[int] = set()
    for n in tree.iter_nodes():
        if n.kind in (SPAN, "cycle"):
            out.update(n.rows)
    return out


def expand_all(tree: DependencyTree, limit: int = 5000) -> None:
    i = 0
    while i < tree.line_count and tree.line_count < limit:
        node = tree.node_at(i)
        if node.kind == MORE:
            tree.expand_more_line(i)
            continue
        if not tree.is_expanded(i):
            tree.expand_line(i)
        i += 1


def line_index(tree: DependencyTree, test) -> int:
    for i, n in enumerate(tree.iter_nodes()):
        if test(n):
            return i
    raise AssertionError("no such row")


# -- opening -------------------------------------------------------------------------------

@run_async
async def test_opens_on_the_focus_and_draws_what_print_draws(sample):
    focus = consumer_row(sample)
    async with run(sample, focus) as pilot:
        await pilot.pause()
        pane = pane_of(pilot.app)
        tree = pane.dep_tree
        assert tree.cursor_node is not None and tree.cursor_node.is_focus
        assert focus in tree.cursor_node.rows
        assert pane.details_panel.node is tree.cursor_node
        # Async branches show their first node, collapsed; the focus trace is open.
        for i, n in enumerate(tree.iter_nodes()):
            if n.is_async_edge and n.kind == SPAN:
                assert not tree.is_expanded(i), n.operation
        # Each row is the --print line of the same node, with the expand marker added.
        printed = {id(n): line.plain for (n, _), line
                   in zip(walk(pane.view.root), tree_lines(pane.view.root, UNICODE), strict=True)}
        for i, n in enumerate(tree.iter_nodes()):
            text = tree.line_text(i)
            label = node_label(n, UNICODE).plain
            k = len(text) - len(label) - 2
            assert text[k:k + 2] in ("▾ ", "▸ ", "  ")
            assert text[:k] + text[k + 2:] == printed[id(n)]


@run_async
async def test_ascii_mode_draws_plain_characters(sample):
    async with run(sample, consumer_row(sample), ascii=True) as pilot:
        await pilot.pause()
        tree = pane_of(pilot.app).dep_tree
        assert tree.glyphs is ASCII
        for i in range(tree.line_count):
            assert tree.line_text(i).isascii(), tree.line_text(i)
        assert pane_of(pilot.app).details_panel.text.isascii()


# -- show internal spans -------------------------------------------------------------------

@run_async
async def test_internal_toggle_hides_and_restores_exactly_the_internal_spans(sample):
    focus = consumer_row(sample)
    async with run(sample, focus) as pilot:
        await pilot.pause()
        pane = pane_of(pilot.app)
        tree = pane.dep_tree
        expand_all(tree)
        before = shown_rows(tree)
        internal = {r for r in before if sample.is_internal(r)}
        assert internal, "the sample has internal spans on show"
        roots = {s.root for s in sample.traces}
        hidden = {r for r in internal if sample.parent[r] >= 0 and r != focus}
        await pilot.press("i")  # the binding
        assert pane.show_internal is False
        assert pane.control_bar.query_one("#dep-internal").value is False
        after = shown_rows(tree)
        assert after == before - hidden
        assert {r for r in before & roots} <= after and focus in after
        # The retry under `retry backoff` (INTERNAL) re-attaches to the failed call.
        retry = [r for r in after if sample.name[r] == "charge card"
                 and sample.name[sample.parent[r]] == "retry backoff"]
        assert retry
        pane.action_toggle_internal()
        assert shown_rows(tree) == before


@run_async
async def test_cursor_stays_on_the_same_span_across_the_internal_toggle(sample):
    focus = consumer_row(sample)
    backoff = only(sample, "retry backoff")
    retry = next(r for r in range(len(sample)) if sample.parent[r] == backoff)
    failed = sample.parent[backoff]
    async with run(sample, focus) as pilot:
        await pilot.pause()
        pane = pane_of(pilot.app)
        tree = pane.dep_tree
        tree.move_cursor(line_index(tree, lambda n: retry in n.rows))
        pane.action_toggle_internal()
        assert retry in tree.cursor_node.rows
        pane.action_toggle_internal()
        assert retry in tree.cursor_node.rows
        # On a span that gets hidden: its nearest visible ancestor.
        tree.move_cursor(line_index(tree, lambda n: backoff in n.rows))
        pane.action_toggle_internal()
        assert failed in tree.cursor_node.rows
        await pilot.pause()
        assert pane.details_panel.node is tree.cursor_node


# -- grouping and aggregation --------------------------------------------------------------

def producer_group(tree: DependencyTree) -> DepNode:
    found = [n for n in tree.iter_nodes() if n.edge == ASYNC_UP and n.operation == "orders publish"]
    assert len(found) == 1, [n.operation for n in found]
    return found[0]


@run_async
async def test_group_and_aggregation_show_the_right_numbers(sample):
    prods = producers(sample)
    durations = durations_of(sample, prods)
    async with run(sample, consumer_row(sample)) as pilot:
        await pilot.pause()
        pane = pane_of(pilot.app)
        tree = pane.dep_tree
        node = producer_group(tree)
        assert sorted(node.rows) == prods and node.count == 5
        i = tree.line_of(node)
        assert f"avg {duration(aggregate(durations, 'avg'))}" in tree.line_text(i)
        assert "×5" in tree.line_text(i)
        await pilot.press("a")  # the binding: avg -> max
        expected = {"max": max(durations), "min": min(durations), "sum": sum(durations),
                    "avg": round(sum(durations) / 5)}
        for agg in ("max", "min", "sum", "avg"):
            assert pane.agg == agg
            assert pane.control_bar.query_one("#dep-agg").value == agg
            node = producer_group(tree)
            text = tree.line_text(tree.line_of(node))
            assert f"{agg} {duration(expected[agg])}" in text, text
            assert node.duration_ns == expected[agg]
            pane.action_cycle_agg()


@run_async
async def test_details_follow_the_aggregation_and_keep_their_place_when_unchanged(sample):
    prods = producers(sample)
    durations = durations_of(sample, prods)
    async with run(sample, consumer_row(sample)) as pilot:
        await pilot.pause()
        pane = pane_of(pilot.app)
        tree, details = pane.dep_tree, pane.details_panel
        # a single span: its details do not depend on the aggregation; scrolled down, the
        # reader stays where they were
        assert tree.cursor_node.count == 1
        details.scroll_to(y=6, animate=False, immediate=True)
        await pilot.pause()
        before = details.text
        await pilot.press("a")
        await pilot.pause()
        assert details.text == before and details.scroll_offset.y == 6
        # a merged node: the aggregate shown changes with the method
        tree.move_cursor(tree.line_of(producer_group(tree)))
        await pilot.pause()
        pane.agg = "min"
        await pilot.pause()
        assert f"duration min {duration(min(durations))}" in " ".join(details.text.split())
        pane.agg = "sum"
        await pilot.pause()
        assert f"duration sum {duration(sum(durations))}" in " ".join(details.text.split())


@run_async
async def test_g_opens_a_picker_that_narrows_as_you_type_and_G_steps_back(sample):
    async with run(sample, consumer_row(sample)) as pilot:
        await pilot.pause()
        pane = pane_of(pilot.app)
        tree = pane.dep_tree
        select = pane.control_bar.query_one("#dep-group-by")
        await pilot.press("g")  # the binding
        await pilot.pause()
        picker = pane.picker  # a box over the tree, the keys in its typing line
        assert pane.picking and picker.input.has_focus
        assert picker.region.overlaps(tree.region)  # (drawn over the tree, centred)
        assert picker.shown[:3] == ["operation", "service", "none"]
        assert picker.highlighted == "operation"  # the current key
        # The common keys first (views.group_keys: test_group_key_collector).
        assert picker.shown == pane.key_collector.choices("operation")
        # Typing narrows; enter chooses; the keys are the tree's again.
        picker.input.value = "sdk.ver"
        await pilot.pause()
        assert picker.shown == ["resource:telemetry.sdk.version"]
        await pilot.press("enter")
        await pilot.pause()
        assert not pane.picking
        assert pane.group_by == "resource:telemetry.sdk.version" == select.value
        assert tree.has_focus
        # Shown whole enough to tell it from other keys, cut with an ellipsis.
        shown = str(select.query_one("#label").render())
        assert "…" in shown and shown.startswith("resource:") and shown.endswith("sdk.version")
        # Escape leaves it as it was.
        pane.action_pick_group()
        await pilot.pause()
        assert picker.input.value == "" and picker.highlighted == pane.group_by  # afresh
        picker.input.value = "service"
        await pilot.press("escape")
        await pilot.pause()
        assert pane.group_by == "resource:telemetry.sdk.version" and tree.has_focus
        assert not pane.picking
        # Leaving it for another widget (a click on the tree) closes it as escape does.
        pane.action_pick_group()
        await pilot.pause()
        assert pane.picking
        await pilot.click(tree, offset=(4, 0))
        await pilot.pause()
        assert not pane.picking and pane.group_by == "resource:telemetry.sdk.version"
        # G steps back through the keys: none -> service -> operation in two presses.
        pane.group_by = "none"
        await pilot.press("G")
        assert pane.group_by == "service" == select.value
        pane.action_previous_group()
        assert pane.group_by == "operation"
        # Choosing in the Select rebuilds the view too.
        select.value = "service"
        await pilot.pause()
        assert pane.group_by == "service" and pane.view.options.group_by == "service"
        # Grouped by service, the four direct sync children of the consumer merge into one.
        merged = [n for n in pane.dep_tree.iter_nodes() if n.count == 4]
        assert merged and merged[0].service == "payments-worker"


@run_async
async def test_the_group_by_dropdown_gives_the_keys_back_to_the_tree(sample):
    async with run(sample, consumer_row(sample)) as pilot:
        await pilot.pause()
        pane = pane_of(pilot.app)
        tree = pane.dep_tree
        select = pane.control_bar.query_one("#dep-group-by")
        # A choice with the keyboard: the menu, `none`, enter.
        select.focus()
        await pilot.press("enter")  # opens the menu
        assert select.expanded
        await pilot.press("down", "down", "enter")
        await pilot.pause()
        assert pane.group_by == "none"
        assert tree.has_focus
        line = tree.cursor_line
        await pilot.press("j")
        assert tree.cursor_line == line + 1
        # The menu closed with escape.
        select.focus()
        await pilot.press("enter", "escape")
        await pilot.pause()
        assert not select.expanded and tree.has_focus and pane.group_by == "none"
        # Escape on a control that has the focus, and a click on the checkbox.
        pane.control_bar.query_one("#dep-agg").focus()
        await pilot.press("escape")
        assert tree.has_focus
        await pilot.click("#dep-internal")
        await pilot.pause()
        assert pane.show_internal is False and tree.has_focus


@run_async
async def test_the_internal_spans_checkbox_says_its_state_in_text(sample):
    async with run(sample, consumer_row(sample)) as pilot:
        await pilot.pause()
        pane = pane_of(pilot.app)
        box = pane.control_bar.query_one("#dep-internal")
        assert str(box.render()).startswith("[x] Show internal spans")
        pane.action_toggle_internal()
        await pilot.pause()
        assert str(box.render()).startswith("[ ] Show internal spans")
        legend = str(pane.control_bar.query_one("#dep-legend").render())
        assert "▣ trace" in legend


@run_async
async def test_enter_on_more_lists_the_hidden_producers(sample):
    prods = producers(sample)
    async with run(sample, consumer_row(sample), ViewOptions(group_by="none")) as pilot:
        await pilot.pause()
        pane = pane_of(pilot.app)
        tree = pane.dep_tree
        ups = [n for n in tree.iter_nodes() if n.edge == ASYNC_UP and n.kind == SPAN]
        more = [n for n in tree.iter_nodes() if n.kind == MORE]
        assert len(ups) == 3 and len(more) == 1 and more[0].hidden == 2
        assert "+2 more async calls" in tree.line_text(tree.line_of(more[0]))
        before = tree.line_count
        tree.move_cursor(tree.line_of(more[0]))
        await pilot.press("enter")
        ups = [n for n in tree.iter_nodes() if n.edge == ASYNC_UP and n.kind == SPAN]
        assert sorted(r for n in ups for r in n.rows) == prods
        assert not any(n.kind == MORE for n in tree.iter_nodes())
        assert tree.line_count == before + 1
        assert tree.cursor_node is ups[3]


@run_async
async def test_regrouping_keeps_open_nodes_and_cursor(sample):
    async with run(sample, consumer_row(sample)) as pilot:
        await pilot.pause()
        pane = pane_of(pilot.app)
        tree = pane.dep_tree
        node = producer_group(tree)
        tree.expand_line(tree.line_of(node))
        tree.move_cursor(tree.line_of(node) + 1)  # the producers' callers, merged
        callers = set(tree.cursor_node.rows)
        pane.group_by = "none"
        # Each producer is its own node now (two behind `+2 more`, expanded for the cursor);
        # the cursor is on the node holding the old cursor's first span, and open nodes stay open.
        assert tree.cursor_node.rows[0] in callers
        assert tree.cursor_node.parent_node.kind == SPAN
        assert tree.is_expanded(tree.line_of(tree.cursor_node.parent_node))
        pane.group_by = "operation"
        assert set(tree.cursor_node.rows) == callers


# -- focus, open trace ---------------------------------------------------------------------

@run_async
async def test_f_refocuses_on_the_selected_span(sample):
    email = only(sample, "email process")
    async with run(sample, consumer_row(sample)) as pilot:
        await pilot.pause()
        pane = pane_of(pilot.app)
        tree = pane.dep_tree
        tree.move_cursor(line_index(tree, lambda n: email in n.rows))
        await pilot.press("f")
        assert pane.view.focus == email and pane.focus_row == email
        assert tree.cursor_node.is_focus and email in tree.cursor_node.rows
        assert sample.trace[pane.view.root.rows[0]] == sample.trace[email]


@run_async
async def test_o_and_a_click_on_the_operation_open_the_trace(sample):
    email = only(sample, "email process")
    async with run(sample, consumer_row(sample)) as pilot:
        await pilot.pause()
        pane = pane_of(pilot.app)
        tree = pane.dep_tree
        i = line_index(tree, lambda n: email in n.rows)
        tree.move_cursor(i)
        await pilot.press("o")
        assert pilot.app.opened == [(sample.trace[email], email)]
        # A click on the operation name.
        text = tree.line_text(i)
        x = cell_len(text[:text.index("email process")]) + 2
        await pilot.click(DependencyTree, offset=(x, i - tree.scroll_offset.y))
        assert pilot.app.opened[-1] == (sample.trace[email], email)
        # A click on the marker toggles.
        k = text.index("▸")
        await pilot.click(DependencyTree, offset=(cell_len(text[:k]), i - tree.scroll_offset.y))
        assert tree.is_expanded(i)


@run_async
async def test_set_focus_and_legend(sample):
    async with run(sample, consumer_row(sample)) as pilot:
        await pilot.pause()
        pane = pane_of(pilot.app)
        root = sample.traces[0].root
        pane.set_focus(root)
        assert pane.dep_tree.cursor_node.is_focus and root in pane.dep_tree.cursor_node.rows
        assert not pane.control_bar.has_class("-full-legend")
        await pilot.press("L")
        assert pane.control_bar.has_class("-full-legend")


# -- untrusted text ------------------------------------------------------------------------

NASTY = "[bold red]x\x1b[2J"


@pytest.fixture(scope="module")
def nasty(tmp_path_factory):
    from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    exporter = InMemorySpanExporter()
    provider = TracerProvider(resource=Resource({"service.name": "[i]svc\x07"}))
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracer = provider.get_tracer("test")
    with tracer.start_as_current_span("root"):
        with tracer.start_as_current_span(NASTY, attributes={"k[b]": "v\x1b]0;title\x07"}) as sp:
            sp.add_event("[u]event", {"exception.stacktrace": "line1\nline2\x1b[31m"})
    provider.shutdown()
    path = tmp_path_factory.mktemp("nasty") / "nasty.binpb"
    path.write_bytes(encode_spans(exporter.get_finished_spans()).SerializeToString())
    index, _ = load([str(path)])
    return index


@run_async
async def test_span_data_is_shown_literally(nasty):
    row = next(r for r in range(len(nasty)) if nasty.name[r] == NASTY)
    async with run(nasty, row) as pilot:
        await pilot.pause()
        pane = pane_of(pilot.app)
        tree = pane.dep_tree
        i = tree.line_of(tree.cursor_node)
        assert "[bold red]x\\e[2J" in tree.line_text(i)
        assert "[i]svc\\x07" in tree.line_text(i)
        # What reaches the screen: the literal text, no escape character.
        strip = tree.render_line(i - tree.scroll_offset.y)
        assert "[bold red]x\\e[2J" in strip.text and "\x1b" not in strip.text
        details = pane.details_panel.text
        assert "[bold red]x\\e[2J" in details and "k[b]" in details
        assert "v\\e]0;title\\x07" in details
        assert "line1\n" in details and "line2\\e[31m" in details  # a stack trace keeps its lines
        assert "\x1b" not in details and "\x07" not in details
        screen = "\n".join(strip.text for strip in pilot.app.screen._compositor.render_strips())
        assert "[bold red]x\\e[2J" in screen and "\x1b" not in screen


# -- Textual-free helpers ------------------------------------------------------------------

def test_details_of_a_span_a_group_and_a_missing_node(sample):
    focus = consumer_row(sample)
    view = DependencyView(sample, focus)
    b = DetailsBuilder(sample)
    node = view.focus_path()[-1]
    d = b.build(node)
    sections = {s.title: s for s in d.sections}
    links = next(s for t, s in sections.items() if t.startswith("links"))
    assert sum(1 for f in links.fields if f.label.startswith("link ")) == 5
    assert all("(loaded)" in f.value for f in links.fields if f.label == "target")
    trace = next(s for t, s in sections.items() if t.startswith("trace"))
    summary = sample.traces[sample.trace[focus]]
    values = {f.label: f.value for f in trace.fields}
    assert values["spans"] == str(summary.spans) and values["errors"] == str(summary.errors)
    # Named by the flow of work: the batch consumer continued five producers' work.
    assert values["async from"].startswith(f"{summary.links_out} links")
    assert values["async to"].startswith(f"{summary.links_in} link")

    failed = next(r for r in range(len(sample)) if sample.name[r] == "charge card"
                  and sample.is_error(r))
    d = b.build(next(n for n, _ in walk(view.root) if n.rows[:1] == [failed]))
    fields = [f for s in d.sections for f in s.fields]
    assert any(f.value == "exception payments.gateway.PaymentGatewayError" for f in fields)
    assert any(f.label == "stacktrace" and "\n" in f.value for f in fields)
    assert any(f.label == "status" and f.tone == "error" for f in fields)

    group = next(n for n in view.focus_path()[-1].children() if n.count == 5)
    d = b.build(group)
    merged = next(s for s in d.sections if s.title.startswith("traces merged"))
    assert merged.title == "traces merged (5)" and len(merged.fields) == 5
    g = next(s for s in d.sections if s.title == "group")
    durs = durations_of(sample, group.rows)
    assert {f.label: f.value for f in g.fields}["duration max"] == duration(max(durs))

    email = only(sample, "email process")
    missing = next(n for n, _ in walk(DependencyView(sample, email).root) if n.kind == MISSING)
    d = b.build(missing)
    assert "not loaded" in d.title and missing.span_ids[0] in str(d.sections)


def test_group_key_collector(sample):
    c = GroupKeyCollector(sample)
    assert c.choices() == ["operation", "service", "none"]
    assert c.add_rows(sample.spans_of(sample.trace[consumer_row(sample)]))
    assert "attr:messaging.system" in c.choices()
    assert "resource:service.version" in c.choices()
    assert not c.add_rows(sample.spans_of(sample.trace[consumer_row(sample)]))
    assert next_choice(["a", "b"], "b") == "a" and next_choice(["a"], "zz") == "a"
    assert next_choice(["a", "b", "c"], "a", -1) == "c"
    # The keys most spans carry come first (counted over the spans looked at).
    rows = range(len(sample))
    c.add_rows(rows, limit=len(sample))
    counts: dict[str, int] = {}
    for r in rows:
        for k in sample.attributes(r):
            counts[k] = counts.get(k, 0) + 1
    attrs = [k.removeprefix("attr:") for k in c.choices() if k.startswith("attr:")]
    assert attrs == sorted(counts, key=lambda k: (-counts[k], k))
    assert counts[attrs[0]] > counts[attrs[-1]]


def test_carry_over_opens_each_span_of_a_merged_node_within_the_cap(sample):
    focus = consumer_row(sample)
    old = DependencyView(sample, focus)
    group = next(n for n in old.focus_path()[-1].children() if n.count == 5)
    new = DependencyView(sample, focus, ViewOptions(group_by="none"))
    shown = [(old.root, True), (old.focus_path()[-1], True), (group, True)]
    opened, cursor_path = carry_over(new, shown, group)
    assert cursor_path[-1].rows == [group.rows[0]]
    # Split apart, the open merged node stays open as each of its spans on show; the cap
    # still holds the rest behind `+2 more` (nothing opens it but the cursor).
    kids = new.focus_path()[-1].children()
    split = [n for n in kids if n.edge == ASYNC_UP and n.kind == SPAN]
    assert len(split) == 3 and all(id(n) in opened for n in split)
    assert [n.hidden for n in kids if n.kind == MORE] == [2]
    # A cursor on a span behind the cap opens the `more` node.
    none = ViewOptions(group_by="none")
    old = DependencyView(sample, focus, none)
    consumer = old.focus_path()[-1]
    revealed = old.expand_more(next(n for n in consumer.children() if n.kind == MORE))
    new = DependencyView(sample, focus, none.replace(show_internal=False))
    _, cursor_path = carry_over(new, [(old.root, True), (consumer, True)], revealed[-1])
    assert cursor_path[-1].rows == revealed[-1].rows
    assert not any(n.kind == MORE for n in new.focus_path()[-1].children())


def _shown(view: DependencyView, opened: set[int]) -> list[tuple[DepNode, int]]:
    """The rows a tree shows with `opened` open: (node, depth), top to bottom."""
    out: list[tuple[DepNode, int]] = []
    stack = [(view.root, 0)]
    while stack:
        node, depth = stack.pop()
        out.append((node, depth))
        if id(node) in opened:
            stack.extend((k, depth + 1) for k in reversed(node.children()))
    return out


def _flatten(view: DependencyView, opened: set[int]) -> list[tuple[Any, ...]]:
    return [(d, n.kind, n.edge, tuple(n.rows)) for n, d in _shown(view, opened)]


def _every_row_carried(view: DependencyView, shown: list[tuple[DepNode, bool]],
                       cursor: DepNode) -> tuple[set[int], list[DepNode]]:
    """carry_over without its short cut: every shown row is looked up in the new view."""
    mapper = NodeMapper(view)
    opened: set[int] = set()
    for old, was_open in shown:
        for path, state in mapper.map_all(old) if was_open else [mapper.map(old)]:
            opened.update(id(n) for n in path[:len(path) if was_open or state != EXACT else -1])
    path, _ = mapper.map(cursor)
    opened.update(id(n) for n in path[:-1])
    return opened, path


def test_carry_over_looks_up_only_the_rows_that_can_move_and_shows_the_same(sample):
    variants = [ViewOptions(), ViewOptions(group_by="none"), ViewOptions(group_by="service"),
                ViewOptions(show_internal=False), ViewOptions(group_by="none", show_internal=False)]
    for focus in (consumer_row(sample), only(sample, "retry backoff"), sample.traces[0].root):
        for old_options in variants:
            # As the TUI opens it (closed nodes with children), the same with the `+N more`
            # nodes on show expanded, and with everything open.
            first = DependencyView(sample, focus, old_options)
            opened = {id(n) for n in first.initial_expansion() + first.focus_path()}
            more_open = DependencyView(sample, focus, old_options)
            opened_too = {id(n) for n in more_open.initial_expansion() + more_open.focus_path()}
            for node, _ in _shown(more_open, opened_too):
                for more in [k for k in node.children() if k.kind == MORE]:
                    more_open.expand_more(more)
            everything = DependencyView(sample, focus, old_options)
            for node, _ in walk(everything.root):
                for more in [k for k in node.children() if k.kind == MORE]:
                    everything.expand_more(more)
            for shown in ([(n, id(n) in opened and bool(n.children()))
                           for n, _ in _shown(first, opened)],
                          [(n, id(n) in opened_too and bool(n.children()))
                           for n, _ in _shown(more_open, opened_too)],
                          [(n, bool(n.children())) for n, _ in walk(everything.root)]):
                for new_options in variants:
                    for cursor in (shown[-1][0], shown[len(shown) // 2][0]):
                        a = DependencyView(sample, focus, new_options)
                        b = DependencyView(sample, focus, new_options)
                        opened_a, path_a = carry_over(a, shown, cursor)
                        opened_b, path_b = _every_row_carried(b, shown, cursor)
                        assert _flatten(a, opened_a) == _flatten(b, opened_b)
                        assert [n.rows for n in path_a] == [n.rows for n in path_b]


@run_async
async def test_big_traces_build_their_view_in_a_thread(sample, monkeypatch):
    import async_trace_tui.ui.dependencies_pane as module

    monkeypatch.setattr(module, "BACKGROUND_SPANS", 0)
    focus = consumer_row(sample)
    backoff = only(sample, "retry backoff")

    async def built() -> None:
        await until(pilot, lambda: pane.view is not None and not pane.dep_tree.loading)
        await pilot.pause()

    async with run(sample, focus) as pilot:
        pane = pane_of(pilot.app)
        await built()
        tree = pane.dep_tree
        assert pane.view is not None and tree.cursor_node.is_focus
        assert not tree.loading
        assert backoff in shown_rows(tree)
        # Two changes in a row: only the last build lands, with both applied.
        pane.action_toggle_internal()
        pane.group_by = "service"
        assert tree.loading
        await built()
        assert pane.view.options.group_by == "service" and not pane.view.options.show_internal
        assert backoff not in shown_rows(tree)
        assert tree.cursor_node.is_focus


# -- big work in threads: the key is answered at once, the tree follows ---------------------

async def settled(pilot, pane: DependenciesPane) -> None:
    await until(pilot, lambda: not pane.updating, what="the tree kept updating")
    await pilot.pause()


@run_async
async def test_big_expansions_are_made_in_a_thread_and_land_in_place(sample, monkeypatch):
    import async_trace_tui.ui.widgets.dep_tree as module

    prods = producers(sample)
    async with run(sample, consumer_row(sample), ViewOptions(group_by="none")) as pilot:
        await pilot.pause()
        pane = pane_of(pilot.app)
        tree = pane.dep_tree
        monkeypatch.setattr(module, "BACKGROUND_ROWS", 1)
        more = next(n for n in tree.iter_nodes() if n.kind == MORE)
        i = tree.line_of(more)
        before = tree.line_count
        tree.move_cursor(i)
        assert tree.expand_line(i)
        # Answered at once: the row says its calls are on their way.
        assert pane.updating and tree.line_text(i).endswith("⋯ " + node_label(more, UNICODE).plain)
        assert tree.expand_line(i)  # again while on its way: nothing more
        await settled(pilot, pane)
        ups = [n for n in tree.iter_nodes() if n.edge == ASYNC_UP and n.kind == SPAN]
        assert sorted(r for n in ups for r in n.rows) == prods
        assert tree.line_count == before + 1 and tree.cursor_node is ups[3]
        # A closed span node with children: opened the same way.
        j = next(k for k in range(tree.line_count)
                 if not tree.is_expanded(k) and tree.node_at(k).kind == SPAN
                 and tree.node_at(k).expandable)
        node = tree.node_at(j)
        assert not node.children_known
        tree.expand_line(j)
        assert pane.updating and not tree.is_expanded(j)
        await settled(pilot, pane)
        assert tree.is_expanded(j) and tree.line_count > before + 1
        assert [tree.node_at(j + 1 + k) for k in range(len(node.children()))][0] is node.children()[0]


@run_async
async def test_big_rebuilds_keep_the_old_tree_up_until_the_new_one_is_made(sample, monkeypatch):
    import async_trace_tui.ui.dependencies_pane as module

    focus = consumer_row(sample)
    backoff = only(sample, "retry backoff")
    async with run(sample, focus) as pilot:
        await pilot.pause()
        pane = pane_of(pilot.app)
        tree = pane.dep_tree
        expand_all(tree)
        monkeypatch.setattr(module, "BACKGROUND_REBUILD", 1)
        old_rows = [(n, d) for n, d, _ in tree.rows()]
        pane.action_toggle_internal()
        # The control shows the new setting; the tree the old one, marked as updating.
        assert pane.updating and pane.control_bar.query_one("#dep-internal").value is False
        assert "updating" in str(pane.control_bar.query_one("#dep-status").render())
        assert [(n, d) for n, d, _ in tree.rows()] == old_rows
        tree.action_cursor_down()  # the cursor moved meanwhile: the new tree follows it
        moved = tree.cursor_node
        await settled(pilot, pane)
        assert backoff not in shown_rows(tree)
        assert "updating" not in str(pane.control_bar.query_one("#dep-status").render())
        assert pane.view.visible(moved.rows[0]) in tree.cursor_node.rows  # or its ancestor
        # The same tree as the rebuild made on the spot.
        monkeypatch.setattr(module, "BACKGROUND_REBUILD", 10**9)
        threaded = [(n.kind, n.edge, n.rows, d) for n, d, _ in tree.rows()]
        pane.show_internal = True
        pane.show_internal = False
        assert [(n.kind, n.edge, n.rows, d) for n, d, _ in tree.rows()] == threaded


@run_async
async def test_the_collector_is_held_while_rows_are_made_and_released_after(sample):
    import gc

    assert gc.isenabled()
    async with run(sample, consumer_row(sample)) as pilot:
        await pilot.pause()
        tree = pane_of(pilot.app).dep_tree
        expand_all(tree)
        assert not gc.isenabled()  # put off while the user works through the tree...
        await until(pilot, gc.isenabled)  # ...and run once they pause
        tree.expand_line(0)
        tree.collapse_line(0)
        tree.expand_line(0)
    assert gc.isenabled()  # and never left off


@run_async
async def test_a_row_answers_the_mouse_over_its_whole_width(sample):
    async with run(sample, consumer_row(sample)) as pilot:
        await pilot.pause()
        tree = pane_of(pilot.app).dep_tree
        i = 2
        await pilot.hover(DependencyTree, offset=(tree.size.width - 3, i - tree.scroll_offset.y))
        assert tree.hover_line == i
        await pilot.click(DependencyTree, offset=(tree.size.width - 3, i - tree.scroll_offset.y))
        assert tree.cursor_line == i


def test_text_segments_paint_what_rich_paints():
    from rich.console import Console
    from rich.style import Style
    from rich.text import Text

    from async_trace_tui.ui.widgets.paint import text_segments

    console = Console(force_terminal=True, color_system="truecolor", width=80)

    def cells(segments) -> list[tuple[str, Style]]:
        return [(ch, console.get_style(s.style) if s.style else Style()) for s in segments
                for ch in s.text]

    appended = Text("a ", style="italic")
    appended.append("bold", "bold")
    appended.append(" · ")
    appended.append("red", Style(color="red"))
    overlapping = Text("overlapping spans")
    overlapping.stylize("bold", 0, 11)
    overlapping.stylize("red", 4, 17)
    for text in (appended, overlapping, Text("no spans", style="bold"), Text("")):
        # Rich puts the text's own style under its spans (in __rich_console__ when none).
        expected = Text(style=Style(), end="")
        expected.append_text(text)
        assert cells(text_segments(text, console)) == cells(expected.render(console))


@run_async
async def test_the_selects_show_their_new_value_without_a_layout_pass(sample):
    from async_trace_tui.ui.widgets.controls import _group_prompt

    async with run(sample, consumer_row(sample)) as pilot:
        await pilot.pause()
        pane = pane_of(pilot.app)
        screen = pilot.app.screen
        laid_out = record_calls(screen, "_refresh_layout")
        for key, setting in (("G", "#dep-group-by"), ("a", "#dep-agg")):
            await pilot.press(key)
            await pilot.pause()
            shown = pane.control_bar.query_one(setting).query_one("#label")
            value = _group_prompt(pane.group_by).plain if key == "G" else pane.agg
            assert str(shown.render()).strip() == value
        assert not laid_out


# -- labels that do not fit (issue 8) --------------------------------------------------------

@pytest.mark.parametrize("size", [(80, 24), (150, 40)])
def test_rows_keep_their_numbers_whole_in_a_small_terminal(sample, size):
    """At 80x24 the tree gets ~47 columns: names are shortened with an ellipsis, durations,
    counts and lags stay whole (they used to be cut by the edge: `avg 6.3 m`)."""
    from async_trace_tui.views.labels import lag_text

    async def check() -> None:
        async with PaneApp(sample, consumer_row(sample)).run_test(size=size) as pilot:
            await pilot.pause()
            tree = pane_of(pilot.app).dep_tree
            width = tree.scrollable_content_region.width
            assert width < 100
            for i in range(tree.line_count):
                node = tree.node_at(i)
                text = tree.line_text(i)
                assert cell_len(text) <= width, text
                if node.kind != SPAN:
                    continue
                prefix = f"{node.view.options.agg} " if node.count > 1 else ""
                assert f"{prefix}{duration(node.duration_ns)}" in text, text
                if node.lag_ns is not None:  # whole, or left off with an ellipsis
                    lag = lag_text(node.lag_ns, prefix)
                    assert lag in text or ("lag" not in text and text.endswith("…")), text
            group = producer_group(tree)
            text = tree.line_text(tree.line_of(group))
            assert "avg 6.3 ms" in text and "×5" in text
            wide = size[0] >= 150
            assert ("lag avg 3.68 s" in text) is wide, text
            # what the terminal shows: the rows as drawn, cut by nothing
            screen = [strip.text for strip in pilot.app.screen._compositor.render_strips()]
            shown = [line for line in screen if "×5" in line]
            assert shown and "avg 6.3 ms" in shown[0]
            assert ("lag avg 3.68 s" in shown[0]) is wide

    asyncio.run(check())


# -- habits from Jaeger, k9s, lazygit: search, errors, expand/collapse all, back ---------------

@run_async
async def test_search_finds_rows_and_opens_the_closed_ones_it_finds_under(sample):
    email = only(sample, "email process")
    send = only(sample, "POST /v3/mail/send")
    charges = sorted((r for r in range(len(sample)) if sample.name[r] == "charge card"
                      and sample.service(r) == "payments-worker"), key=sample.start.__getitem__)
    async with run(sample, consumer_row(sample)) as pilot:
        await pilot.pause()
        pane = pane_of(pilot.app)
        tree = pane.dep_tree
        await pilot.press("slash")  # the binding: the search box opens with the keyboard
        assert pane.search_bar.has_focus and pane.search_bar.display
        pane.search_bar.value = "CHARGE"
        await pilot.press("enter")
        assert tree.has_focus and not pane.search_bar.display
        assert tree.cursor_node.rows == [charges[0]]
        await pilot.press("n")
        assert tree.cursor_node.rows == [charges[1]]
        tree.action_next_match()  # wraps around
        assert tree.cursor_node.rows == [charges[0]]
        await pilot.press("N")
        assert tree.cursor_node.rows == [charges[1]]
        # A span under a closed async branch: its row is opened on the way.
        i = line_index(tree, lambda n: email in n.rows)
        assert not tree.is_expanded(i)
        assert tree.search("mail/send")
        assert tree.cursor_node.rows == [send] and tree.is_expanded(tree.line_of(
            tree.cursor_node.parent_node))
        # By span id prefix, as the details show it.
        tree.move_cursor(0)
        assert tree.search(sample.span_id[email].hex()[:6])
        assert tree.cursor_node.rows == [email]
        # Nothing found: the cursor stays, the user is told.
        at = tree.cursor_line
        assert not tree.search("no such thing")
        assert tree.cursor_line == at


@run_async
async def test_e_and_E_go_to_the_next_and_previous_error(sample):
    recommendations = only(sample, "GET /recommendations")  # an error in a front-end trace
    failed = next(r for r in range(len(sample)) if sample.name[r] == "charge card"
                  and sample.is_error(r))  # in the batch consumer, an async hop away
    root = sample.traces[sample.trace[recommendations]].root
    async with run(sample, root) as pilot:
        await pilot.pause()
        pane = pane_of(pilot.app)
        tree = pane.dep_tree
        consumer = line_index(tree, lambda n: consumer_row(sample) in n.rows)
        assert not tree.is_expanded(consumer)
        tree.move_cursor(0)
        await pilot.press("e")
        assert tree.cursor_node.rows == [recommendations]
        tree.action_next_error()  # under the closed async branch: opened on the way
        assert tree.cursor_node.rows == [failed]
        assert tree.is_expanded(line_index(tree, lambda n: consumer_row(sample) in n.rows))
        await pilot.press("E")
        assert tree.cursor_node.rows == [recommendations]
        tree.action_previous_error()  # wraps around to the last
        assert tree.cursor_node.rows == [failed]


@run_async
async def test_plus_and_minus_expand_and_collapse_everything_below_the_cursor(sample):
    async with run(sample, consumer_row(sample)) as pilot:
        await pilot.pause()
        pane = pane_of(pilot.app)
        tree = pane.dep_tree
        group = producer_group(tree)
        i = tree.line_of(group)
        before = tree.line_count
        tree.move_cursor(i)
        await pilot.press("plus")
        end = i + 1
        while end < tree.line_count and tree.rows()[end][1] > tree.rows()[i][1]:
            end += 1
        below = range(i, end)
        # the callers' chain, all of it: POST /orders in two services, then GET /checkout
        assert [tree.node_at(k).operation for k in below] == [
            "orders publish", "POST /orders", "POST /orders", "GET /checkout"]
        for k in below:  # everything open, or a leaf
            node = tree.node_at(k)
            assert tree.is_expanded(k) or not node.expandable or node.kind == "cycle", \
                tree.line_text(k)
        assert tree.cursor_line == i
        await pilot.press("minus")
        assert tree.line_count == before and not tree.is_expanded(i)
        # Opened again, one level only: what was open below was closed too.
        tree.action_toggle()
        assert tree.line_count == before + 1 and not tree.is_expanded(i + 1)


@run_async
async def test_backspace_goes_back_to_the_focus_before_f(sample):
    consumer = consumer_row(sample)
    update = only(sample, "UPDATE payments")
    email = only(sample, "email process")
    async with run(sample, consumer) as pilot:
        await pilot.pause()
        pane = pane_of(pilot.app)
        tree = pane.dep_tree
        tree.move_cursor(line_index(tree, lambda n: update in n.rows))
        tree.action_refocus()
        await pilot.pause()
        assert pane.focus_row == update
        tree.move_cursor(line_index(tree, lambda n: email in n.rows))
        tree.action_refocus()
        await pilot.pause()
        assert pane.focus_row == email
        await pilot.press("backspace")
        await pilot.pause()
        assert pane.focus_row == update and tree.cursor_node.rows == [update]
        tree.action_back()
        await pilot.pause()
        # Back at the first focus, the cursor on the span it was on then.
        assert pane.focus_row == consumer and tree.cursor_node.rows == [update]
        assert pane.view.focus == consumer
        tree.action_back()  # nothing further back: said so, nothing changes
        await pilot.pause()
        assert pane.focus_row == consumer


@run_async
async def test_the_details_panel_hides_narrows_widens_and_wraps_at_its_width(sample):
    from async_trace_tui.views.glyphs import UNICODE  # noqa: F401  (the panel's glyphs)

    failed = next(r for r in range(len(sample)) if sample.name[r] == "charge card"
                  and sample.is_error(r))  # a stack trace in its events
    async with PaneApp(sample, consumer_row(sample)).run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        pane = pane_of(pilot.app)
        tree, panel = pane.dep_tree, pane.details_panel
        tree.move_cursor(line_index(tree, lambda n: failed in n.rows))
        await pilot.pause()
        tree_width, panel_width = tree.size.width, panel.outer_size.width
        await pilot.press("backslash")
        await pilot.pause()
        assert not panel.display and tree.size.width > tree_width
        await pilot.press("backslash")
        await pilot.pause()
        assert panel.display and panel.outer_size.width == panel_width
        await pilot.press("left_curly_bracket")
        await pilot.pause()
        assert panel.outer_size.width < panel_width and tree.size.width > tree_width
        for _ in range(5):
            pane.action_narrow_details()
        await pilot.pause()
        narrow = panel.scrollable_content_region.width
        assert narrow < 24
        # Long ids and the stack trace wrap at the panel's real width: nothing cut off.
        lines = panel.text.split("\n")
        assert max(cell_len(line) for line in lines) <= narrow
        joined = "".join(line.strip() for line in lines)
        assert sample.trace_id_of(failed).hex() in joined and "PaymentGatewayError" in joined
        for _ in range(12):
            pane.action_widen_details()
        await pilot.pause()
        assert panel.outer_size.width > panel_width and tree.size.width >= 20
        assert max(cell_len(line) for line in panel.text.split("\n")) \
            <= panel.scrollable_content_region.width


@run_async
async def test_plus_stops_at_its_row_budget(sample, monkeypatch):
    import async_trace_tui.ui.widgets.dep_tree as module

    monkeypatch.setattr(module, "EXPAND_ALL_ROWS", 6)
    async with run(sample, consumer_row(sample)) as pilot:
        await pilot.pause()
        pane = pane_of(pilot.app)
        tree = pane.dep_tree
        before = tree.line_count
        tree.move_cursor(0)
        tree.action_expand_all()  # already open below: as many rows as fit are added
        await pilot.pause()
        assert before < tree.line_count <= before + 6
        assert tree.cursor_line == 0
        tree.action_expand_all()  # again: nothing breaks at the limit
        assert tree.line_count <= before + 12


@run_async
async def test_a_smaller_terminal_keeps_the_cursor_on_screen(sample):
    async with run(sample, consumer_row(sample)) as pilot:
        tree = pane_of(pilot.app).dep_tree
        await until(pilot, lambda: tree.line_count > 0)
        tree.move_cursor(0)
        tree.action_expand_all()
        await pilot.pause()
        assert tree.line_count > 12
        tree.focus()
        tree.move_cursor(tree.line_count - 1)
        await pilot.pause()
        await pilot.resize_terminal(SIZE[0], 14)
        assert tree.scrollable_content_region.height < tree.line_count

        def cursor_shown() -> bool:
            top = tree.scroll_offset.y
            return top <= tree.cursor_line < top + tree.scrollable_content_region.height

        await until(pilot, cursor_shown, timeout=5)
