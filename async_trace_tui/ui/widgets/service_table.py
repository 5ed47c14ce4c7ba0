"""The Services tab's table: each service, then its outgoing and incoming edges (sync solid
→ ←, async dotted ⇢ ⇠) with calls, error rate, p50/p95 duration and queue lag. Line API:
only the rows on screen are drawn. Rows, order and filter come from `views.map_rows`."""

from __future__ import annotations

from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style
from textual.binding import Binding
from textual.message import Message

from ...views.format import duration, safe_text
from ...views.map_rows import IN, OUT, SORT_CYCLE, SORT_TITLES, MapRow, map_rows
from ...views.render_map import lag_text, service_summary
from ...views.service_map import MapEdge, ServiceMap
from .line_list import LineList, fit

# (title, sort key it shows) of the figure columns, after the name column.
FIGURES = (("calls", "calls"), ("errors", "errors"), ("p50 dur", ""), ("p95 dur", "duration"),
           ("p50 lag", ""), ("p95 lag", "lag"))
MARKS = {False: {(OUT, "sync"): "→", (OUT, "async"): "⇢", (IN, "sync"): "←", (IN, "async"): "⇠"},
         True: {(OUT, "sync"): "->", (OUT, "async"): ".>", (IN, "sync"): "<-", (IN, "async"): "<."}}
GAP = 1
MIN_NAME = 20


def error_rate(errors: int, total: int) -> str:
    if not errors:
        return "0%"
    return f"{100 * errors / total:.1f}%" if total else "-"


