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
