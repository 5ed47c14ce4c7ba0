"""The Services tab: the async service map of everything loaded.

A drawing of the map on top where it fits (services in columns by call depth, solid sync
and dotted async edges, async ones labelled with their p95 lag), the table of every service
with its outgoing and incoming edges below it (the table alone on narrow terminals). Enter
on an edge lists its span pairs, the slowest first; enter on a pair asks the app to open the
dependencies view on it (`ServicesPane.OpenSpan`). The map and the pairs are computed in
threads: the keys never wait for them. Styles: services.tcss.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rich.text import Text
from textual import events, on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import Input, Label, Static

from ..gcpause import paused_gc
from ..index import SpanIndex
from ..sources import SourceError
from ..views.format import safe_text
from ..views.map_layout import MapDrawing, draw_map
from ..views.render_map import MARKS
from ..views.service_map import MapEdge, ServiceMap, SpanPair, build_map, map_groupings
from .widgets.filter_input import FilterInput
from .widgets.group_picker import GroupPicker
from .widgets.map_drawing import MapDrawingView
from .widgets.pair_list import PairList
from .widgets.service_table import ServiceTable

MAX_PAIRS = 1000  # pairs listed per edge, the slowest first
FILTER_HELP = "service name · esc clears"


class ServicesPane(Vertical):
    BINDINGS = [
        Binding("slash", "start_filter", "Filter"),
        Binding("g", "pick_grouping", "Map by"),
        Binding("escape", "back", "Back"),
    ]

    class OpenSpan(Message):
        """Enter on a span pair: open the dependencies view on this span (the effect)."""

        def __init__(self, row: int) -> None:
            super().__init__()
            self.row = row

    class MapReady(Message):
        def __init__(self, index: SpanIndex, rows: int, service_map: ServiceMap,
                     drawing: MapDrawing | None) -> None:
            super().__init__()
            self.index = index
            self.rows = rows
            self.service_map = service_map
            self.drawing = drawing

    class MapFailed(Message):
        def __init__(self, error: str) -> None:
            super().__init__()
            self.error = error

    class PairsReady(Message):
        def __init__(self, edge: MapEdge, pairs: list[SpanPair]) -> None:
            super().__init__()
            self.edge = edge
            self.pairs = pairs

    def __init__(self, index: SpanIndex, *, by: str = "service", ascii: bool = False,
                 id: str | None = None,
                 compute: Callable[[str], dict[str, Any]] | None = None,
                 scope: str = "") -> None:
        super().__init__(id=id, classes="-ascii" if ascii else None)
        self.index = index
        # A store's map comes from the store (SQL aggregates over its window, no span
        # pairs), not from the spans fetched so far: `compute(by)` gives its §9 JSON, and
        # `scope` says what it covers (the window) on screen.
        self.compute = compute
        self.scope = scope
        self.failed = False
        self.by = by
        self.ascii = ascii
        self.service_map: ServiceMap | None = None
        self.drawing: MapDrawing | None = None
        self.building = False
        self._built_rows = -1  # rows of the index the map on screen was built from
        self.pairs_edge: MapEdge | None = None  # the edge whose pairs are shown, if any
        self.filter_on_focus = False  # the next focus_main focuses the filter instead

    def compose(self) -> ComposeResult:
        with Horizontal(id="services-filter-bar"):
            yield Label(Text("/ "), id="services-filter-label")
            yield FilterInput(placeholder=FILTER_HELP.replace("·", "-") if self.ascii else FILTER_HELP,
                              id="services-filter")
        yield MapDrawingView(id="services-drawing")
        yield ServiceTable(ascii=self.ascii, id="services-table")
        yield Static(id="pairs-title")
        yield PairList(ascii=self.ascii, id="services-pairs")
        yield Static(id="services-status")

    def on_mount(self) -> None:
        self.query_one("#pairs-title").display = False
        self.pair_list.display = False
        self.query_one(MapDrawingView).display = False
        self.refresh_map()
        # A live index grows under the map: say so (m builds it again), once a second.
        self.set_interval(1.0, self._note_growth)

    def _note_growth(self) -> None:
        if self.service_map is not None and not self.building and self.display \
                and len(self.index) != self._built_rows:
            self._update_status()

    @property
    def table(self) -> ServiceTable:
        return self.query_one(ServiceTable)

    @property
    def pair_list(self) -> PairList:
        return self.query_one(PairList)

    @property
    def filter_input(self) -> Input:
        return self.query_one("#services-filter", Input)

    def focus_main(self) -> None:
        if self.filter_on_focus:  # the palette's "filter" switched here
            self.filter_on_focus = False
            self.filter_input.focus()
            return
        (self.pair_list if self.pairs_edge is not None else self.table).focus()

    # -- the map, built in a thread -------------------------------------------------------

    def refresh_map(self, index: SpanIndex | None = None) -> bool:
        """Build the map again if the index changed (another one, or grown, live) since the
        map on screen was made; True when a build started."""
        if index is not None:
            self.index = index
        if self.building or (self.service_map is not None and self.service_map.by == self.by
                             and (self.compute is not None
                                  or (self._built_rows == len(self.index)
                                      and self.service_map.index is self.index))):
            return False
        self.building = True
        self._update_status()
        self._build(self.index, self.by, self.ascii)
        return True

    @work(thread=True, exclusive=True, group="service-map", exit_on_error=False)
    def _build(self, index: SpanIndex, by: str, ascii_only: bool) -> None:
        rows = len(index)
        with paused_gc():
            if self.compute is not None:
                try:
                    service_map = ServiceMap.from_json(self.compute(by), by, index)
                except SourceError as e:
                    self.post_message(self.MapFailed(str(e)))
                    return
            else:
                service_map = build_map(index, by)
            drawing = draw_map(service_map, ascii_only)
        self.post_message(self.MapReady(index, rows, service_map, drawing))

    def on_services_pane_map_ready(self, m: MapReady) -> None:
        self.building = False
        self.service_map = m.service_map
        self.drawing = m.drawing
        self._built_rows = m.rows
        self.query_one(MapDrawingView).set_drawing(m.drawing)
        self.table.set_map(m.service_map)
        self._fit_drawing()
        self._update_status()
        if self.index is not m.index or len(self.index) != m.rows or m.service_map.by != self.by:
            self.refresh_map()  # the index (or the grouping) moved on while this map was made

    def on_services_pane_map_failed(self, m: MapFailed) -> None:
        """The store could not make the map: one line, and m tries again."""
        self.building = False
        self.failed = True
        self.app.notify(m.error, title="service map failed", severity="error", markup=False,
                        timeout=10)
        self._update_status()

    def on_resize(self, event: events.Resize) -> None:
        self._fit_drawing()

    def _fit_drawing(self) -> None:
        """The drawing where it fits in the width and in half the height, else the table
        alone."""
        d = self.drawing
        fits = (d is not None and self.pairs_edge is None and d.width <= self.size.width
                and d.height <= max(6, self.size.height // 2))
        view = self.query_one(MapDrawingView)
        if view.display != fits:
            view.display = fits

    # -- span pairs -----------------------------------------------------------------------

    @on(ServiceTable.EdgeChosen)
    def _edge_chosen(self, event: ServiceTable.EdgeChosen) -> None:
        self.show_pairs(event.edge)

    def show_pairs(self, edge: MapEdge) -> None:
        self.pairs_edge = edge
        self.pair_list.set_pairs(self.index, edge, [])
        marks = MARKS[self.ascii]
        title = Text(" ")
        title.append(safe_text(edge.source), "bold")
        title.append(f" {marks[edge.kind]} ")
        title.append(safe_text(edge.target), "bold")
        shown = f"the slowest {MAX_PAIRS:,}" if edge.count > MAX_PAIRS else "all"
        order = "longest queue lag" if edge.is_async else "longest call"
        pairs = f"{edge.count:,} {edge.kind} pair{'s' * (edge.count != 1)}"
        if self.compute is not None:  # counted in the store: the pairs stay there
            title.append(f"  {pairs} in the store (its span pairs are not fetched)")
        else:
            title.append(f"  {pairs}, {shown}, {order} first")
        self.query_one("#pairs-title", Static).update(title)
        self.table.display = False
        self.query_one("#pairs-title").display = True
        self.pair_list.display = True
        self._fit_drawing()
        self.pair_list.focus()
        self.refresh_bindings()
        self._update_status()
        if edge.effects and self.service_map is not None:
            self._find_pairs(self.service_map, edge)

    @work(thread=True, exclusive=True, group="service-map-pairs", exit_on_error=False)
    def _find_pairs(self, service_map: ServiceMap, edge: MapEdge) -> None:
        self.post_message(self.PairsReady(edge, service_map.pairs(edge, MAX_PAIRS)))

    def on_services_pane_pairs_ready(self, m: PairsReady) -> None:
        if m.edge is self.pairs_edge:
            self.pair_list.set_pairs(self.index, m.edge, m.pairs)

    @on(PairList.PairChosen)
    def _pair_chosen(self, event: PairList.PairChosen) -> None:
        self.post_message(self.OpenSpan(event.pair.effect))

    def close_pairs(self) -> None:
        self.pairs_edge = None
        self.pair_list.display = False
        self.query_one("#pairs-title").display = False
        self.table.display = True
        self._fit_drawing()
        self.table.focus()
        self.refresh_bindings()
        self._update_status()

    # -- grouping -------------------------------------------------------------------------

    def action_pick_grouping(self) -> None:
        """`g`: what the map's boxes are (service, or a resource attribute such as
        k8s.namespace.name), picked from the keys of the loaded spans' resources."""
        def chosen(choice: str | None) -> None:
            if choice is not None and choice != self.by:
                self.regroup(choice)
            self.focus_main()

        self.app.push_screen(GroupPicker(map_groupings(self.index), self.by, title="Map by",
                                         placeholder="service, resource:KEY"), chosen)

    def regroup(self, by: str) -> None:
        """The map again, grouped by `by` (in a thread; the old map stays until it lands)."""
        self.by = by
        if self.pairs_edge is not None:
            self.close_pairs()
        self.refresh_map()
        self._update_status()

    # -- filter and back ------------------------------------------------------------------

    def action_start_filter(self) -> None:
        if self.pairs_edge is not None:
            self.close_pairs()
        self.filter_input.focus()

    @on(Input.Changed, "#services-filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        self.table.set_filter(event.value)
        self.refresh_bindings()

    @on(Input.Submitted, "#services-filter")
    def _filter_submitted(self) -> None:
        self.table.focus()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "back":  # in the footer only when there is somewhere to go back from
            inp = self.filter_input
            return self.pairs_edge is not None or bool(inp.value) or inp.has_focus
        return True

    def action_back(self) -> None:
        """Escape: from the pairs back to the table, else clear the filter."""
        if self.pairs_edge is not None:
            self.close_pairs()
            return
        inp = self.filter_input
        if inp.value:
            with inp.prevent(Input.Changed):
                inp.value = ""
            self.table.set_filter("")
        self.table.focus()
        self.refresh_bindings()

    # -- status ---------------------------------------------------------------------------

    @on(ServiceTable.ViewChanged)
    def _view_changed(self) -> None:
        self._update_status()

    def _update_status(self) -> None:
        text = Text(" ")
        dot, more = (" - ", "...") if self.ascii else (" · ", "…")
        if self.service_map is None and self.failed and not self.building:
            text.append("the service map could not be made: m tries again")
        elif self.service_map is None and self.compute is not None:
            text.append(f"fetching{more} the service map of the {self.scope or 'store'}")
        elif self.service_map is None:
            text.append(f"building the service map{more}")
        elif self.pairs_edge is not None:
            text.append(f"enter opens the dependencies view on the pair's effect{dot}esc back")
        else:
            if self.service_map.by != "service":
                text.append(f"by {safe_text(self.service_map.by)}{dot}", "bold")
            text.append(self.table.describe())
            grown = 0 if self.compute is not None else len(self.index) - self._built_rows
            if self.scope:
                text.append(f"{dot}{self.scope}")
            if self.building:
                text.append(f" {dot} {'fetching' if self.compute is not None else 'updating'}{more}")
            elif grown > 0:
                text.append(f" {dot} {grown:,} new spans since: m updates", "bold")
            text.append(f"   enter span pairs{dot}s/S sort{dot}/ filter{dot}g map by")
        self.query_one("#services-status", Static).update(text, layout=False)