class ServiceTable(LineList):
    BINDINGS = [
        Binding("enter", "choose", "Span pairs"),
        Binding("s", "cycle_sort", "Sort"),
        Binding("S", "reverse_sort", "Reverse sort"),
    ]

    COMPONENT_CLASSES = {
        "service-table--header", "service-table--header-sorted", "service-table--cursor",
        "service-table--cursor-blurred", "service-table--service", "service-table--dim",
        "service-table--error", "service-table--async",
    }

    NAMED_STYLES = {
        "header": ("service-table--header", False),
        "sorted": ("service-table--header-sorted", False),
        "cursor": ("service-table--cursor", False),
        "blurred": ("service-table--cursor-blurred", False),
        "service": ("service-table--service", True), "dim": ("service-table--dim", True),
        "error": ("service-table--error", True), "async": ("service-table--async", True),
    }

    DEFAULT_CSS = """
    ServiceTable { height: 1fr; background: $surface; }
    ServiceTable > .service-table--header-sorted { background: $panel; color: $text-accent; text-style: bold; }
    ServiceTable > .service-table--service { color: $text-secondary; text-style: bold; }
    ServiceTable > .service-table--dim { color: $text-muted; }
    ServiceTable > .service-table--error { color: $text-error; text-style: bold; }
    ServiceTable > .service-table--async { color: $text-warning; }
    """

    class EdgeChosen(Message):
        """Enter on an edge: list its span pairs."""

        def __init__(self, edge: MapEdge) -> None:
            super().__init__()
            self.edge = edge

    class ViewChanged(Message):
        """Rows, sort or filter changed (for the status line)."""

    def __init__(self, *, ascii: bool = False, id: str | None = None) -> None:
        super().__init__(id=id)
        self.ascii = ascii
        self.micro = "us" if ascii else "µs"
        self.service_map: ServiceMap | None = None
        self.sort_key = "flow"
        self.sort_reverse = False
        self.filter_text = ""
        self.rows: list[MapRow] = []
        self._cells: dict[int, tuple[str, ...]] = {}
        self._widths = [len(t) + 2 for t, _ in FIGURES]
        self._longest = MIN_NAME  # the longest edge name cell

    # -- data -----------------------------------------------------------------------------

    def set_map(self, service_map: ServiceMap) -> None:
        self.service_map = service_map
        self._apply()

    def _apply(self, keep: MapRow | None = None) -> None:
        m = self.service_map
        self.rows = map_rows(m, self.sort_key, self.sort_reverse, self.filter_text) if m else []
        self._cells = {}
        widths = [len(t) + 2 for t, _ in FIGURES]  # room for the sort arrow
        for i in range(len(self.rows)):
            for n, c in enumerate(self.cells(i)[1:]):
                widths[n] = max(widths[n], cell_len(c))
        self._widths = widths
        self._longest = max([cell_len(self.cells(i)[0]) + 1 for i, r in enumerate(self.rows)
                             if r.edge is not None] + [MIN_NAME])
        pos = 0
        if keep is not None:
            pos = next((i for i, r in enumerate(self.rows)
                        if r.edge is keep.edge and r.service is keep.service
                        and r.direction == keep.direction), 0)
        self.set_reactive(LineList.cursor, pos)
        if self.is_mounted:
            self.refresh_rows()
            self._scroll_cursor_into_view(center=pos > 0)
        self.post_message(self.ViewChanged())

    @property
    def current(self) -> MapRow | None:
        return self.rows[self.cursor] if 0 <= self.cursor < len(self.rows) else None

    @property
    def row_count(self) -> int:
        return len(self.rows)

    def sort_by(self, key: str, reverse: bool | None = None) -> None:
        if key not in SORT_CYCLE:
            raise ValueError(f"unknown sort key {key!r}")
        self.sort_key = key
        self.sort_reverse = bool(reverse)
        self._apply(keep=self.current)

    def set_filter(self, text: str) -> None:
        if text != self.filter_text:
            self.filter_text = text
            self._apply(keep=self.current)

    def action_cycle_sort(self) -> None:
        i = SORT_CYCLE.index(self.sort_key)
        self.sort_by(SORT_CYCLE[(i + 1) % len(SORT_CYCLE)])

    def action_reverse_sort(self) -> None:
        self.sort_by(self.sort_key, not self.sort_reverse)

    def action_choose(self) -> None:
        row = self.current
        if row is not None and row.edge is not None:
            self.post_message(self.EdgeChosen(row.edge))

    def _arrow(self) -> str:
        """▲ for an ascending order, ▼ for a descending one, as the Traces table has them:
        map_rows puts call depth and names in ascending order and figures biggest first,
        unless reversed."""
        down = self.sort_reverse != (self.sort_key not in ("flow", "name"))
        return ("v" if down else "^") if self.ascii else ("▼" if down else "▲")

    def describe(self) -> str:
        m = self.service_map
        if m is None:
            return ""
        arrow = self._arrow()
        n_async = sum(e.is_async for e in m.edges)
        what = "service" if m.by == "service" else "group"
        parts = [f"{len(m.services):,} {what}{'s' * (len(m.services) != 1)}",
                 f"{len(m.edges) - n_async:,} sync, {n_async:,} async edges"]
        if self.filter_text.strip():
            shown = sum(r.edge is None for r in self.rows)
            parts.append(f"{shown:,} shown for {safe_text(self.filter_text.strip())!r}")
        parts.append(f"sorted by {SORT_TITLES[self.sort_key]} {arrow}")
        return ("  -  " if self.ascii else "  ·  ").join(parts)

    # -- cells ----------------------------------------------------------------------------

    def cells(self, i: int) -> tuple[str, ...]:
        """The name cell and the figures of row `i`."""
        got = self._cells.get(i)
        if got is None:
            row = self.rows[i]
            s, e = row.service, row.edge
            if e is None:
                sep = " - " if self.ascii else " · "
                got = (safe_text(s.name) + "  " + service_summary(s, sep), "", "", "", "", "", "")
            else:
                mark = MARKS[self.ascii][(row.direction, e.kind)]
                got = (f"   {mark} {safe_text(row.other)}", f"{e.count:,}",
                       error_rate(e.errors, e.count), duration(e.duration_p50, self.micro),
                       duration(e.duration_p95, self.micro), lag_text(e.lag_p50, self.micro),
                       lag_text(e.lag_p95, self.micro))
            self._cells[i] = got
        return got

    def _name_width(self, width: int) -> int:
        """The edges' name column: as wide as the longest name, cut to leave the figures
        their room (never below MIN_NAME: scroll sideways)."""
        room = width - 1 - sum(self._widths) - GAP * len(FIGURES)
        return max(MIN_NAME, min(self._longest, room))

    def content_width(self, width: int) -> int:
        return 1 + self._name_width(width) + sum(self._widths) + GAP * len(FIGURES)

    # -- rendering ------------------------------------------------------------------------

    def dim_style(self) -> Style:
        return self.named_style("dim")

    def empty_message(self) -> str:
        if self.service_map is None:
            return "building the service map" + ("..." if self.ascii else "…")
        if self.filter_text.strip():
            return f"no service matches {safe_text(self.filter_text.strip())!r}  (escape clears the filter)"
        return "no services"

    def render_header(self, width: int) -> list[Segment]:
        header, sorted_style = self.named_style("header"), self.named_style("sorted")
        arrow = self._arrow()
        name_w = self._name_width(width)
        title = "service / edge" + (f" {arrow}" if self.sort_key in ("flow", "name") else "")
        segs = [Segment(" " + fit(title, name_w),
                        sorted_style if self.sort_key in ("flow", "name") else header)]
        for (t, key), w in zip(FIGURES, self._widths, strict=True):
            shown = f"{t} {arrow}" if key == self.sort_key else t
            segs.append(Segment(" " * GAP, header))
            segs.append(Segment(fit(shown, w, right=True),
                                sorted_style if key == self.sort_key else header))
        used = 1 + name_w + sum(self._widths) + GAP * len(FIGURES)
        if used < width:
            segs.append(Segment(" " * (width - used), header))
        return segs

    def render_row(self, index: int, width: int, selected: bool) -> list[Segment]:
        row = self.rows[index]
        base = self.base_style
        if selected:
            base = base + self.named_style("cursor" if self.has_focus else "blurred")
        cells = self.cells(index)
        name_w = self._name_width(width)
        segs: list[Segment] = []
        if row.edge is None:  # the service and its figures, across the whole width
            name = safe_text(row.service.name)
            first = fit(" " + cells[0], width)
            head, tail = first[:len(name) + 1], first[len(name) + 1:]
            segs.append(Segment(head, base + self.named_style("service")))
            segs.append(Segment(tail, base + self.named_style("dim")))
            used = width
        else:
            e = row.edge
            line = base + self.named_style("async") if e.is_async else base
            segs.append(Segment(fit(" " + cells[0], name_w + 1), line))
            for n, (c, w) in enumerate(zip(cells[1:], self._widths, strict=True)):
                style = base
                if n == 1 and e.errors:
                    style = base + self.named_style("error")
                elif not c or c == "-":
                    style = base + self.named_style("dim")
                segs.append(Segment(" " * GAP + fit(c, w, right=True), style))
            used = name_w + 1 + sum(self._widths) + GAP * len(FIGURES)
        if used < width:
            segs.append(Segment(" " * (width - used), base))
        return segs
