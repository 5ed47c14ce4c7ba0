"""The Traces table: one row per trace, drawn with the Line API (only the rows on screen).

Sorting keeps one index list per sort column (computed once, reversed for descending).
The filter keeps a flag per row (views.search.TraceFilter): a key is answered at once when
that is cheap (a query answered before, or few rows to look at again), else in a thread
a slice at a time, the previous answer shown meanwhile with "searching…" in the status
line; a newer key cancels it, and an answer for an older query is never shown. Until the
full search text (every span's service, operation and attributes) arrives from a worker
(`set_search_texts`), rows match on their root's service and operation.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Sequence
from itertools import filterfalse
from operator import attrgetter
from typing import Any

from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style
from textual.binding import Binding
from textual.message import Message
from textual.worker import Worker, get_current_worker

from ...views.format import duration, safe_text, short_id, timestamp
from ...views.search import FilterJob, SearchText, TraceFilter, kept_rows, parse_query
from ...views.short_ids import TraceIdNames
from ...views.traces import SORT_KEYS
from ...words import counted
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


def sort_order(rows: Sequence[Any], key: str) -> list[int]:
    """Indices of `rows` in the order of views.traces.SORT_KEYS[key], ascending."""
    field, then = _SORT_FIELDS[key]
    order = list(range(len(rows)))
    if then is not None:
        second = list(map(attrgetter(then), rows))
        order.sort(key=second.__getitem__)
    first = list(map(attrgetter(field), rows))
    order.sort(key=first.__getitem__)  # stable: ties keep the tie-breaker's order
    return order


def grown_order(rows: Sequence[Any], key: str, order: list[int], moved: dict[int, Any],
                first_new: int) -> list[int]:
    """`order` (ascending by SORT_KEYS[key], of the rows before `first_new`) brought up to
    date after live growth: the rows `moved` (row -> its key before: it changed) taken out
    and put back, with the rows from `first_new` on, where they now belong. A few rows
    cost O(log n) key lookups each and a move of the list's memory; many (a good part of
    n) cost one pass over it, and a full sort of the nearly sorted list only when more.
    Live spans mostly come in time order: by start time new traces just go on the end."""
    field, then = _SORT_FIELDS[key]
    get = attrgetter(field) if then is None else attrgetter(field, then)
    of = rows.__getitem__

    def value(i: int) -> Any:
        return get(of(i))

    n = len(order)
    few = max(16, n >> 12)  # below this many, one at a time beats a pass over the list
    if len(moved) <= few:
        def was(i: int) -> Any:  # the order is still by the moved rows' keys before
            return moved[i] if i in moved else get(of(i))

        for i, old in moved.items():
            del order[order.index(i, bisect_left(order, old, key=was))]  # (among equal
            # keys: a search at C speed)
    elif moved:
        order = list(filterfalse(moved.__contains__, order))
    new = sorted([*moved, *range(first_new, len(rows))], key=value)
    if not new:
        return order
    # Those that go after every row go on the end, the others (late spans mostly) in.
    cut = bisect_left(new, value(order[-1]), key=value) if order else 0
    tail = new[cut:]
    del new[cut:]
    n = len(order)
    if len(new) <= few:
        for i in new:
            order.insert(bisect_right(order, value(i), key=value), i)
    elif len(new) * n.bit_length() * 4 > n:
        order.extend(new)
        keys = list(map(get, rows))
        order.sort(key=keys.__getitem__)
    else:
        out: list[int] = []
        lo = 0
        for i in new:  # ascending: each goes after the one before
            at = bisect_right(order, value(i), lo, key=value)
            out.extend(order[lo:at])
            out.append(i)
            lo = at
        out.extend(order[lo:])
        order = out
    order.extend(tail)
    return order


class PreparedRows:
    """Rows with what the table derives from them (filter keys, every sort order, the
    service column's width), computed ahead, e.g. in the loading thread, so that handing
    100,000 rows to the table and sorting them later costs the UI nothing."""

    __slots__ = ("rows", "quick", "trace_of", "orders", "service_width")

    def __init__(self, rows: Sequence[Any], all_orders: bool = True) -> None:
        self.rows = list(rows)
        self.quick = [f"{r.root_service}\n{r.root_operation}".lower() for r in self.rows]
        self.trace_of = [_trace_of(r) for r in self.rows]
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

    class FilterDone(Message, bubble=False):
        """A filter worked out in a thread (`generation` tells whether it still holds)."""

        def __init__(self, generation: int, query: str, flags: bytearray | None,
                     view: list[int] | None, order_key: tuple[Any, ...], rows: set[int]) -> None:
            super().__init__()
            self.rows = rows  # the rows (live growth) it looked at again
            self.generation = generation
            self.query = query
            self.flags = flags
            self.view = view
            self.order_key = order_key

    # At most about this many rows are looked at on the UI thread for a key; more go to a
    # thread (class attribute: tests lower it to take that path on small data).
    sync_rows = 5000

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
        self.empty_note = "no traces loaded yet"  # what an empty table says (a store: its window)
        self._rows: list[Any] = []
        self._quick: list[str] = []  # "service\noperation", lower case, per row
        self._order: dict[str, list[int]] = {}
        self._view: list[int] = []
        self._search: SearchText | None = None  # every span's text, by trace index
        self._trace_filter: TraceFilter | None = None  # made again when rows or texts change
        self._trace_of: list[int] = []  # per row: its trace index (1 << 62: none known)
        self._flags: bytearray | None = None  # per row: kept by the filter (None: no filter)
        self._flags_query = ""  # what _flags answers (parse_query's normal form)
        self._searching: str | None = None  # the query a thread is answering
        self._unchecked: set[int] = set()  # rows to look at again (live growth) meanwhile
        self._generation = 0  # bumped when an answer in the works no longer holds
        self._worker: Worker[None] | None = None
        self._rows_version = 0
        self._views = _Views()  # kept rows in the current order, by query
        self._failed = ""  # a query whose thread failed (said in the status line)
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
        self._search = None
        self._set_rows(rows)
        at = None
        if keep is not None:
            at = next((i for i, r in enumerate(self._rows) if r.trace_id == keep), None)
        self._refilter(keep=at)

    def _set_rows(self, rows: Sequence[Any] | PreparedRows) -> None:
        if not isinstance(rows, PreparedRows):
            rows = PreparedRows(rows, all_orders=False)
        self._rows = rows.rows
        self._quick = rows.quick
        self._order = dict(rows.orders)
        self._service_w = rows.service_width
        self._cell_cache = {}
        self._rows_version += 1
        self._trace_of = rows.trace_of
        self._trace_filter = None
        self._flags = None
        self._view = self._sorted()

    def grow(self, updated: Sequence[tuple[int, Any]], added: Sequence[Any]) -> None:
        """Live mode: rows replaced in place (by their place in `all_rows`) and rows added.
        Sort, filter and the selected trace hold; the selection keeps its place on screen."""
        if not updated and not added:
            return
        keep = self._current_index()
        offset = self.cursor - int(self.scroll_offset.y) if keep is not None else None
        rows, quick, cache, trace_of = self._rows, self._quick, self._cell_cache, self._trace_of
        first_new = len(rows)
        field, then = _SORT_FIELDS[self.sort_key]
        get = attrgetter(field) if then is None else attrgetter(field, then)
        moved: dict[int, Any] = {}
        for i, row in updated:
            old = get(rows[i])
            if old != get(row):
                moved[i] = old
            rows[i] = row
            quick[i] = f"{row.root_service}\n{row.root_operation}".lower()
            trace_of[i] = _trace_of(row)
            cache.pop(i, None)
        for row in added:
            rows.append(row)
            quick.append(f"{row.root_service}\n{row.root_operation}".lower())
            trace_of.append(_trace_of(row))
        self._rows_version += 1
        # The current order goes on from the last one (the rows put in where they belong);
        # the others are made again when asked for.
        previous = self._order.get(self.sort_key)
        self._order = {}
        if previous is not None:
            self._order[self.sort_key] = grown_order(rows, self.sort_key, previous, moved,
                                                     first_new)
        if self._trace_filter is not None:
            self._trace_filter.changed()
        if self._flags is not None:  # new rows wait for their check; changed rows keep theirs
            self._flags.extend(bytes(len(rows) - len(self._flags)))
        if self._flags is not None or self._searching is not None:
            self._unchecked.update(i for i, _row in updated)
            self._unchecked.update(range(first_new, len(rows)))
            self._recheck()
        self._view = self._kept(self._flags_query if self._flags is not None else None)
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

    def set_search_texts(self, search: SearchText, services: list[str] | None = None) -> None:
        """Every trace's searchable text (views.search.build_search; `services`, its
        services per trace, are the search's own)."""
        self._search = search
        self._trace_filter = None
        if parse_query(self.filter_text)[1] or self._searching is not None:
            self._refilter(keep=self._current_index())

    @property
    def searching(self) -> bool:
        """A thread is working out the filter (the rows shown answer an earlier one)."""
        return self._searching is not None

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

    def _order_key(self) -> tuple[Any, ...]:
        return (self._rows_version, self.sort_key, self.sort_reverse, self.remote)

    def _filter(self) -> TraceFilter:
        tf = self._trace_filter
        if tf is None:
            tf = self._trace_filter = TraceFilter(self._trace_of, self._quick, self._search)
        return tf

    def _apply(self, keep: int | None = None) -> None:
        self._show(self._kept(self._flags_query if self._flags is not None else None), keep)

    def _kept(self, query: str | None, within: FilterJob | None = None) -> list[int]:
        """The rows the answer to `query` (`_flags`) keeps (None: every row), in the
        current order; made from the rows of the narrower answer `within` narrowed from
        when they are known."""
        flags = self._flags
        if query is None or flags is None:
            return self._sorted()
        views = self._views
        if views.key != self._order_key():
            views.clear(self._order_key())
        view = views.get(query, flags)
        if view is None:
            base = None
            if within is not None and within.narrowed_from is not None:
                base = views.get(within.narrowed_from, within.within)
            view = kept_rows(base if base is not None else self._sorted(), flags)
            views.put(query, flags, view)
        return view

    def _show(self, view: list[int], keep: int | None) -> None:
        self._view = view
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

    def _budget(self) -> float:
        """Row checks a key may cost on this thread (all of them without an app to run a
        thread in)."""
        return self.sync_rows if self.is_mounted else float("inf")

    def _refilter(self, keep: int | None) -> None:
        """Answer the filter text anew: at once when cheap, else in a thread (the rows
        shown meanwhile stay those of the last answer)."""
        self._generation += 1
        self._cancel_worker()
        self._searching = None
        self._unchecked.clear()
        kind, arg = parse_query(self.filter_text)
        if self.remote or (kind == "text" and not arg):  # (a store filtered them)
            self._flags = None
            self._apply(keep)
            return
        query = f"service:{arg}" if kind == "service" else arg
        tf = self._filter()
        job = tf.answer(query, tf.pending(), self._budget())
        if job.flags is None:
            self._searching = query
            self._work(job)
            self.post_message(self.ViewChanged())
            return
        self._answered(query, job.flags)
        self._show(self._kept(query, job), keep)

    def _recheck(self) -> None:
        """Rows changed (live growth): look at them again, or answer anew when a thread
        was answering a new query."""
        if self._flags is None and self._searching is None:
            return
        self._generation += 1
        self._cancel_worker()
        tf = self._filter()
        if self._flags is None or (self._searching is not None
                                   and self._searching != self._flags_query):
            query = self._searching or ""
            job = tf.answer(query, tf.pending(), self._budget())  # a new query: all again
        else:
            query = self._flags_query
            job = tf.answer(query, tf.pending(), self._budget(), sorted(self._unchecked),
                            self._flags)
        if job.flags is None:
            self._searching = query
            self._work(job)
            return
        self._unchecked.clear()
        self._searching = None
        self._answered(query, job.flags)  # (the caller shows the rows)

    def _answered(self, query: str, flags: bytearray) -> None:
        self._flags, self._flags_query = flags, query
        self._filter().remember(query, flags)

    def _cancel_worker(self) -> None:
        if self._worker is not None:
            self._worker.cancel()
            self._worker = None

    def _work(self, job: FilterJob) -> None:
        generation, order, key = self._generation, self._sorted(), self._order_key()
        rows = set(self._unchecked)

        def run() -> None:
            worker = get_current_worker()

            def stale() -> bool:
                return worker.is_cancelled or generation != self._generation

            flags = view = None
            try:
                for _ in job.steps(stale):
                    if stale():
                        return
                flags = job.flags
                if flags is not None and len(flags) == len(order):
                    view = kept_rows(order, flags)
            except Exception:  # noqa: BLE001 - never a traceback: the status says it failed
                flags = None
            if not stale():
                self.post_message(self.FilterDone(generation, job.query, flags, view, key, rows))

        self._worker = self.run_worker(run, thread=True, group="traces-filter",
                                       exit_on_error=False)

    def on_traces_table_filter_done(self, message: FilterDone) -> None:
        if message.generation != self._generation:
            return  # a newer query or rows came since: never shown
        self._worker = None
        self._searching = None
        self._unchecked.difference_update(message.rows)
        keep = self._current_index()
        if message.flags is None:  # failed: keep the rows that were shown, and say so
            self._failed = message.query
            self.post_message(self.ViewChanged())
            return
        self._answered(message.query, message.flags)
        if message.view is not None and message.order_key == self._order_key():
            if self._views.key != message.order_key:
                self._views.clear(message.order_key)
            self._views.put(message.query, message.flags, message.view)
        self._show(self._kept(message.query), keep)
        if self._unchecked:  # rows came while it worked
            self._recheck()
            self._apply(self._current_index())

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
        self._refilter(keep)

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
        parts = [f"{counted(total, 'trace')}{' shown' if self.remote else ''}"]
        if self.filter_text.strip() and self.remote:
            parts.append(f"with a span matching {self.filter_text.strip()!r}")
        elif self._searching is not None and self._flags is not None:
            shown = self._flags_query
            parts.append(f"{counted(n, 'match', 'matches')} for {shown!r}, "
                         f"searching {self._searching!r}…")
        elif self._searching is not None:
            parts.append(f"searching {self._searching!r}…")
        elif self._failed and self._failed == parse_query(self.filter_text)[1]:
            parts.append(f"the search for {self._failed!r} failed")
        elif self.filter_text.strip():
            parts.append(f"{counted(n, 'match', 'matches')} for {self.filter_text.strip()!r}")
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
        if self._searching is not None:
            return "searching…"
        if (self._rows or self.remote) and self.filter_text.strip():
            # (a store's rows are what its SQL filter kept: none is no match)
            return f"no trace matches {safe_text(self.filter_text.strip())!r}  (escape clears the filter)"
        return self.empty_note if not self._rows else ""

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


def _trace_of(row: Any) -> int:
    """A row's trace index, or past any (1 << 62) for a row without one (a store's page)."""
    summary = getattr(row, "summary", None)
    return summary.index if summary is not None else 1 << 62


class _Views:
    """Kept rows in one order (`key`), by query and the answer (flags) they were made
    from: a key answered before (backspace) shows at once. Bounded by the rows held."""

    LIMIT = 2_000_000

    def __init__(self) -> None:
        self.key: tuple[Any, ...] = ()
        self._by_query: dict[str, tuple[bytearray, list[int]]] = {}

    def clear(self, key: tuple[Any, ...] = ()) -> None:
        self.key = key
        self._by_query = {}

    def get(self, query: str, flags: bytearray | None) -> list[int] | None:
        got = self._by_query.get(query)
        return got[1] if got is not None and got[0] is flags else None

    def put(self, query: str, flags: bytearray, view: list[int]) -> None:
        by = self._by_query
        by.pop(query, None)
        while by and sum(len(v) for _f, v in by.values()) + len(view) > self.LIMIT:
            del by[next(iter(by))]  # the oldest
        by[query] = (flags, view)
