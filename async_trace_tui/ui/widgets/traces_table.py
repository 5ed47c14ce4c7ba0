"""The Traces table: one row per trace, drawn with the Line API (only the rows on screen).

Sorting keeps one index list per sort column (computed once, reversed for descending);
filtering is a substring test over precomputed lower-case keys, so both answer at once
with 100,000 traces. The full search text (every span's service, operation and attributes,
views.search) arrives later from a worker: `set_search_texts`.
"""

from __future__ import annotations

from collections.abc import Sequence
from operator import attrgetter
from typing import Any

from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style
from textual.binding import Binding
from textual.message import Message

from ...views.format import duration, safe_text, short_id, timestamp
from ...views.search import RowFilter, SearchText
from ...views.short_ids import TraceIdNames
from ...views.traces import SORT_KEYS
from .line_list import LineList, fit, foreground

# (sort key, title, width or 0 for the flexible column, right-aligned)
# Widths leave room for the title and the sort arrow.
COLUMNS: list[tuple[str, str, int, bool]] = [
    ("start", "start (UTC)", 23, False),
    ("service", "root service", -1, False),  # -1: sized to the data (see _set_rows)
    ("operation", "root operation", 0, False),
    ("duration", "duration", 10, True),
    ("spans", "spans", 7, True),
    ("errors", "errors", 8, True),
    # By the flow of work: the traces whose work this one continued (its spans link to
    # them), then the traces that continued its work (their spans link to it).
    ("links_out", "async from", 12, True),
    ("links_in", "async to", 10, True),
    ("trace_id", "trace id", -2, False),  # -2: as wide as the short ids need (set_id_names)
]
SORT_CYCLE = ["start", "duration", "spans", "errors", "links_out", "links_in",
              "service", "operation", "trace_id"]
SORT_TITLES = {key: title for key, title, _, _ in COLUMNS}
GAP = 2
MIN_OPERATION = 14
COMPACT_START = 14  # "HH:MM:SS.mmm ▲"


# The attribute each sort key reads, and for text the tie-breaker (views.traces.SORT_KEYS
# order, computed with C-speed key lookups and stable passes instead of tuples).
_SORT_FIELDS = {
    "start": ("start_ns", None), "duration": ("duration_ns", None), "spans": ("spans", None),
    "errors": ("errors", None), "links_in": ("links_in", None), "links_out": ("links_out", None),
    "service": ("root_service", "root_operation"), "operation": ("root_operation", "root_service"),
    "trace_id": ("trace_id", None),
}


def sort_order(rows: Sequence[Any], key: str, start: list[int] | None = None) -> list[int]:
    """Indices of `rows` in the order of views.traces.SORT_KEYS[key], ascending. `start`,
    an earlier order of the first rows, makes sorting a grown list cheap (runs survive)."""
    field, then = _SORT_FIELDS[key]
    if start is not None and then is None:
        order = [*start, *range(len(start), len(rows))]
    else:
        order = list(range(len(rows)))
    if then is not None:
        second = list(map(attrgetter(then), rows))
        order.sort(key=second.__getitem__)
    first = list(map(attrgetter(field), rows))
    order.sort(key=first.__getitem__)  # stable: ties keep the tie-breaker's order
    return order


class PreparedRows:
    """Rows with what the table derives from them (filter keys, every sort order, the
    service column's width), computed ahead, e.g. in the loading thread, so that handing
    100,000 rows to the table and sorting them later costs the UI nothing."""

    __slots__ = ("rows", "quick", "orders", "service_width")

    def __init__(self, rows: Sequence[Any], all_orders: bool = True) -> None:
        self.rows = list(rows)
        self.quick = [f"{r.root_service}\n{r.root_operation}".lower() for r in self.rows]
        self.orders = {key: sort_order(self.rows, key) for key in SORT_CYCLE} if all_orders else {}
        longest = max((cell_len(safe_text(s)) for s in {r.root_service for r in self.rows}),
                      default=0)
        self.service_width = max(14, min(longest, 28))


