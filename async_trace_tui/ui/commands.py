"""The command palette (ctrl+p): every action, plus `jump to trace ...` and `service: ...`.

Span data never goes through markup: prompts are `rich.text.Text` (Textual's own
`Matcher.highlight` parses its candidate as markup, so it is not used for data). Traces
are matched by plain substrings of each query word (Textual's fuzzy matcher enumerates
letter combinations, which explodes on 32-digit hex ids), capped, yielding to the event
loop as it goes so 100,000 traces do not stall typing.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING, Any

from rich.style import Style
from rich.text import Text
from textual.command import DiscoveryHit, Hit, Hits, Provider

from ..views.format import safe_text
from .dependencies_pane import PALETTE as DEPENDENCIES_PALETTE

if TYPE_CHECKING:
    from .app import TraceTuiApp

MAX_DATA_HITS = 60


def highlight(text: str, words: list[str], style: Style) -> Text:
    t = Text(text)
    low = text.lower()
    for w in words:
        at = low.find(w)
        if at >= 0:
            t.stylize(style, at, at + len(w))
    return t


class TraceTuiCommands(Provider):
    @property
    def tui(self) -> TraceTuiApp:
        return self.app  # type: ignore[return-value]

    async def startup(self) -> None:
        # The full list of services comes from the search worker: give it a moment.
        await self.tui.traces_pane.wait_search(0.5)

    def _actions(self) -> list[tuple[str, str, Callable[[], Any]]]:
        return self.tui.palette_actions()

    async def discover(self) -> Hits:
        for name, help_text, callback in self._actions():
            yield DiscoveryHit(Text(name), callback, text=name, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        match_style = Style(reverse=True)
        for name, help_text, callback in self._actions():
            score = matcher.match(name)
            if score > 0:
                # Fixed strings without brackets: Textual's highlight is safe here.
                yield Hit(score, matcher.highlight(name), callback, text=name, help=help_text)
        words = query.lower().split()
        if not words:
            return
        app = self.tui
        hits = 0
        for n, (text, low, kind, arg) in enumerate(app.palette_data_entries()):
            if n and not n % 4000:
                await asyncio.sleep(0)
            if all(w in low for w in words):
                score = 0.5 * sum(len(w) for w in words) / max(1, len(text))
                callback = partial(app.palette_run, kind, arg)
                yield Hit(score, highlight(text, words, match_style), callback, text=text)
                hits += 1
                if hits >= MAX_DATA_HITS:
                    return


class PaletteEntries:
    """What the palette offers (mixed into TraceTuiApp): the actions, and the traces and
    services to jump to or filter by."""

    def palette_actions(self: TraceTuiApp) -> list[tuple[str, str, Callable[[], Any]]]:
        return [
            ("Traces: show the traces table", "key t", self.action_show_traces),
            ("Traces: filter", "key /", self.action_filter),
            ("Traces: clear the filter", "key escape", self.action_clear_filter),
            ("Traces: sort by the next column", "key s", self.action_cycle_sort),
            ("Traces: reverse the sort", "key S", self.action_reverse_sort),
            ("Traces: open the selected trace's waterfall", "key o", self.action_open_waterfall),
            ("Dependencies: show the tab", "key d", self.action_show_dependencies),
            ("Services: the async service map (who hands work to whom, queue lag)", "key m",
             self.action_show_services),
            ("Services: sort by the next column", "key s", self.action_services_sort),
            ("Services: filter by service", "key /", self.action_services_filter),
            ("Services: map by service or a resource attribute", "key g",
             self.action_services_group),
            *[(title, key, partial(self._with_deps, what))
              for title, key, what in DEPENDENCIES_PALETTE],
            ("Tabs: close the waterfall or flow tab", "key w", self.action_close_tab),
            ("Tabs: next tab", "key ]", self.action_next_tab),
            ("Tabs: previous tab", "key [", self.action_previous_tab),
            *([("Live: pause or resume the view (receiving goes on)", "key p",
                self.action_live_pause),
               ("Live: rebuild the dependencies view with what arrived", "key R",
                self.action_live_rebuild)] if self.live is not None else []),
            ("Help: keys and legend", "key ?", self.action_help),
            ("Load report: files, spans, skipped records", "key r", self.action_report),
            *self.flow_palette_actions(),
            ("Quit", "key q", self.action_quit),
        ]

    def palette_data_entries(self: TraceTuiApp) -> list[tuple[str, str, str, Any]]:
        """(text, lower-case text, kind, argument): a trace to jump to, a service to filter."""
        pane = self.traces_pane
        rows = pane.table.all_rows
        key = (id(rows), len(rows), pane.services is not None)
        if self._palette_cache is not None and self._palette_cache[0] == key:
            return self._palette_cache[1]
        entries: list[tuple[str, str, str, Any]] = []
        services = pane.services
        if services is None:
            services = sorted({r.root_service for r in rows})
        for name in services:
            text = f"service: {safe_text(name)}"
            entries.append((text, text.lower(), "service", name))
        if self.loading:
            rows = []
        for r in rows:
            text = (f"jump to trace {safe_text(r.root_service)} {safe_text(r.root_operation)} "
                    f"{r.trace_id}")
            entries.append((text, text.lower(), "trace", r.trace_id))
        self._palette_cache = (key, entries)
        return entries

    async def palette_run(self: TraceTuiApp, kind: str, arg: Any) -> None:
        if kind == "service":
            self.action_show_traces()
            self.traces_pane.set_filter(f"service:{arg}")
        elif kind == "trace" and self.index is not None:
            await self.jump_to_trace(arg)

    async def jump_to_trace(self: TraceTuiApp, hex_id: str) -> None:
        """Select a trace in the table (clearing a filter that hides it) and open its
        dependencies view (a store's trace: once it is fetched, as enter on its row)."""
        if self.index is None:
            return
        table = self.traces_table
        if not table.select_trace(hex_id) and not self.source.lazy:
            self.traces_pane.action_clear_filter()
            table.select_trace(hex_id)
        if self.source.lazy:  # a store's row holds no spans: they are fetched first
            self._fetch_trace(hex_id, "deps")
            return
        t = self.index.trace_index.get(bytes.fromhex(hex_id))
        if t is not None:
            await self.open_dependencies(self.index.traces[t].root)
