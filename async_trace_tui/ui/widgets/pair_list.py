"""The span pairs behind one edge of the service map, the slowest first (by queue lag for an
async edge, by the callee's duration for a sync one). Enter opens the dependencies view on
the pair's effect span (its cause is right above it there)."""

from __future__ import annotations

from rich.segment import Segment
from rich.style import Style
from textual.binding import Binding
from textual.message import Message

from ...index import SpanIndex
from ...views.format import duration, safe_text, short_id
from ...views.render_map import lag_text
from ...views.service_map import MapEdge, SpanPair
from .line_list import LineList, fit

GAP = 2
LAG_W = 16
DUR_W = 10
MIN_SPAN = 20


class PairList(LineList):
    BINDINGS = [Binding("enter", "choose", "Dependencies of pair")]

    COMPONENT_CLASSES = {"pair-list--header", "pair-list--cursor", "pair-list--cursor-blurred",
                         "pair-list--dim", "pair-list--error"}

    NAMED_STYLES = {
        "header": ("pair-list--header", False), "cursor": ("pair-list--cursor", False),
        "blurred": ("pair-list--cursor-blurred", False), "dim": ("pair-list--dim", True),
        "error": ("pair-list--error", True),
    }

    DEFAULT_CSS = """
    PairList { height: 1fr; background: $surface; }
    /* header and cursor: services.tcss, shared with ServiceTable */
    PairList > .pair-list--dim { color: $text-muted; }
    PairList > .pair-list--error { color: $text-error; text-style: bold; }
    """

    class PairChosen(Message):
        def __init__(self, pair: SpanPair) -> None:
            super().__init__()
            self.pair = pair

    def __init__(self, *, ascii: bool = False, id: str | None = None) -> None:
        super().__init__(id=id)
        self.ascii = ascii
        self.micro = "us" if ascii else "µs"
        self.index: SpanIndex | None = None
        self.edge: MapEdge | None = None
        self.pairs: list[SpanPair] = []

    def set_pairs(self, index: SpanIndex | None, edge: MapEdge | None,
                  pairs: list[SpanPair]) -> None:
        self.index, self.edge, self.pairs = index, edge, pairs
        self.set_reactive(LineList.cursor, 0)
        if self.is_mounted:
            self.refresh_rows(keep_cursor=False)

    @property
    def row_count(self) -> int:
        return len(self.pairs)

    @property
    def current(self) -> SpanPair | None:
        return self.pairs[self.cursor] if 0 <= self.cursor < len(self.pairs) else None

    def action_choose(self) -> None:
        pair = self.current
        if pair is not None:
            self.post_message(self.PairChosen(pair))

    def empty_message(self) -> str:
        if self.edge is None:
            return ""
        if not self.edge.effects and self.edge.count:
            return "this map was computed elsewhere: no span pairs to list"
        return "finding the slowest pairs" + ("..." if self.ascii else "…") if self.edge.count else "no pairs"

    def dim_style(self) -> Style:
        return self.named_style("dim")

    def _span_w(self, width: int) -> int:
        return max(MIN_SPAN, (width - 1 - LAG_W - DUR_W - 3 * GAP) // 2)

    def content_width(self, width: int) -> int:
        return 1 + LAG_W + DUR_W + 2 * self._span_w(width) + 3 * GAP

    def render_header(self, width: int) -> list[Segment]:
        h = self.named_style("header")
        sync = self.edge is not None and not self.edge.is_async
        sw = self._span_w(width)
        first = "lag" if not sync else ""
        text = (" " + fit(first + (" ▼" if first and not self.ascii else " v" if first else ""),
                          LAG_W, right=True)
                + " " * GAP + fit("duration" + (" ▼" if sync and not self.ascii else " v" if sync
                                                 else ""), DUR_W, right=True)
                + " " * GAP + fit("cause (caller / producer)", sw)
                + " " * GAP + fit("effect (callee / consumer)", sw))
        return [Segment(fit(text, width), h)]

    def _span_text(self, row: int) -> str:
        idx = self.index
        assert idx is not None
        sep = " - " if self.ascii else " · "
        return (f"{safe_text(idx.service(row))}{sep}{safe_text(idx.name[row])}{sep}"
                f"{short_id(idx.trace_id_of(row).hex(), ellipsis='..' if self.ascii else '…')}")

    def render_row(self, index: int, width: int, selected: bool) -> list[Segment]:
        pair = self.pairs[index]
        idx = self.index
        base = self.base_style
        if selected:
            base = base + self.named_style("cursor" if self.has_focus else "blurred")
        sw = self._span_w(width)
        err = idx is not None and idx.is_error(pair.effect)
        mark = (" !" if self.ascii else " ✗") if err else ""
        segs = [
            Segment(" " + fit(lag_text(pair.lag, self.micro) if pair.lag is not None else "",
                              LAG_W, right=True), base),
            Segment(" " * GAP + fit(duration(pair.duration, self.micro), DUR_W, right=True), base),
            Segment(" " * GAP + fit(self._span_text(pair.cause), sw), base + self.named_style("dim")),
            Segment(" " * GAP + fit(self._span_text(pair.effect) + mark, sw),
                    base + self.named_style("error") if err else base),
        ]
        used = 1 + LAG_W + DUR_W + 2 * sw + 3 * GAP
        if used < width:
            segs.append(Segment(" " * (width - used), base))
        return segs
