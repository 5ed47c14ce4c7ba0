"""The dependencies pane: the tree (left), the details of the selected node (right) and the
Group by / Aggregate / Show internal spans controls with the legend (bottom).

The app mounts `DependenciesPane(index, focus_row)` and handles
`DependenciesPane.OpenTrace` (`o`, or a click on an operation name). Styles: dependencies.tcss
(the app adds it to its CSS_PATH).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import ClassVar, NamedTuple

from textual import events, on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.reactive import reactive
from textual.widget import Widget
from textual.widgets import Input

from ..index import SpanIndex
from ..sources import Source, failure
from ..views.dependencies import (
    SPAN,
    TRACE,
    DependencyView,
    DepNode,
    ViewOptions,
    warm_shapes,
)
from ..views.details import DetailsBuilder
from ..views.glyphs import glyphs
from ..views.group_keys import GroupKeyCollector, next_choice
from ..views.grouping import AGGREGATIONS, parse_group_by
from ..views.tree_state import NodeMapper, carry_over
from .widgets.controls import ControlBar
from .widgets.dep_tree import DependencyTree
from .widgets.details import DetailsPanel
from .widgets.filter_input import FilterInput
from .widgets.group_picker import PickerPanel
from .widgets.paint import after_paint

CSS_PATH = Path(__file__).with_name("dependencies.tcss")

# Views of traces with this many spans are built in a thread, and so are rebuilds (another
# grouping, internal spans shown or hidden) with this much to do (see _rebuild_work).
BACKGROUND_SPANS = 50_000
BACKGROUND_REBUILD = 2000
# Span rows looked at for attribute keys when a view opens, and per expansion.
KEYS_FIRST_LOOK = 2000
KEYS_PER_LOOK = 500


def _rebuild_work(shown: list[tuple[DepNode, bool]], options: ViewOptions) -> int:
    """About how much a rebuild has to do: the spans in the rows it carries over, counted
    four times when grouping them means decoding their attributes (attr:KEY, ~13 µs each)."""
    spans = sum(len(node.rows) for node, _ in shown)
    return spans * 4 if options.group_by.startswith("attr:") else spans


class _Build(NamedTuple):
    """One request for a view: a fresh one (`shown` None) or a rebuild of the tree shown."""

    generation: int
    focus: int
    options: ViewOptions
    shown: list[tuple[DepNode, bool]] | None  # the old tree's rows, (node, open)
    cursor: DepNode | None  # the old tree's cursor node
    center: bool
    refocus: bool
    cursor_row: int = -1  # a fresh view: the span to put the cursor on (-1: the focus)


# The details panel's width steps (`{`, `}`) and narrowest width, in cells.
DETAILS_STEP = 8
DETAILS_MIN = 20
HISTORY_MAX = 100


# The command palette's entries for this tab: (title, key, what to do with the pane).
PALETTE: list[tuple[str, str, Callable[[DependenciesPane], object]]] = [
    ("Dependencies: choose the group-by key (type to narrow)", "key g",
     lambda p: p.action_pick_group()),
    ("Dependencies: previous group-by key", "key G", lambda p: p.action_previous_group()),
    ("Dependencies: next aggregation (avg, max, min, sum)", "key a",
     lambda p: p.action_cycle_agg()),
    ("Dependencies: show or hide internal spans", "key i", lambda p: p.action_toggle_internal()),
    ("Dependencies: focus the view on the selected span", "key f",
     lambda p: p.dep_tree.action_refocus()),
    ("Dependencies: open the selected node's trace in a waterfall tab", "key o",
     lambda p: p.dep_tree.action_open_trace()),
    ("Dependencies: search the tree", "key /", lambda p: p.dep_tree.action_search()),
    ("Dependencies: next search match", "key n", lambda p: p.dep_tree.action_next_match()),
    ("Dependencies: previous search match", "key N",
     lambda p: p.dep_tree.action_previous_match()),
    ("Dependencies: next error", "key e", lambda p: p.dep_tree.action_next_error()),
    ("Dependencies: previous error", "key E", lambda p: p.dep_tree.action_previous_error()),
    ("Dependencies: expand all below the cursor", "key +",
     lambda p: p.dep_tree.action_expand_all()),
    ("Dependencies: collapse all below the cursor", "key -",
     lambda p: p.dep_tree.action_collapse_all()),
    ("Dependencies: back to the previous focus (after f)", "key backspace",
     lambda p: p.go_back()),
    ("Dependencies: hide or show the details panel", "key \\",
     lambda p: p.action_toggle_details()),
    ("Dependencies: narrower details panel", "key {", lambda p: p.action_narrow_details()),
    ("Dependencies: wider details panel", "key }", lambda p: p.action_widen_details()),
    ("Dependencies: full legend", "key L", lambda p: p.action_toggle_legend()),
]

# What the help says about the picker and the search box (their keys are theirs).
HELP = [
    ("Group by picker (g)", [
        ("typing", "narrows the keys (operation, service, none, attr:KEY, resource:KEY)"),
        ("up/down", "moves; the keys most spans carry come first"),
        ("enter", "groups by the highlighted key"),
        ("esc", "leaves the grouping as it was"),
    ]),
    ("Tree search (/)", [
        ("typing", "service, operation, group value, or a span/trace id prefix"),
        ("enter", "goes to the first match after the cursor (opening closed rows of the trace)"),
        ("n/N", "next/previous match; e/E: next/previous error"),
        ("esc", "closes the search box"),
    ]),
]


def _displayed(widget: Widget) -> bool:
    """Whether `widget` and all its containers are displayed (not in a hidden tab)."""
    return all(node.display for node in widget.ancestors_with_self if isinstance(node, Widget))


class DependenciesPane(Widget):
    """Tree + details + controls for one focus span; rebuilt when the focus or options change."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("g", "pick_group", "Group by"),
        Binding("G", "previous_group", "Group by: previous key", show=False),
        Binding("a", "cycle_agg", "Aggregate"),
        Binding("i", "toggle_internal", "Internal spans"),
        Binding("L", "toggle_legend", "Legend", show=False),
        Binding("backslash", "toggle_details", "Details panel: hide or show", show=False),
        Binding("left_curly_bracket", "narrow_details", "Details panel: narrower", show=False),
        Binding("right_curly_bracket", "widen_details", "Details panel: wider", show=False),
    ]

    group_by: reactive[str] = reactive("operation", init=False)
    agg: reactive[str] = reactive("avg", init=False)
    show_internal: reactive[bool] = reactive(True, init=False)

    class OpenTrace(Message):
        """The user asked to open this trace in a new tab (`o`, or a click on an operation
        name). `row` is the span to show (or -1: only the trace is known)."""

        def __init__(self, pane: DependenciesPane, trace_index: int, row: int) -> None:
            self.pane = pane
            self.trace_index = trace_index
            self.row = row
            super().__init__()

        @property
        def control(self) -> DependenciesPane:
            return self.pane

    class FocusChanged(Message):
        """The view was rebuilt around another focus span (`f`, or `set_focus`)."""

        def __init__(self, pane: DependenciesPane, row: int) -> None:
            self.pane = pane
            self.row = row
            super().__init__()

        @property
        def control(self) -> DependenciesPane:
            return self.pane

    class Fetched(Message):
        """A store's fetch for a node (or a refocus) is over; `error` is one line if it failed."""

        def __init__(self, node: DepNode | None, focus: int, error: str = "") -> None:
            self.node = node
            self.focus = focus
            self.error = error
            super().__init__()

    def __init__(self, index: SpanIndex, focus_row: int, options: ViewOptions | None = None,
                 ascii: bool = False, *, name: str | None = None, id: str | None = None,
                 classes: str | None = None, source: Source | None = None) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.index = index
        # A store: nodes whose traces are not fetched whole (with who links to them and what
        # they link to) are fetched in a worker before they expand (see views.headless).
        self.source = source if source is not None and source.lazy else None
        self._fetch_memo: dict[int, tuple[DepNode, bool]] = {}
        self.options = options or ViewOptions()
        self.focus_row = focus_row
        self.ascii = ascii
        self.set_reactive(DependenciesPane.group_by, self.options.group_by)
        self.set_reactive(DependenciesPane.agg, self.options.agg)
        self.set_reactive(DependenciesPane.show_internal, self.options.show_internal)
        self.view: DependencyView | None = None  # built on mount (in a thread when big)
        self._generation = 0
        self._building = False  # a view is being made in a thread
        self.key_collector = GroupKeyCollector(index)
        self.dep_tree = DependencyTree(ascii=ascii, id="dep-tree")
        self.details_panel = DetailsPanel(index, glyphs(ascii), id="dep-details")
        self.control_bar = ControlBar(glyphs(ascii), self.group_by, self.agg, self.show_internal,
                                   id="dep-controls")
        # The Group by picker (`g`), drawn over the tree while open.
        self.picker = PickerPanel(id="dep-picker")
        self.search_bar = FilterInput(placeholder="search the tree: service, operation, value or id "
                                "prefix · enter finds · n/N next/previous · esc",
                                id="dep-search")
        self._details_cells = 0  # the details panel's width set with `{`/`}` (0: the CSS's)
        # (focus span, cursor span) before each refocus: `backspace` goes back.
        self.history: list[tuple[int, int]] = []
        if self.source is not None:
            self.dep_tree.needs_fetch = self._needs_fetch

    def compose(self) -> ComposeResult:
        with Horizontal(id="dep-main"):
            with Vertical(id="dep-left"):
                yield self.dep_tree
                yield self.search_bar
            yield self.details_panel
        yield self.control_bar
        yield self.picker

    def on_mount(self) -> None:
        self.dep_tree.focus()
        self._build(self.focus_row, self.options, None, None, center=True, refocus=False)

    # -- public API ------------------------------------------------------------------------

    @property
    def updating(self) -> bool:
        """Whether work in a thread is about to replace or grow the tree on screen."""
        return self._building or self.dep_tree.pending

    def set_focus(self, row: int) -> None:
        """Rebuild the view around another focus span (opened as at first); from a store,
        its trace is fetched first if it is not yet. `backspace` comes back to the one
        before."""
        if row != self.focus_row:
            cursor = self.dep_tree.cursor_node
            here = cursor.rows[0] if cursor is not None and cursor.rows else self.focus_row
            self.history.append((self.focus_row, here))
            del self.history[:-HISTORY_MAX]
        if self.source is not None and self.source.pending((row,)):
            node = self.dep_tree.cursor_node
            if node is not None and row in node.rows:
                self.dep_tree.fetching(node)
            self._fetch(node, (row,), focus=row)
            return
        self._build(row, self.options, None, None, center=True, refocus=True)

    def go_back(self) -> bool:
        """Back to the focus (and the cursor's span) before the last refocus."""
        if not self.history:
            self.notify("No earlier focus: backspace goes back after f.", markup=False,
                        timeout=3)
            return False
        focus, cursor = self.history.pop()
        self._build(focus, self.options, None, None, center=True, refocus=True,
                    cursor_row=cursor)
        return True

    def set_index(self, index: SpanIndex) -> None:
        """A larger index of the same spans (a store fetched more: rows keep their numbers);
        the next build reads it."""
        self.index = index
        self.key_collector.index = index
        self.details_panel.builder = DetailsBuilder(index, self.details_panel.glyphs)
        self._fetch_memo.clear()

    # -- fetching from a store ---------------------------------------------------------------

    def _needs_fetch(self, node: DepNode) -> bool:
        """Whether the spans `node` leads to may not all be fetched (its traces are not)."""
        hit = self._fetch_memo.get(id(node))
        if hit is not None and hit[0] is node:
            return hit[1]
        need = (self.source is not None and node.kind in (SPAN, TRACE) and bool(node.rows)
                and self.source.pending(node.rows))
        self._fetch_memo[id(node)] = (node, need)
        return need

    def on_dependency_tree_fetch_needed(self, event: DependencyTree.FetchNeeded) -> None:
        event.stop()
        self._fetch(event.node, event.node.rows, focus=-1)

    @work(thread=True, group="store-fetch", exit_on_error=False)
    def _fetch(self, node: DepNode | None, rows: Sequence[int], focus: int) -> None:
        source = self.source
        assert source is not None
        self.post_message(self.Fetched(node, focus, failure(lambda: source.fetch(rows))))

    def on_dependencies_pane_fetched(self, m: Fetched) -> None:
        if m.error:
            if m.node is not None:
                self.dep_tree.fetch_done(m.node)
            self.app.notify(m.error, title="fetch failed", severity="error", markup=False,
                            timeout=10)
            return
        assert self.source is not None
        self.set_index(self.source.index)
        if m.focus >= 0:
            self._build(m.focus, self.options, None, None, center=True, refocus=True)
            return
        # The same tree over the larger index, with the node that asked for it open.
        shown = [(n, was_open or n is m.node) for n, was_open in self.dep_tree.shown_nodes()]
        self._build(self.focus_row, self.options, shown, self.dep_tree.cursor_node,
                    center=False, refocus=False)

    def _collect_screen_keys(self) -> None:
        # Keys from the rows on screen only: reading the attributes of thousands of rows
        # (~13 µs a span) would take longer than the key's answer may.
        self._collect_keys(self.dep_tree.screen_nodes(), KEYS_PER_LOOK)

    def action_pick_group(self) -> None:
        """The Group by picker: type to narrow, enter chooses."""
        self._collect_screen_keys()
        picker = self.picker
        choices = self.key_collector.choices(self.group_by)
        # Centred over the pane: a box drawn on top (no screen of its own: a screen pushed
        # and popped repaints the whole screen twice, ~3x a key's budget at 1M spans).
        rows = 4 + min(len(choices), 20)  # border, title, typing line, up to 20 keys
        width = min(64, self.size.width * 9 // 10)
        picker.styles.offset = (max(0, (self.size.width - width) // 2),
                                max(0, (self.size.height - rows) // 2))
        picker.display = True
        picker.open(choices, self.group_by)

    @property
    def picking(self) -> bool:
        """Whether the Group by picker is open."""
        return self.picker.display

    def on_picker_panel_chosen(self, event: PickerPanel.Chosen) -> None:
        event.stop()
        self._close_picker()
        if event.choice is not None:
            self.group_by = event.choice

    def _close_picker(self) -> None:
        self.picker.display = False
        self.dep_tree.focus()

    def on_descendant_blur(self, event: events.DescendantBlur) -> None:
        # The picker closes (as escape) when the focus leaves it: a click elsewhere,
        # another tab.
        if self.picker.display and event.widget in self.picker.walk_children():
            self.call_after_refresh(self._picker_left)

    def _picker_left(self) -> None:
        focused = self.screen.focused if self.is_attached else None
        if self.picker.display and (focused is None or self.picker not in focused.ancestors):
            self.picker.display = False

    def action_previous_group(self) -> None:
        self._collect_screen_keys()
        self.group_by = next_choice(self.control_bar.group_choices, self.group_by, -1)

    # -- the details panel: hidden, narrower, wider ------------------------------------------

    def action_toggle_details(self) -> None:
        panel = self.details_panel
        panel.display = not panel.display

    def action_narrow_details(self) -> None:
        self._details_width(-DETAILS_STEP)

    def action_widen_details(self) -> None:
        self._details_width(DETAILS_STEP)

    def _details_width(self, step: int) -> None:
        panel = self.details_panel
        total = self.size.width
        if not panel.display:
            panel.display = True
            return
        # The width asked for last (the layout may not have caught up with it yet).
        width = self._details_cells or panel.outer_size.width or total * 42 // 100
        new = max(DETAILS_MIN, min(total - DETAILS_MIN, width + step))
        if new == width:
            self.app.bell()
            return
        self._details_cells = new
        styles = panel.styles
        # Inline, over the stylesheet's proportion and bounds.
        styles.min_width = styles.max_width = styles.width = new

    def action_cycle_agg(self) -> None:
        self.agg = AGGREGATIONS[(AGGREGATIONS.index(self.agg) + 1) % len(AGGREGATIONS)]

    def action_toggle_internal(self) -> None:
        self.show_internal = not self.show_internal

    def action_toggle_legend(self) -> None:
        self.control_bar.toggle_full_legend()

    # -- options ---------------------------------------------------------------------------

    def validate_group_by(self, value: str) -> str:
        parse_group_by(value)  # GroupSpecError on a bad spec
        return value

    def validate_agg(self, value: str) -> str:
        if value not in AGGREGATIONS:
            raise ValueError(f"unknown aggregation {value!r}")
        return value

    def watch_group_by(self) -> None:
        self._options_changed()

    def watch_agg(self) -> None:
        self._options_changed()

    def watch_show_internal(self) -> None:
        self._options_changed()

    def _options_changed(self) -> None:
        options = self.options.replace(group_by=self.group_by, agg=self.agg,
                                       show_internal=self.show_internal)
        self.control_bar.sync(self.group_by, self.agg, self.show_internal)
        old = self.options
        if (options.group_by, options.show_internal) == (old.group_by, old.show_internal):
            # Only the aggregation: the same nodes, relabelled (nodes read it from the view).
            self.options = options
            if self.view is not None:
                self.view.options = options
                self.dep_tree.relabel()
                self.details_panel.show(self.dep_tree.cursor_node)
            return
        self.rebuild(options)

    def rebuild(self, options: ViewOptions) -> None:
        """A new view with `options`, keeping the open nodes and the cursor where it can."""
        self.options = options
        self._build(self.focus_row, options, self.dep_tree.shown_nodes(),
                    self.dep_tree.cursor_node, center=False, refocus=False)

    # -- building views: on the spot, or in a thread when big ------------------------------

    def _build(self, focus: int, options: ViewOptions, shown: list[tuple[DepNode, bool]] | None,
               cursor: DepNode | None, center: bool, refocus: bool, cursor_row: int = -1) -> None:
        self._generation += 1
        self.dep_tree.hold_gc()
        build = _Build(self._generation, focus, options, shown, cursor, center, refocus,
                       cursor_row)
        if self.index.traces[self.index.trace[focus]].spans >= BACKGROUND_SPANS:
            # Building the view of a trace of a million spans takes a second or two: keep
            # the UI answering meanwhile.
            self.dep_tree.loading = True
            self._building = True
            self._build_in_thread(build)
        elif shown is not None and _rebuild_work(shown, options) >= BACKGROUND_REBUILD:
            # Regrouping thousands of rows takes longer than a key's answer may: the old tree
            # stays up, marked as updating, until the new one is ready.
            self.control_bar.set_updating(True)
            self._building = True
            after_paint(self, self._start_thread, build)  # that answer first
        else:
            self._apply(build, *self._make_view(build))

    def _start_thread(self, build: _Build) -> None:
        if build.generation == self._generation:
            self._build_in_thread(build)

    @work(thread=True, exclusive=True, group="dependencies-view")
    def _build_in_thread(self, build: _Build) -> None:
        made = self._make_view(build)
        if build.generation == self._generation:
            self.app.call_from_thread(self._apply, build, *made)

    def _make_view(self, build: _Build) -> tuple[DependencyView, set[int], list[DepNode]]:
        view = DependencyView(self.index, build.focus, build.options)
        if build.shown is None:
            opened, cursor_path = {id(n) for n in view.initial_expansion()}, view.focus_path()
            if build.cursor_row >= 0 and build.cursor_row != build.focus:
                # Back in the history: the cursor where it was, when that span is in the
                # focus trace (an async branch is not opened again).
                path = view.path_below(view.root, build.cursor_row)
                if path:
                    cursor_path = [view.root, *path]
        else:
            opened, cursor_path = carry_over(view, build.shown, build.cursor)
        # The children of every open node, computed here (maybe in the thread), not while
        # the tree lays out its rows.
        opened.update(id(n) for n in cursor_path[:-1])
        stack = [view.root]
        while stack:
            node = stack.pop()
            if id(node) in opened:
                kids = node.children()
                warm_shapes(kids)
                stack.extend(kids)
        return view, opened, cursor_path

    def _apply(self, build: _Build, view: DependencyView, opened: set[int],
               cursor_path: list[DepNode]) -> None:
        if build.generation != self._generation:
            return  # a newer build is on its way
        self._fetch_memo.clear()
        self._building = False
        self.dep_tree.loading = False
        self.control_bar.set_updating(False)
        cursor = self.dep_tree.cursor_node
        if build.shown is not None and cursor is not None and cursor is not build.cursor:
            # The cursor moved in the old tree while this one was made: follow it.
            cursor_path, _ = NodeMapper(view).map(cursor)
            opened.update(id(n) for n in cursor_path[:-1])
        # The aggregation may have changed meanwhile: the nodes read it from the view.
        view.options = build.options.replace(agg=self.agg)
        self.options = view.options
        self.focus_row = build.focus
        old, self.view = self.view, view
        self.dep_tree.show(view, opened, cursor_path, center=build.center)
        focused = self.screen.focused
        if (focused is None or not _displayed(focused)) and _displayed(self.dep_tree):
            # A loading widget cannot take the focus: while this view was made in a thread,
            # it stayed where it was (on the tab the user left) or went nowhere.
            self.dep_tree.focus()
        if old is not None:
            self.call_after_refresh(old.dispose)
        if build.shown is None:
            # Reading attributes for the Group by choices waits until the first paint.
            self.call_after_refresh(self._collect_first_keys)
        if build.refocus:
            self.post_message(self.FocusChanged(self, build.focus))

    def on_control_bar_changed(self, event: ControlBar.Changed) -> None:
        event.stop()
        setattr(self, event.setting, event.value)

    # -- from the tree ---------------------------------------------------------------------

    def on_dependency_tree_node_highlighted(self, event: DependencyTree.NodeHighlighted) -> None:
        event.stop()
        self.details_panel.show(event.node)
        self._collect_keys_from(event.node)

    def on_dependency_tree_refocus(self, event: DependencyTree.Refocus) -> None:
        event.stop()
        self.set_focus(event.row)

    def on_dependency_tree_open_trace(self, event: DependencyTree.OpenTrace) -> None:
        event.stop()
        self.post_message(self.OpenTrace(self, event.trace_index, event.row))

    def on_dependency_tree_back(self, event: DependencyTree.Back) -> None:
        event.stop()
        self.go_back()

    def on_dependency_tree_said(self, event: DependencyTree.Said) -> None:
        event.stop()
        self.notify(event.text, markup=False, timeout=4)

    # -- searching the tree ------------------------------------------------------------------

    def on_dependency_tree_search_requested(self, event: DependencyTree.SearchRequested) -> None:
        event.stop()
        bar = self.search_bar
        with bar.prevent(Input.Changed):
            bar.value = self.dep_tree.search_text
        bar.add_class("-shown")
        bar.focus()

    @on(Input.Submitted, "#dep-search")
    def _search_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self._close_search()
        if event.value.strip():
            self.dep_tree.search(event.value)

    def _close_search(self) -> None:
        self.search_bar.remove_class("-shown")
        self.dep_tree.focus()

    def on_control_bar_done(self, event: ControlBar.Done) -> None:
        """Done with a control (a choice made, a menu closed, escape): the keys go back to
        the tree, unless the user went on to another widget meanwhile."""
        event.stop()
        focused = self.screen.focused
        if focused is None or self.control_bar in focused.ancestors_with_self:
            self.dep_tree.focus()

    def on_key(self, event: events.Key) -> None:
        if event.key == "escape" and self.search_bar.has_focus:
            event.stop()
            self._close_search()

    # -- group-by choices ------------------------------------------------------------------

    def _collect_first_keys(self) -> None:
        """Attribute keys from the focus trace and the rows on display."""
        rows = self.index.spans_of(self.index.trace[self.focus_row])[:KEYS_FIRST_LOOK]
        if not self._collect_keys(self.dep_tree.iter_nodes(), KEYS_FIRST_LOOK, rows):
            self._update_choices()  # the choices of this pane, even without new keys

    def _collect_keys(self, nodes: Iterable[DepNode], limit: int, rows: Sequence[int] = ()
                      ) -> bool:
        """Attribute keys from `rows` and the spans of `nodes` (up to `limit` spans); True
        when new ones turned up (the choices are updated)."""
        look = list(rows)
        for node in nodes:
            look.extend(node.rows[:8])
            if len(look) > limit * 2:
                break
        found = self.key_collector.add_rows(look, limit)
        if found:
            self._update_choices()
        return found

    def _collect_keys_from(self, node: DepNode) -> None:
        if node.rows and self.key_collector.add_rows(node.rows, KEYS_PER_LOOK):
            self._update_choices()

    def _update_choices(self) -> None:
        if self.control_bar.is_mounted:
            self.control_bar.set_group_choices(self.key_collector.choices(self.group_by), self.group_by)
        else:
            self.call_after_refresh(self._update_choices)
