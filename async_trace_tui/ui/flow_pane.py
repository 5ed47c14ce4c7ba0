"""Flow tabs (SPEC §8): the flow of one span, or the distribution over many starts.

`FlowPane(index, starts)` works the flow (or the distribution) out in a thread worker and
shows, for one start, a summary line, the flow waterfall (FlowWaterfall) and a status line
on the selected span; for several starts, p50/p95/max, a histogram and the dominant
segments, as `--flow --op` prints them. `FlowTabs` is the app's side: `F` on the selected
span (Traces row, dependencies node, waterfall row, flow row), the palette's "all roots of
this operation", and the tabs themselves.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from rich.style import Style
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.containers import Vertical, VerticalScroll
from textual.content import Content
from textual.css.query import NoMatches
from textual.message import Message
from textual.widgets import Static, TabPane
from textual.worker import get_current_worker

from ..gcpause import paused_gc
from ..index import SpanIndex
from ..views.flow import Cancelled, Distribution, Flow, distribution, roots_like
from ..views.flow_headless import complete_flow, complete_flows
from ..views.flow_layout import FlowLayout
from ..views.flow_render import (
    detail_parts,
    distribution_lines,
    summary_parts,
    title_parts,
)
from ..views.format import safe_text
from ..views.glyphs import glyphs
from ..views.labels import Parts
from .widgets.flow_waterfall import FlowWaterfall

if TYPE_CHECKING:
    from ..sources import Source
    from .app import TraceTuiApp

FLOW_PREFIX = "flow-"
_STYLE_NAMES = ("title", "figure", "service", "operation", "queue", "bar", "dim", "error",
                "header")


class FlowPane(Vertical):
    """One flow tab. `starts`: one span (its flow) or several (their distribution)."""

    COMPONENT_CLASSES = {f"flow-pane--{name}" for name in _STYLE_NAMES}

    DEFAULT_CSS = """
    FlowPane { height: 1fr; }
    FlowPane > .flow-pane--title { text-style: bold; }
    FlowPane > .flow-pane--figure { text-style: bold; }
    FlowPane > .flow-pane--service { color: $text-primary; }
    FlowPane > .flow-pane--operation { text-style: bold; }
    FlowPane > .flow-pane--queue { color: $text-warning; }
    FlowPane > .flow-pane--bar { color: $text-accent; }
    FlowPane > .flow-pane--dim { color: $text-muted; }
    FlowPane > .flow-pane--error { color: $text-error; text-style: bold; }
    FlowPane > .flow-pane--header { text-style: bold underline; }
    FlowPane .flow-head { height: auto; background: $panel; padding: 0 1; }
    FlowPane .flow-status { height: 1; background: $panel; color: $text-muted; padding: 0 1; }
    FlowPane #flow-body { height: 1fr; }
    FlowPane .flow-note { padding: 1 2; color: $text-muted; }
    FlowPane .flow-distribution { padding: 0 1; }
    """

    class Progress(Message):
        def __init__(self, done: int, total: int) -> None:
            super().__init__()
            self.done = done
            self.total = total

    def __init__(self, index: SpanIndex, starts: list[int], what: str = "", *,
                 ascii: bool = False, source: Source | None = None,
                 find_starts: Callable[[], tuple[list[int], str]] | None = None,
                 id: str | None = None) -> None:
        super().__init__(id=id, classes="flow-pane")
        self.index = index
        # A store fetches, in the worker, what the flow reaches (files have it all).
        self.source = source if source is not None and source.lazy else None
        self.starts = starts
        # A store's starts are found in the worker first (SQL): `find_starts()` gives them
        # and a note when not all of them are taken (--limit).
        self.find_starts = find_starts
        self.note = ""
        self.what = what  # for a distribution: what the starts have in common
        self.ascii = ascii
        self.g = glyphs(ascii)
        self.flow: Flow | None = None
        self.flow_layout: FlowLayout | None = None
        self.distribution: Distribution | None = None
        self.error = ""
        self._shown = False

    def compose(self) -> ComposeResult:
        yield Static(Text(" working out the flow…"), classes="flow-head")
        with Vertical(id="flow-body"):
            yield Static(Text(self._working_text()), classes="flow-note")
        yield Static(Text(""), classes="flow-status")

    def on_mount(self) -> None:
        self._compute()

    @property
    def ready(self) -> bool:
        """Whether the flow (or distribution, or an error) is on screen."""
        return self._shown

    @property
    def waterfall(self) -> FlowWaterfall | None:
        found = self.query(FlowWaterfall)
        return found.first() if found else None

    def _working_text(self, done: int = 0) -> str:
        n = len(self.starts)
        if self.find_starts is not None and not n:
            return f"fetching… the starts ({self.what or 'the chosen spans'}) from the store"
        if n == 1:
            return "working out the flow (every span it reaches, across traces)…"
        return f"working out {n:,} flows… {done:,} done"

    # -- the work, in a thread ----------------------------------------------------------------

    @work(thread=True, exclusive=True, group="flow", exit_on_error=False)
    def _compute(self) -> None:
        worker = get_current_worker()
        try:
            with paused_gc():
                source = self.source
                if self.find_starts is not None:
                    self.starts, self.note = self.find_starts()
                    if source is not None:
                        self.index = source.index
                    if not self.starts:
                        raise LookupError(f"no span of {self.what} in the window")
                    self.post_message(self.Progress(0, len(self.starts)))
                if len(self.starts) == 1:
                    start = self.starts[0]
                    flow = (Flow(self.index, start) if source is None
                            else complete_flow(source, start)).summarise()
                    layout = FlowLayout(flow)
                    if not worker.is_cancelled:
                        self.app.call_from_thread(self._show_flow, flow, layout)
                    return
                index = self.index
                if source is not None:
                    complete_flows(source, self.starts)
                    index = source.index
                dist = distribution(
                    index, self.starts,
                    progress=lambda done, total: self.post_message(self.Progress(done, total)),
                    cancelled=lambda: worker.is_cancelled)
                if not worker.is_cancelled:
                    self.app.call_from_thread(self._show_distribution, dist)
        except Cancelled:
            return
        except LookupError as e:  # no start found in the window
            self.app.call_from_thread(self._show_error, str(e))
        except Exception as e:  # never a traceback over the UI (a store down): say it, carry on
            if not worker.is_cancelled:
                self.app.call_from_thread(self._show_error, f"{type(e).__name__}: {e}")

    def on_flow_pane_progress(self, m: FlowPane.Progress) -> None:
        if self.ready:
            return
        try:
            self.query_one(".flow-note", Static).update(Text(self._working_text(m.done)))
        except NoMatches:
            pass

    # -- showing it -------------------------------------------------------------------------

    def _text(self, lines: list[Parts]) -> Text:
        get = self.get_component_rich_style
        styles: dict[str, Style] = {n: get(f"flow-pane--{n}", partial=True) for n in _STYLE_NAMES}
        t = Text(no_wrap=True, overflow="ellipsis")
        for i, parts in enumerate(lines):
            if i:
                t.append("\n")
            for text, style in parts:
                t.append(text, styles.get(style) or None)
        return t

    async def _show_flow(self, flow: Flow, layout: FlowLayout) -> None:
        self.flow, self.flow_layout = flow, layout
        g = self.g
        self.query_one(".flow-head", Static).update(self._text(
            [title_parts(flow, g), summary_parts(flow, g), detail_parts(flow, g)]))
        body = self.query_one("#flow-body")
        await body.remove_children()
        widget = FlowWaterfall(layout, ascii=self.ascii)
        await body.mount(widget)
        self._take_focus(widget)
        self._show_span(widget)
        self._shown = True

    async def _show_distribution(self, dist: Distribution) -> None:
        self.distribution = dist
        g = self.g
        what: Parts = [(self.what, "operation")] if self.what else [("the chosen spans", "")]
        self.query_one(".flow-head", Static).update(self._text(
            [[("distribution of end-to-end latency", "title")]]))
        body = self.query_one("#flow-body")
        await body.remove_children()
        scroll = VerticalScroll(Static(self._text(distribution_lines(dist, what, g, self.ascii)),
                                       classes="flow-distribution"))
        await body.mount(scroll)
        self._take_focus(scroll)
        note = f"{self.note} · " if self.note else ""
        self.query_one(".flow-status", Static).update(Text(
            f"{note}F on a span opens its own flow · w closes the tab"))
        self._shown = True

    def _show_error(self, message: str) -> None:
        self.error = message
        try:
            self.query_one(".flow-note", Static).update(
                Text(f"the flow could not be worked out: {safe_text(message)}"))
        except NoMatches:
            pass
        self._shown = True

    def _take_focus(self, widget: Any) -> None:
        focused = self.screen.focused
        if focused is None or focused is self or self in focused.ancestors or not _shown(focused):
            if _shown(widget):
                widget.focus()

    def on_flow_waterfall_span_highlighted(self, m: FlowWaterfall.SpanHighlighted) -> None:
        m.stop()
        self._show_span(m.widget)

    def _show_span(self, widget: FlowWaterfall) -> None:
        text = widget.describe_selected()
        keys = "n/N critical path · enter dependencies · F flow of this span · w closes"
        self.query_one(".flow-status", Static).update(
            Text(f"{text}   {keys}" if text else keys), layout=False)


def _shown(widget: Any) -> bool:
    return all(getattr(node, "display", True) for node in widget.ancestors_with_self)


# -- the app's side ------------------------------------------------------------------------

def flow_tab_id(index: SpanIndex, starts: list[int]) -> str:
    if len(starts) == 1:
        s = starts[0]
        return f"{FLOW_PREFIX}{index.trace_id_of(s).hex()}-{index.span_id[s].hex()}"
    digest = hashlib.sha1(",".join(map(str, sorted(starts))).encode()).hexdigest()[:16]
    return f"{FLOW_PREFIX}many-{digest}"


def operation_of(index: SpanIndex, rows: list[int]) -> str:
    """`service · operation` the rows share, or how many spans they are."""
    names = {(index.service(r), index.name[r]) for r in rows[:1000]}
    if len(names) == 1:
        service, operation = next(iter(names))
        return f"{safe_text(service)} · {safe_text(operation)}"
    return f"{len(rows):,} spans"


class FlowTabs:
    """Flow tabs for the app (mixed into TraceTuiApp): `F` and the palette's actions."""

    async def open_flow(self: TraceTuiApp, starts: list[int],
                        operation: tuple[str, str] | None = None) -> FlowPane | None:
        """Open (or activate) the flow tab of one span, or the distribution over many; or,
        given a store's `operation` (service, name), over its roots found in the worker."""
        index = self.index
        if index is None or not (starts or operation):
            return None
        tabs = self.tabs
        tab_id = (flow_tab_id(index, starts) if operation is None
                  else f"{FLOW_PREFIX}op-{hashlib.sha1(repr(operation).encode()).hexdigest()[:16]}")
        found = tabs.query(f"#{tab_id}")
        if found:
            pane = found.first().query_one(FlowPane)
        elif operation is not None:
            what = f"{safe_text(operation[0])} · {safe_text(operation[1])}"
            source = self.source
            pane = FlowPane(index, [], what, ascii=self.ascii, source=source,
                            find_starts=lambda: source.operation_roots(*operation))
            label = f"flows: {what}"
        else:
            what = operation_of(index, starts)
            pane = FlowPane(index, list(starts), what, ascii=self.ascii, source=self.source)
            label = f"flow: {what}" if len(starts) == 1 else f"flows ×{len(starts):,}: {what}"
        if not found:
            await tabs.add_pane(TabPane(Content(label[:48]), pane, id=tab_id))
        tabs.active = tab_id
        self.focus_flow_tab(tab_id)
        self.refresh_bindings()
        return pane

    def focus_flow_tab(self: TraceTuiApp, tab_id: str) -> None:
        found = self.tabs.query(f"#{tab_id} FlowPane")
        if not found:
            return
        pane = found.first()
        widget = pane.waterfall
        if widget is not None:
            widget.focus()
        else:
            scroll = pane.query(VerticalScroll)
            (scroll.first() if scroll else pane).focus()

    def selected_starts(self: TraceTuiApp) -> list[int]:
        """The span(s) under the cursor of the active tab: a Traces row's root, a
        dependencies node's spans, a waterfall's or flow's selected span."""
        from .app import DEPS_TAB, TRACES_TAB
        from .widgets.waterfall import Waterfall

        index = self.index
        if index is None:
            return []
        active = self._active_tab()
        if active == TRACES_TAB:
            row = self.traces_table.current_row
            return [row.summary.root] if row is not None and row.summary.root >= 0 else []
        if active == DEPS_TAB:
            pane = self.deps_pane
            node = pane.dep_tree.cursor_node if pane is not None else None
            return list(node.rows) if node is not None else []
        found = self.tabs.query(f"#{active} Waterfall") if active else []
        if found:
            wf: Waterfall = found.first()
            return [wf.selected_span] if wf.selected_span is not None else []
        found = self.tabs.query(f"#{active} FlowWaterfall") if active else []
        if found:
            fw: FlowWaterfall = found.first()
            return [fw.selected_span] if fw.selected_span is not None else []
        return []

    async def action_open_flow(self: TraceTuiApp) -> None:
        from .app import TRACES_TAB

        if self.loading or self.index is None:
            self.say("Still loading: flows open when the load is done.", timeout=4)
            return
        if self.source.lazy and self._active_tab() == TRACES_TAB:
            row = self.traces_table.current_row
            if row is not None:
                # A store's trace is fetched before its flow can start from its root.
                self._fetch_trace(row.trace_id, "flow")
                return
        starts = self.selected_starts()
        if not starts:
            self.say("Select a span first (a Traces row, a dependencies node, a waterfall row).",
                     timeout=4)
            return
        await self.open_flow(starts)

    async def action_flow_all_roots(self: TraceTuiApp) -> None:
        """The distribution over every trace whose root has the selected Traces row's
        service and operation (a store's: those of the window, the newest --limit)."""
        if self.loading or self.index is None:
            self.say("Still loading: flows open when the load is done.", timeout=4)
            return
        row = self.traces_table.current_row
        if row is None:
            self.say("Select a trace in the Traces tab first.", timeout=4)
            return
        if self.source.lazy:  # a store's row: the roots are found in SQL, in the worker
            await self.open_flow([], (row.root_service, row.root_operation))
            return
        await self.open_flow(roots_like(self.index, row.summary.index))

    def flow_palette_actions(self: TraceTuiApp) -> list[tuple[str, str, Any]]:
        return [
            ("Flow: end to end and critical path of the selected span", "key F",
             self.action_open_flow),
            ("Flow: all roots of the selected trace's operation (distribution)",
             "p50/p95/max, histogram, dominant segments", self.action_flow_all_roots),
        ]

    @staticmethod
    def flow_help() -> list[tuple[str, str]]:
        from .screens import own_bindings

        return [("F", "flow tab of the selected span (several spans: their distribution)"),
                ("ctrl+p", "\"Flow: all roots of the selected trace's operation\""),
                *own_bindings([FlowWaterfall])]