class TracesTable(LineList):
    """Rows are `views.traces.TraceRow` (or preview rows with the same attributes)."""

    BINDINGS = [
        Binding("enter", "choose", "Dependencies"),
        Binding("o", "open_waterfall", "Waterfall"),
        Binding("s", "cycle_sort", "Sort"),
        Binding("S", "reverse_sort", "Reverse sort"),
    ]

    COMPONENT_CLASSES = {
        "traces-table--header",
        "traces-table--header-sorted",
        "traces-table--cursor",
        "traces-table--cursor-blurred",
        "traces-table--error",
        "traces-table--service",
        "traces-table--dim",
    }

    DEFAULT_CSS = """
    TracesTable {
        height: 1fr;
        background: $surface;
    }
    TracesTable > .traces-table--header {
        background: $panel;
        color: $foreground;
        text-style: bold;
    }
    TracesTable > .traces-table--header-sorted {
        background: $panel;
        color: $text-accent;
        text-style: bold;
    }
    TracesTable > .traces-table--cursor {
        background: $block-cursor-background;
        color: $block-cursor-foreground;
        text-style: $block-cursor-text-style;
    }
    TracesTable > .traces-table--cursor-blurred {
        background: $block-cursor-blurred-background;
        color: $block-cursor-blurred-foreground;
        text-style: $block-cursor-blurred-text-style;
    }
    TracesTable > .traces-table--error {
        color: $text-error;
        text-style: bold;
    }
    TracesTable > .traces-table--service {
        color: $text-secondary;
    }
    TracesTable > .traces-table--dim {
        color: $text-muted;
    }
    """

    class TraceChosen(Message):
        """Enter on a trace: open its dependencies view."""

        def __init__(self, row: Any) -> None:
            super().__init__()
            self.row = row

    class WaterfallRequested(Message):
        """`o` on a trace: open its waterfall tab."""

        def __init__(self, row: Any) -> None:
            super().__init__()
            self.row = row

    class ViewChanged(Message):
        """Rows, sort or filter changed (for the status line)."""

    def __init__(self, rows: Sequence[Any] = (), *, ascii: bool = False, name: str | None = None,
                 id: str | None = None, classes: str | None = None) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.ascii = ascii
        self.preview = False
        self.sort_key = "start"
        self.sort_reverse = False
        self.filter_text = ""
        # Rows sorted and filtered elsewhere (a store's SQL: see ui/store_pages.py): shown
        # in the order given; sort and filter are only what they were asked with.
        self.remote = False
        self._rows: list[Any] = []
        self._quick: list[str] = []  # "service\noperation", lower case, per row
        self._order: dict[str, list[int]] = {}
        self._view: list[int] = []
        self._search: SearchText | None = None  # every span's text, by trace index
        self._row_filter: RowFilter | None = None  # made again when rows or texts change
        self._services_text: list[str] | None = None  # "\x00svc\x00svc\x00" by trace index
        self._service_w = 14
        self._id_names: TraceIdNames | None = None  # short trace ids that stay distinct
        self._id_w = 10
        self._styles: dict[str, Style] | None = None
        self._cell_cache: dict[int, tuple[str, ...]] = {}
        self._set_rows(rows)

    # -- data -----------------------------------------------------------------------------

    def set_id_names(self, names: TraceIdNames | None) -> None:
        """How to shorten trace ids so that no two look alike (views.short_ids)."""
        self._id_names = names
        self._id_w = max(10, names.widest + 1) if names is not None else 10
        self._cell_cache = {}
        if self.is_mounted:
            self.refresh_rows()

    def set_rows(self, rows: Sequence[Any] | PreparedRows, preview: bool = False) -> None:
        """New rows (keeps sort, filter and, when it is still there, the selected trace)."""
        current = self.current_row
        keep = current.trace_id if current is not None else None
        self.preview = preview
        self._set_rows(rows)
        self._search = self._services_text = None
        self._row_filter = None
        at = None
        if keep is not None:
            at = next((i for i, r in enumerate(self._rows) if r.trace_id == keep), None)
        self._apply(keep=at)

    def _set_rows(self, rows: Sequence[Any] | PreparedRows) -> None:
        if not isinstance(rows, PreparedRows):
            rows = PreparedRows(rows, all_orders=False)
        self._rows = rows.rows
        self._quick = rows.quick
        self._order = dict(rows.orders)
        self._service_w = rows.service_width
        self._cell_cache = {}
        self._row_filter = None
        self._view = self._filtered(self._sorted())

    def grow(self, updated: Sequence[tuple[int, Any]], added: Sequence[Any]) -> None:
        """Live mode: rows replaced in place (by their place in `all_rows`) and rows added.
        Sort, filter and the selected trace hold; the selection keeps its place on screen."""
        if not updated and not added:
            return
        keep = self._current_index()
        offset = self.cursor - int(self.scroll_offset.y) if keep is not None else None
        rows, quick, cache = self._rows, self._quick, self._cell_cache
        self._row_filter = None
        for i, row in updated:
            rows[i] = row
            quick[i] = f"{row.root_service}\n{row.root_operation}".lower()
            cache.pop(i, None)
        for row in added:
            rows.append(row)
            quick.append(f"{row.root_service}\n{row.root_operation}".lower())
        # The current order goes on from the last one (nearly sorted: cheap to sort again);
        # the others are made again when asked for.
        previous = self._order.get(self.sort_key)
        self._order = {}
        if previous is not None:
            self._order[self.sort_key] = sort_order(rows, self.sort_key, previous)
        self._view = self._filtered(self._sorted())
        pos = 0
        if keep is not None:
            try:
                pos = self._view.index(keep)
            except ValueError:
                pos = 0
        self.set_reactive(LineList.cursor, pos)
        if self.is_mounted:
            self.refresh_rows()
            if offset is not None and 0 <= offset:
                self.scroll_to(y=max(0, pos - offset), animate=False, immediate=True)
            self._scroll_cursor_into_view(center=False)
        self.post_message(self.ViewChanged())

    def set_search_texts(self, search: SearchText, services: list[str]) -> None:
        """Per trace index: everything searchable, and the set of services as text."""
        self._search = search
        self._services_text = services
        self._row_filter = None
        if self.filter_text:
            self._apply(keep=self._current_index())

    @property
    def has_search_texts(self) -> bool:
        return self._search is not None

    @property
    def all_rows(self) -> list[Any]:
        return self._rows

    @property
    def visible_rows(self) -> list[Any]:
        """The rows as shown, after sort and filter."""
        rows = self._rows
        return [rows[i] for i in self._view]

    @property
    def row_count(self) -> int:
        return len(self._view)

    @property
    def current_row(self) -> Any | None:
        if 0 <= self.cursor < len(self._view):
            return self._rows[self._view[self.cursor]]
        return None

    def _current_index(self) -> int | None:
        """The selected row, as an index into all rows (stable across sort and filter)."""
        if 0 <= self.cursor < len(self._view):
            return self._view[self.cursor]
        return None

    def select_trace(self, trace_id: str) -> bool:
        """Move the cursor to a trace (hex id); False when it is filtered out or absent."""
        rows = self._rows
        for pos, i in enumerate(self._view):
            if rows[i].trace_id == trace_id:
                self.move_cursor(pos, center=True)
                return True
        return False

    # -- sort and filter ------------------------------------------------------------------

    def _sorted(self) -> list[int]:
        if self.remote:
            return list(range(len(self._rows)))
        order = self._order.get(self.sort_key)
        if order is None:
            order = self._order[self.sort_key] = sort_order(self._rows, self.sort_key)
        return order[::-1] if self.sort_reverse else order

    def _filtered(self, order: list[int]) -> list[int]:
        if self.remote:  # a store filtered them
            return order
        row_filter = self._row_filter
        if row_filter is None:
            search, services = self._search, self._services_text
            trace_of: list[int] = []
            if search is not None or services is not None:
                # (rows of a store's page have no summary: they match on their root only)
                trace_of = [r.summary.index if r.summary is not None else 1 << 62
                            for r in self._rows]
            row_filter = self._row_filter = RowFilter(trace_of, self._quick, search, services)
        return row_filter.apply(order, self.filter_text)

    def _apply(self, keep: int | None = None) -> None:
        self._view = self._filtered(self._sorted())
        pos = 0
        if keep is not None:
            try:
                pos = self._view.index(keep)
            except ValueError:
                pos = 0
        self.set_reactive(LineList.cursor, pos)
        if self.is_mounted:
            self.refresh_rows()
            self._scroll_cursor_into_view(center=pos > 0)
        self.post_message(self.ViewChanged())

    def sort_by(self, key: str, reverse: bool | None = None) -> None:
        if key not in SORT_KEYS:
            raise ValueError(f"unknown sort key {key!r}")
        if reverse is None:
            if key == self.sort_key:
                reverse = not self.sort_reverse
            else:  # numbers biggest first; time and text in their natural order
                reverse = key not in ("start", "service", "operation", "trace_id")
        keep = self._current_index()
        self.sort_key = key
        self.sort_reverse = reverse
        self._apply(keep=keep)

    def set_filter(self, query: str) -> None:
        if query == self.filter_text:
            return
        keep = self._current_index()
        self.filter_text = query
        self._apply(keep=keep)

    def action_cycle_sort(self) -> None:
        i = SORT_CYCLE.index(self.sort_key) if self.sort_key in SORT_CYCLE else -1
        self.sort_by(SORT_CYCLE[(i + 1) % len(SORT_CYCLE)])

    def action_reverse_sort(self) -> None:
        self.sort_by(self.sort_key, not self.sort_reverse)

    def action_choose(self) -> None:
        row = self.current_row
        if row is not None:
            self.post_message(self.TraceChosen(row))

    def action_open_waterfall(self) -> None:
        row = self.current_row
        if row is not None:
            self.post_message(self.WaterfallRequested(row))

    def describe(self) -> str:
        """One line for the status bar."""
        n, total = len(self._view), len(self._rows)
        arrow = ("v" if self.sort_reverse else "^") if self.ascii else ("▼" if self.sort_reverse else "▲")
        parts = [f"{total:,} trace{'s' if total != 1 else ''}{' shown' if self.remote else ''}"]
        if self.filter_text.strip() and self.remote:
            parts.append(f"with a span matching {self.filter_text.strip()!r}")
        elif self.filter_text.strip():
            parts.append(f"{n:,} match{'es' if n != 1 else ''} for {self.filter_text.strip()!r}")
        parts.append(f"sorted by {SORT_TITLES[self.sort_key]} {arrow}")
        return "  ·  ".join(parts)

    # -- layout ---------------------------------------------------------------------------

    def _widths(self, width: int) -> list[int]:
        """Column widths for `width` cells: the operation takes what is left; when even
        its minimum does not fit, the start column drops the date (time of day only)."""
        fixed = 1 + GAP * (len(COLUMNS) - 1)
        widths = []
        for _key, _title, w, _right in COLUMNS:
            if w == -1:
                w = self._service_w
            elif w == -2:
                w = self._id_w
            widths.append(w)
            fixed += w
        if width - fixed < MIN_OPERATION:
            fixed -= widths[0] - COMPACT_START
            widths[0] = COMPACT_START
        flex = max(MIN_OPERATION, width - fixed)
        return [flex if w == 0 else w for w in widths]

    def content_width(self, width: int) -> int:
        return 1 + sum(self._widths(width)) + GAP * (len(COLUMNS) - 1)

    def header_clicked(self, x: int) -> None:
        pos = 1
        for (key, _title, _w, _right), w in zip(COLUMNS, self._widths(self.virtual_size.width), strict=True):
            if pos <= x < pos + w + GAP:
                self.sort_by(key)
                return
            pos += w + GAP

    # -- rendering ------------------------------------------------------------------------

    def _styles_changed(self) -> None:
        self._styles = None

    def _style(self, name: str) -> Style:
        if self._styles is None:
            get = self.get_component_rich_style
            self._styles = {
                "header": get("traces-table--header"),
                "sorted": get("traces-table--header-sorted"),
                "cursor": get("traces-table--cursor"),
                "blurred": get("traces-table--cursor-blurred"),
                "error": foreground(get("traces-table--error")),
                "service": foreground(get("traces-table--service")),
                "dim": foreground(get("traces-table--dim")),
            }
        return self._styles[name]

    def dim_style(self) -> Style:
        return self._style("dim")

    def empty_message(self) -> str:
        if self._rows and self.filter_text.strip():
            return f"no trace matches {safe_text(self.filter_text.strip())!r}  (escape clears the filter)"
        return "no traces loaded yet" if not self._rows else ""

    def render_header(self, width: int) -> list[Segment]:
        header, sorted_style = self._style("header"), self._style("sorted")
        arrow = ("v" if self.sort_reverse else "^") if self.ascii else ("▼" if self.sort_reverse else "▲")
        segs = [Segment(" ", header)]
        widths = self._widths(width)
        for n, ((key, title, _w, right), w) in enumerate(zip(COLUMNS, widths, strict=True)):
            if key == self.sort_key:
                segs.append(Segment(fit(f"{title} {arrow}", w, right), sorted_style))
            else:
                segs.append(Segment(fit(title, w, right), header))
            if n < len(COLUMNS) - 1:
                segs.append(Segment(" " * GAP, header))
        used = 1 + sum(widths) + GAP * (len(COLUMNS) - 1)
        if used < width:
            segs.append(Segment(" " * (width - used), header))
        return segs

    def _row_styles(self, selected: bool) -> tuple[Style, Style, Style, Style]:
        """(base, dim, service, error) for a row."""
        key = "cursor" if self.has_focus else "blurred"
        base = self.base_style
        if selected:
            base = base + self._style(key)
            return base, base, base, base + self._style("error")
        return (base, base + self._style("dim"), base + self._style("service"),
                base + self._style("error"))

    def _cells(self, i: int) -> tuple[str, ...]:
        """The texts of row `i` (an index into all rows), formatted once."""
        cells = self._cell_cache.get(i)
        if cells is None:
            if len(self._cell_cache) > 4000:
                self._cell_cache.clear()
            row = self._rows[i]
            pending = "…" if self.preview else None
            cells = self._cell_cache[i] = (
                timestamp(row.start_ns),
                safe_text(row.root_service),
                safe_text(row.root_operation),
                duration(row.duration_ns),
                f"{row.spans:,}",
                str(row.errors),
                pending or (str(row.links_out) if row.links_out else "-"),
                pending or (str(row.links_in) if row.links_in else "-"),
                short_id(row.trace_id) if self._id_names is None
                else self._id_names.short(row.trace_id),
            )
        return cells

    def render_row(self, index: int, width: int, selected: bool) -> list[Segment]:
        i = self._view[index]
        row = self._rows[i]
        base, dim, service, error = self._row_styles(selected)
        widths = self._widths(width)
        texts = self._cells(i)
        styles = (dim, service, base, base, base, error if row.errors else dim,
                  base if row.links_out else dim, base if row.links_in else dim, dim)
        # (text, style) runs; neighbours with one style become one segment
        runs: list[tuple[str, Style]] = [(" ", base)]
        gap = " " * GAP
        last = len(texts) - 1
        if widths[0] < len(texts[0]):
            texts = (texts[0][11:], *texts[1:])  # the time of day, without the date
        for n, (text, style, w, col) in enumerate(zip(texts, styles, widths, COLUMNS, strict=True)):
            runs.append((fit(text, w, col[3]), style))
            if n < last:
                runs.append((gap, base))
        used = 1 + sum(widths) + GAP * last
        if used < width:
            runs.append((" " * (width - used), base))
        segs: list[Segment] = []
        text, style = runs[0]
        for t, st in runs[1:]:
            if st == style:
                text += t
            else:
                segs.append(Segment(text, style))
                text, style = t, st
        segs.append(Segment(text, style))
        return segs
