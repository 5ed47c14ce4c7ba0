"""A waterfall tab: the trace's summary, its spans on a time axis, the selected span."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Static

from ..index import SpanIndex
from ..model import KIND_NAMES, STATUS_NAMES
from ..views.format import duration, safe_text, timestamp
from ..words import counted
from .widgets.waterfall import Waterfall


class WaterfallPane(Vertical):
    def __init__(self, index: SpanIndex, trace: int, focus_row: int | None = None, *,
                 ascii: bool = False, id: str | None = None) -> None:
        super().__init__(id=id, classes="waterfall-pane")
        self.index = index
        self.trace = trace
        self.focus_row = focus_row
        self.ascii = ascii

    def compose(self) -> ComposeResult:
        yield Static(self._summary(), classes="waterfall-summary")
        yield Waterfall(self.index, self.trace, self.focus_row, ascii=self.ascii)
        yield Static(classes="waterfall-status")

    @property
    def waterfall(self) -> Waterfall:
        return self.query_one(Waterfall)

    def _summary(self) -> Text:
        idx = self.index
        s = idx.traces[self.trace]
        t = Text(" ")
        t.append("trace ", "bold")
        t.append(s.trace_id.hex())
        if s.root >= 0:
            t.append("  ")
            t.append(safe_text(idx.service(s.root)), "bold")
            t.append(" · ")
            t.append(safe_text(idx.name[s.root]))
        t.append(f"  {duration(s.duration)}  {counted(s.spans, 'span')}")
        if s.errors:
            t.append(f"  {counted(s.errors, 'error')}", "bold")
        t.append(f"  async from {s.links_out} · to {s.links_in}  started {timestamp(s.start)}")
        return t

    def on_waterfall_span_highlighted(self, message: Waterfall.SpanHighlighted) -> None:
        self._show_span(message.row)

    def on_mount(self) -> None:
        row = self.waterfall.selected_span
        if row is not None:
            self._show_span(row)

    def _show_span(self, row: int) -> None:
        idx = self.index
        t = Text(" ")
        t.append(safe_text(idx.service(row)), "bold")
        t.append(" · ")
        t.append(safe_text(idx.name[row]), "bold")
        kind = idx.kind[row]
        status = idx.status[row]
        t.append(f"  {KIND_NAMES[kind] if kind < len(KIND_NAMES) else kind}")
        t.append(f"  {duration(idx.duration(row))}")
        t.append(f"  at +{duration(idx.start[row] - idx.traces[self.trace].start)}")
        t.append(f"  {STATUS_NAMES[status] if status < len(STATUS_NAMES) else status}")
        t.append(f"  span {idx.span_id[row].hex()}")
        out, into = len(idx.links_of(row)), len(idx.linked_from(row))
        if out or into:
            # (the row's mark: ⇠ it links to spans, ⇢ spans link to it)
            t.append(f"  {self.waterfall.link_mark(row)} links to {out}, from {into}", "bold")
        t.append("   enter: dependencies of this span · w closes the tab")
        self.query_one(".waterfall-status", Static).update(t, layout=False)  # one line, always
