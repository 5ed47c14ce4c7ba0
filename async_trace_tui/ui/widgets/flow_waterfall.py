"""The flow tab's waterfall: every span of a flow, across its traces, on one time axis.

Drawn like a trace's waterfall (SpanTimeline: only the rows on screen are rendered), with a
header line per trace, hand-offs as dotted arrows from a producer's end down (or up) to
its consumers' starts, and the critical path marked: a bar in the path's colour, a mark in
the first column, its queue waits drawn as bold dotted lines. `n`/`N` step along the path.
"""

from __future__ import annotations

from rich.segment import Segment
from rich.style import Style
from textual.binding import Binding
from textual.message import Message

from ...views.flow_layout import FlowLayout
from ...views.format import duration, safe_text, short_id
from .line_list import LineList, fit, foreground
from .waterfall import SpanTimeline

# Cells of the bar area, by what they show: (unicode, ascii)
_VERTICAL = ("┊", ":")
_CORNER_DOWN = ("╰", "`")  # the arrow turns right to the consumer below
_CORNER_UP = ("╭", ",")  # ... to a consumer above (a link to a later line's span)
_TEE = ("├", "|")
_DOTS = ("┄", ".")
_HEAD = ("▶", ">")
_BLOCK = ("█", "=")
_PATH_MARK = ("┃", "*")


