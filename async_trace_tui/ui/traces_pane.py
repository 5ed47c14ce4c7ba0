"""The Traces tab: the filter input, the table and a status line."""

from __future__ import annotations

import asyncio
from typing import Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import Input, Label, Static
from textual.worker import get_current_worker

from ..index import SpanIndex
from ..sources import Source
from ..views.search import Cancelled, Pending, SearchText, build_search
from ..views.short_ids import names_for
from .store_pages import StorePages
from .widgets.filter_input import FilterInput
from .widgets.traces_table import TracesTable

FILTER_HELP = "service, operation or attribute text · service:NAME for one service · esc clears"


class TracesPane(Vertical):
    """Owns the filter: `/` opens it, typing filters at once, escape clears it."""

    BINDINGS = [
        Binding("slash", "start_filter", "Filter"),
        Binding("escape", "clear_filter", "Clear filter"),
    ]

    class SearchReady(Message):
        def __init__(self, search: SearchText, services_text: list[str], services: list[str]) -> None:
            super().__init__()
            self.search = search
            self.services_text = services_text
            self.services = services

    def __init__(self, *, ascii: bool = False, id: str | None = None) -> None:
        super().__init__(id=id)
        self.ascii = ascii
        self.index: SpanIndex | None = None
        self.services: list[str] | None = None  # every service, once the search worker ran
        self._search_started = False
        self._search_ready = asyncio.Event()
        self.loading_note = ""
        self.store: StorePages | None = None  # the rows come from a store, a page at a time

    def on_mount(self) -> None:
        self._update_status()

    def compose(self) -> ComposeResult:
        with Horizontal(id="filter-bar"):
            yield Label(Text("/ "), id="filter-label")
            yield FilterInput(placeholder=FILTER_HELP, id="filter")
        yield TracesTable(ascii=self.ascii, id="traces-table")
        yield Static(id="traces-status")

    @property
    def table(self) -> TracesTable:
        return self.query_one(TracesTable)

    @property
    def filter_input(self) -> Input:
        return self.query_one("#filter", Input)

    # -- data -----------------------------------------------------------------------------

    def set_preview(self, rows: list[Any]) -> None:
        self.table.set_rows(rows, preview=True)

    def set_index(self, index: SpanIndex, rows: Any) -> None:
        """The loaded index and its rows (a list, or PreparedRows)."""
        self.index = index
        self._search_started = False
        self._search_ready.clear()
        self.services = None
        self.table.set_id_names(names_for(index))
        self.table.set_rows(rows, preview=False)
        if self.table.filter_text.strip():
            self.ensure_search()

    def attach_store(self, source: Source, rows: list[Any], page: int) -> None:
        """The rows of a store's first page; more pages, other orders and the filter are
        asked of the store (ui/store_pages.py)."""
        self.store = StorePages(self, source, rows, page)
        self._update_status()

    def ensure_search(self) -> None:
        """Start the worker that builds the full search text, once per index."""
        if self.index is None or self._search_started:
            return
        self._search_started = True
        self._update_status()
        # (what the index holds now, taken on this thread: in live mode it grows here)
        self._build_search(self.index, Pending(self.index, 0))

    async def wait_search(self, timeout: float) -> bool:
        """Start the search worker and wait for it a little (the command palette's service
        list comes from it); True if it is ready."""
        if self.index is None:
            return False
        self.ensure_search()
        try:
            await asyncio.wait_for(self._search_ready.wait(), timeout)
        except TimeoutError:
            return False
        return True

    @work(thread=True, exclusive=True, group="trace-search", exit_on_error=False)
    def _build_search(self, index: SpanIndex, rows: Pending) -> None:
        worker = get_current_worker()
        try:
            search, svc_text, services = build_search(index, lambda: worker.is_cancelled, rows)
        except Cancelled:
            return
        self.post_message(self.SearchReady(search, svc_text, services))

    def on_traces_pane_search_ready(self, message: SearchReady) -> None:
        self.services = message.services
        self.table.set_search_texts(message.search, message.services_text)
        self._search_ready.set()
        self._update_status()

    # -- filter ---------------------------------------------------------------------------

    def action_start_filter(self) -> None:
        self.filter_input.focus()
        self.ensure_search()

    def set_filter(self, text: str) -> None:
        """Filter from code (the command palette): shows the text in the input."""
        inp = self.filter_input
        with inp.prevent(Input.Changed):
            inp.value = text
        self.table.set_filter(text)
        if text.strip():
            self.ensure_search()
        self.table.focus()
        self.refresh_bindings()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "clear_filter":  # in the footer only while there is one to clear
            inp = self.filter_input
            return bool(inp.value) or inp.has_focus
        return True

    def action_clear_filter(self) -> None:
        inp = self.filter_input
        if inp.value:
            with inp.prevent(Input.Changed):
                inp.value = ""
            self.table.set_filter("")
        self.table.focus()
        self.refresh_bindings()

    @on(Input.Changed, "#filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        if bool(event.value) != bool(self.table.filter_text):
            self.refresh_bindings()  # esc (clear filter) appears or goes
        self.table.set_filter(event.value)
        if event.value.strip():
            self.ensure_search()

    @on(Input.Submitted, "#filter")
    def _filter_submitted(self, event: Input.Submitted) -> None:
        self.table.focus()

    # -- status ---------------------------------------------------------------------------

    @on(TracesTable.ViewChanged)
    def _view_changed(self) -> None:
        if self.store is not None:
            self.store.changed()
        self._update_status()

    def refresh_status(self) -> None:
        self._update_status()

    def _update_status(self) -> None:
        table = self.table
        text = Text(" ")
        text.append(table.describe())
        if table.filter_text.strip() and self._search_started and not table.has_search_texts:
            text.append("  ·  searching all spans and attributes…")
        if self.loading_note:
            text.append("  ·  " + self.loading_note)
        if self.store is not None and self.store.note():
            text.append("  ·  " + self.store.note())
        text.append("   enter dependencies · o waterfall · s/S sort · / filter")
        self.query_one("#traces-status", Static).update(text, layout=False)  # one line, always

    def set_loading_note(self, note: str) -> None:
        self.loading_note = note
        self._update_status()
