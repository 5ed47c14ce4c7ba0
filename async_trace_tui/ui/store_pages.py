"""The Traces table over a store: its rows come a page at a time from SQL.

The first page is the window's newest (the source's `open`). Scrolling near the end of what
is shown fetches the next page; `s`/`S` and the `/` filter ask the store again from the first
page (the filter once typing pauses). Queries run in a worker; the table keeps what it shows
until the answer lands (an answer to an older question is dropped); a failure is one notice.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..sources import Source, failure
from .widgets.traces_table import PreparedRows, TracesTable

if TYPE_CHECKING:
    from .traces_pane import TracesPane

NEAR_END = 40  # rows from the end of what is shown that fetch the next page
DEBOUNCE = 0.3  # seconds of quiet typing before the filter goes to the store


class StorePages:
    def __init__(self, pane: TracesPane, source: Source, rows: list[Any], page: int) -> None:
        self.pane = pane
        self.source = source
        self.page = page
        self.table: TracesTable = pane.table
        self.table.remote = True
        window = getattr(source, "window_label", "")
        self.table.empty_note = (f"no traces in the {window}: --since and --until set it"
                                 if window else "no traces in the store")
        self.table.sort_key, self.table.sort_reverse = "start", True  # as `open` asked
        self.asked = self._question()
        self.more = len(rows) >= page  # a full page: there may be more
        self.busy = ""  # what is being asked of the store, for the status line
        self._generation = 0
        self._timer: Any = None
        self.table.set_rows(PreparedRows(rows, all_orders=False))
        pane.watch(self.table, "cursor", self._cursor_moved, init=False)

    def _question(self) -> tuple[str, str, bool]:
        t = self.table
        return t.filter_text.strip(), t.sort_key, t.sort_reverse

    # -- from the pane ----------------------------------------------------------------------

    def changed(self) -> None:
        """Sort or filter changed (or not): ask again from the first page when they did; a
        filter after DEBOUNCE seconds without typing."""
        question = self._question()
        if question == self.asked:
            return
        filter_only = question[1:] == self.asked[1:]
        self.asked = question
        self._generation += 1
        if self._timer is not None:
            self._timer.stop()
            self._timer = None
        self.busy = "asking the store…"
        if filter_only:
            self._timer = self.pane.set_timer(DEBOUNCE, self._first_page)
        else:
            self._first_page()

    def note(self) -> str:
        if self.busy:
            return self.busy
        return "scroll down for more" if self.more else ""

    # -- asking the store -------------------------------------------------------------------

    def _first_page(self) -> None:
        self._timer = None
        self._ask(0)

    def _cursor_moved(self) -> None:
        table = self.table
        if self.more and not self.busy and table.cursor >= table.row_count - NEAR_END:
            self.busy = "fetching more traces…"
            self._ask(len(table.all_rows))

    def _ask(self, offset: int) -> None:
        query, sort, reverse = self.asked
        generation = self._generation
        self.pane.refresh_status()
        self.pane.run_worker(lambda: self._run(generation, query, sort, reverse, offset),
                             thread=True, group="store-pages", exit_on_error=False)

    def _run(self, generation: int, query: str, sort: str, reverse: bool, offset: int) -> None:
        found: list[Any] = []
        error = failure(lambda: found.extend(self.source.trace_rows(
            query=query, sort=sort, reverse=reverse, offset=offset, limit=self.page)))
        if error:
            self.pane.app.call_from_thread(self._failed, generation, error)
            return
        prepared = PreparedRows(found, all_orders=False) if not offset else found
        self.pane.app.call_from_thread(self._landed, generation, offset, prepared)

    def _landed(self, generation: int, offset: int, rows: Any) -> None:
        if generation != self._generation:
            return  # asked again since
        self.busy = ""
        if offset:
            self.more = len(rows) >= self.page
            self.table.grow([], rows)
        else:
            self.more = len(rows.rows) >= self.page
            self.table.set_rows(rows)
        self.pane.refresh_status()

    def _failed(self, generation: int, error: str) -> None:
        if generation != self._generation:
            return
        self.busy = ""
        # Not asked again by itself (each scroll would say it again): the next sort or
        # filter asks anew.
        self.more = False
        self.asked = ("\x00", "", False)
        self.pane.refresh_status()
        self.pane.app.notify(error, title="store query failed", severity="error", markup=False,
                             timeout=10)