class FlowWaterfall(SpanTimeline):
    """The flow's spans; enter asks for the dependencies view of the selected span."""

    BINDINGS = [
        Binding("n", "next_step", "Next on critical path"),
        Binding("N", "previous_step", "Previous on critical path"),
        Binding("enter", "choose", "Dependencies of span"),
    ]

    COMPONENT_CLASSES = {"flow--path", "flow--async", "flow--trace"}

    DEFAULT_CSS = """
    FlowWaterfall > .flow--path { color: $text-accent; text-style: bold; }
    FlowWaterfall > .flow--async { color: $text-warning; }
    FlowWaterfall > .flow--trace { background: $panel; color: $text-primary; text-style: bold; }
    """

    class SpanChosen(Message):
        """Enter on a span: open the dependencies view on it."""

        def __init__(self, widget: FlowWaterfall, row: int) -> None:
            super().__init__()
            self.widget = widget
            self.row = row

        @property
        def control(self) -> FlowWaterfall:
            return self.widget

    class SpanHighlighted(Message):
        def __init__(self, widget: FlowWaterfall, row: int | None) -> None:
            super().__init__()
            self.widget = widget
            self.row = row

        @property
        def control(self) -> FlowWaterfall:
            return self.widget

    def __init__(self, layout: FlowLayout, *, ascii: bool = False, name: str | None = None,
                 id: str | None = None, classes: str | None = None) -> None:
        flow = layout.flow
        super().__init__(flow.index, layout.t0, layout.t1 - layout.t0, ascii=ascii, name=name,
                         id=id, classes=classes)
        self.flow_layout = layout
        self._g = 1 if ascii else 0
        self._flow_styles: dict[str, Style] | None = None
        start_line = layout.line_of.get(flow.start, 0)
        self.set_reactive(LineList.cursor, start_line)

    # -- rows -------------------------------------------------------------------------------

    @property
    def row_count(self) -> int:
        return len(self.flow_layout.lines)

    def span_at(self, index: int) -> tuple[int, int]:
        return self.flow_layout.lines[index], self.flow_layout.depths[index]

    @property
    def selected_span(self) -> int | None:
        if not self.row_count:
            return None
        row = self.flow_layout.lines[self.cursor]
        return row if row >= 0 else None

    def empty_message(self) -> str:
        return "this flow has no spans"

    def on_mount(self) -> None:
        self.refresh_rows()
        self.call_after_refresh(self._scroll_cursor_into_view, True)

    def cursor_moved(self, index: int) -> None:
        self.post_message(self.SpanHighlighted(self, self.selected_span))

    def action_choose(self) -> None:
        row = self.selected_span
        if row is not None:
            self.post_message(self.SpanChosen(self, row))

    # -- the critical path ------------------------------------------------------------------

    @property
    def step(self) -> int | None:
        """The cursor's position on the critical path, if it is on it."""
        row = self.selected_span
        return None if row is None else self.flow_layout.path_step(row)

    def go_to_step(self, step: int) -> None:
        lines = self.flow_layout.path_lines
        if lines:
            self.move_cursor(lines[max(0, min(step, len(lines) - 1))], center=True)

    def action_next_step(self) -> None:
        step = self.step
        self.go_to_step(0 if step is None else step + 1)

    def action_previous_step(self) -> None:
        step = self.step
        self.go_to_step(0 if step is None else step - 1)

    # -- drawing ----------------------------------------------------------------------------

    def _styles_changed(self) -> None:
        super()._styles_changed()
        self._flow_styles: dict[str, Style] | None = None

    def _fstyle(self, name: str) -> Style:
        styles = self._flow_styles
        if styles is None:
            get = self.get_component_rich_style
            styles = self._flow_styles = {
                "path": foreground(get("flow--path")),
                "async": foreground(get("flow--async")),
                "trace": get("flow--trace"),
            }
        return styles[name]

    def row_mark(self, index: int, row: int, base: Style) -> Segment:
        if row in self.flow_layout.on_path:
            return Segment(_PATH_MARK[self._g], base + self._fstyle("path"))
        return Segment(" ", base)

    def render_row(self, index: int, width: int, selected: bool) -> list[Segment]:
        row = self.flow_layout.lines[index]
        if row >= 0:
            return super().render_row(index, width, selected)
        return self._trace_header(index, -1 - row, width, selected)

    def _trace_header(self, index: int, t: int, width: int, selected: bool) -> list[Segment]:
        idx = self.index
        layout = self.flow_layout
        label_w, bar_w, dur_w = self._layout(width)
        style = self._fstyle("trace")
        if selected:
            style = style + self._style("cursor" if self.has_focus else "blurred")
        summary = idx.traces[t]
        ell = "…" if not self.ascii else ".."
        text = f" trace {short_id(summary.trace_id.hex(), ellipsis=ell)}"
        if summary.root >= 0:
            text += f"  {safe_text(idx.service(summary.root))} {safe_text(idx.name[summary.root])}"
        n = layout.spans_in[t]
        text += f"  ({n:,} of {summary.spans:,} spans)" if n != summary.spans else f"  ({n:,} spans)"
        chars, styles = self._cells(index, -1, bar_w, style, style)
        # The label runs on over the bar area up to the first arrow crossing this line,
        # rather than being cut at the name column with the rest of the line empty.
        free = next((c for c, ch in enumerate(chars) if ch != " "), bar_w)
        head = 1 + label_w + 1 + free
        segs = [Segment(fit(text, head), style)]
        segs.extend(self._join(chars[free:], styles[free:]))
        segs.append(Segment(fit("", 2 + dur_w), style))
        return segs

    def bar_segments(self, index: int, row: int, bar_w: int, base: Style,
                     colour: Style) -> list[Segment]:
        return self._arrow_cells(index, row, bar_w, base, colour)

    def _col(self, t: int, bar_w: int) -> int:
        return max(0, min(bar_w - 1, int((t - self.t0) * bar_w / self.total)))

    def _arrow_cells(self, index: int, row: int, bar_w: int, base: Style,
                     colour: Style) -> list[Segment]:
        return self._join(*self._cells(index, row, bar_w, base, colour))

    def _cells(self, index: int, row: int, bar_w: int, base: Style,
               colour: Style) -> tuple[list[str], list[Style]]:
        """The bar area of one line, cell by cell: the span's bar, the dotted hand-off
        arrows that cross or end on it, the critical path's colour and queue wait."""
        g = self._g
        layout = self.flow_layout
        chars = [" "] * bar_w
        styles: list[Style] = [base] * bar_w
        async_style = base + self._fstyle("async")
        path_style = base + self._fstyle("path")
        for h in layout.crossing(index):
            col = self._col(h.at, bar_w)
            if h.top < index < h.bottom:
                chars[col] = _VERTICAL[g]
                styles[col] = async_style
        if row >= 0:
            a, b = self.bar_cells(row, bar_w)
            queue = layout.queue_by_effect.get(row)
            for h in layout.incoming.get(index, ()):
                col = self._col(h.at, bar_w)
                on_path = queue is not None and queue.cause == h.producer
                style = path_style if on_path else async_style
                above = h.line < index
                more = (h.bottom > index) if above else (h.top < index)
                corner = _TEE if more else (_CORNER_DOWN if above else _CORNER_UP)
                if col < a:
                    chars[col] = corner[g]
                    styles[col] = style
                    for c in range(col + 1, a):
                        chars[c] = _DOTS[g]
                        styles[c] = style
                    if a - 1 > col:
                        chars[a - 1] = _HEAD[g]
            bar_style = path_style if row in layout.on_path else colour
            for c in range(a, b):
                chars[c] = _BLOCK[g]
                styles[c] = bar_style
        return chars, styles

    @staticmethod
    def _join(chars: list[str], styles: list[Style]) -> list[Segment]:
        """Runs of one style as one segment each."""
        segs: list[Segment] = []
        run_start = 0
        n = len(chars)
        for c in range(1, n + 1):
            if c == n or styles[c] is not styles[run_start]:
                segs.append(Segment("".join(chars[run_start:c]), styles[run_start]))
                run_start = c
        return segs

    def describe_selected(self) -> str:
        """One line on the selected span and its place on the critical path."""
        row = self.selected_span
        if row is None:
            return ""
        idx = self.index
        layout = self.flow_layout
        text = (f"{safe_text(idx.service(row))} · {safe_text(idx.name[row])}  "
                f"{duration(idx.duration(row))}  at +{duration(idx.start[row] - layout.t0)}")
        step = layout.path_step(row)
        if step is not None:
            text += (f"  ·  critical path {step + 1}/{len(layout.flow.path)}: "
                     f"{duration(layout.own_time[row])} here")
            queue = layout.queue_by_effect.get(row)
            if queue is not None:
                text += f", after a queue wait of {duration(queue.duration)}"
        return text
