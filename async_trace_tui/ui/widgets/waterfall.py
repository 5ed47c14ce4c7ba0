"""One trace as a waterfall: a row per span in tree order, a bar on the trace's time axis.

Line API (only the rows on screen are drawn); the tree order comes from an iterative
depth-first walk, so a trace 100,000 spans deep costs a loop, not a recursion.
"""

from __future__ import annotations

import zlib
from array import array
from math import ceil

from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style
from textual.binding import Binding
from textual.message import Message

from ...index import SpanIndex
from ...views.format import axis_ticks, duration, safe_text
from .line_list import LineList, fit, foreground

PALETTE_SIZE = 8
# A waterfall row's mark for its links, by (links to others) + 2 * (linked from others).
LINK_MARKS = {False: (" ", "⇠", "⇢", "⇄"), True: (" ", "<", ">", "x")}
# What the help says of a waterfall's rows and axis.
HELP = [
    ("⇠ (<)", "a row's span links to spans elsewhere: its work continued theirs"),
    ("⇢ (>)", "spans elsewhere link to it: their work continued its"),
    ("⇄ (x)", "both"),
    ("axis", "time from the trace's start, at round steps"),
]
MAX_INDENT = 12  # levels; deeper spans show their depth as a number


def tree_order(index: SpanIndex, trace: int) -> tuple[array, array]:
    """(rows, depths) of a trace's spans, depth-first from its roots, children by start."""
    rows: array[int] = array("l")
    depths: array[int] = array("l")
    index.depth_first(index.roots(trace), rows, depths)
    spans = index.spans_of(trace)
    if len(rows) < len(spans):
        # Spans whose parents form a loop (bad data) are reachable from no root: list them too.
        seen = set(rows)
        for row in sorted((r for r in spans if r not in seen), key=index.start.__getitem__):
            rows.append(row)
            depths.append(0)
    return rows, depths


def service_colour(service: str) -> int:
    """A stable palette slot for a service name (the same in every trace and every run)."""
    return zlib.crc32(service.encode("utf-8", "replace")) % PALETTE_SIZE


class SpanTimeline(LineList):
    """Spans on one time axis, a row each: label (indented service and operation), bar,
    duration. Subclasses say which span (and depth) each row holds; the waterfall of one
    trace and the flow tab (many traces) share the drawing."""

    COMPONENT_CLASSES = {
        "waterfall--header",
        "waterfall--cursor",
        "waterfall--cursor-blurred",
        "waterfall--error",
        "waterfall--dim",
        "waterfall--operation",
        "waterfall--link",
        *(f"waterfall--svc-{i}" for i in range(PALETTE_SIZE)),
    }

    DEFAULT_CSS = """
    SpanTimeline {
        height: 1fr;
        background: $surface;
    }
    SpanTimeline > .waterfall--header {
        background: $panel;
        color: $foreground;
        text-style: bold;
    }
    SpanTimeline > .waterfall--cursor {
        background: $block-cursor-background;
        color: $block-cursor-foreground;
        text-style: $block-cursor-text-style;
    }
    SpanTimeline > .waterfall--cursor-blurred {
        background: $block-cursor-blurred-background;
        color: $block-cursor-blurred-foreground;
        text-style: $block-cursor-blurred-text-style;
    }
    SpanTimeline > .waterfall--error { color: $text-error; text-style: bold; }
    SpanTimeline > .waterfall--dim { color: $text-muted; }
    SpanTimeline > .waterfall--operation { text-style: bold; }
    SpanTimeline > .waterfall--link { color: $text-warning; text-style: bold; }
    SpanTimeline > .waterfall--svc-0 { color: $text-primary; }
    SpanTimeline > .waterfall--svc-1 { color: $text-secondary; }
    SpanTimeline > .waterfall--svc-2 { color: $text-accent; }
    SpanTimeline > .waterfall--svc-3 { color: $text-success; }
    SpanTimeline > .waterfall--svc-4 { color: $text-warning; }
    SpanTimeline > .waterfall--svc-5 { color: $primary-lighten-2; }
    SpanTimeline > .waterfall--svc-6 { color: $secondary-lighten-2; }
    SpanTimeline > .waterfall--svc-7 { color: $accent-lighten-2; }
    """

    def __init__(self, index: SpanIndex, t0: int, total: int, *, ascii: bool = False,
                 name: str | None = None, id: str | None = None,
                 classes: str | None = None) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.index = index
        self.ascii = ascii
        self.t0 = t0
        self.total = max(1, total)
        self._styles: dict[str, Style] | None = None

    def span_at(self, index: int) -> tuple[int, int]:
        """(span row, depth) shown on list row `index`."""
        raise NotImplementedError

    # -- layout ---------------------------------------------------------------------------

    def _layout(self, width: int) -> tuple[int, int, int]:
        """(label width, bar width, duration width)."""
        label = max(24, min(80, int(width * 0.42)))
        dur = 9
        bar = max(10, width - 1 - label - 1 - 2 - dur)
        return label, bar, dur

    def content_width(self, width: int) -> int:
        label, bar, dur = self._layout(width)
        return 1 + label + 1 + bar + 2 + dur

    # -- rendering ------------------------------------------------------------------------

    def _styles_changed(self) -> None:
        self._styles = None

    def _style(self, name: str) -> Style:
        if self._styles is None:
            get = self.get_component_rich_style
            styles = {
                "header": get("waterfall--header"),
                "cursor": get("waterfall--cursor"),
                "blurred": get("waterfall--cursor-blurred"),
                "error": foreground(get("waterfall--error")),
                "dim": foreground(get("waterfall--dim")),
                "operation": foreground(get("waterfall--operation")),
                "link": foreground(get("waterfall--link")),
            }
            for i in range(PALETTE_SIZE):
                styles[f"svc-{i}"] = foreground(get(f"waterfall--svc-{i}"))
            self._styles = styles
        return self._styles[name]

    def dim_style(self) -> Style:
        return self._style("dim")

    def row_mark(self, index: int, row: int, base: Style) -> Segment:
        """The row's first cell, before its label (a mark, or a blank)."""
        return Segment(" ", base)

    def bar_cells(self, row: int, bar_w: int) -> tuple[int, int]:
        """The cells [a, b) of a span's bar on an axis `bar_w` cells wide."""
        start = self.index.start[row] - self.t0
        end = self.index.end[row] - self.t0
        a = max(0, min(bar_w - 1, int(start * bar_w / self.total)))
        b = max(a + 1, min(bar_w, ceil(end * bar_w / self.total)))
        return a, b

    def bar_segments(self, index: int, row: int, bar_w: int, base: Style,
                     colour: Style) -> list[Segment]:
        """The span's bar on the time axis, `bar_w` cells."""
        a, b = self.bar_cells(row, bar_w)
        segs = []
        if a:
            segs.append(Segment(" " * a, base))
        segs.append(Segment(("=" if self.ascii else "█") * (b - a), colour))
        if b < bar_w:
            segs.append(Segment(" " * (bar_w - b), base))
        return segs

    def render_header(self, width: int) -> list[Segment]:
        header = self._style("header")
        label, bar, dur = self._layout(width)
        axis = [" "] * bar
        last_end = -1
        tick = "|" if self.ascii else "┊"
        for pos, text in axis_ticks(self.total, bar, "us" if self.ascii else "µs"):
            if pos:
                text = tick + text
                if pos + len(text) > bar:  # the last tick: its text ends at the axis' end
                    pos = bar - len(text)
            if pos <= last_end or pos < 0:
                continue
            axis[pos:pos + len(text)] = list(text)
            last_end = pos + len(text)
        line = " " + fit("service · operation", label) + " " + "".join(axis)[:bar] + "  " + fit("duration", dur, True)
        return [Segment(fit(line, width), header)]

    def render_row(self, index: int, width: int, selected: bool) -> list[Segment]:
        idx = self.index
        row, depth = self.span_at(index)
        label_w, bar_w, dur_w = self._layout(width)
        base = self.base_style
        if selected:
            base = base + self._style("cursor" if self.has_focus else "blurred")
        service = idx.service(row)
        colour = base + self._style(f"svc-{service_colour(service)}")
        error = idx.is_error(row)
        op_style = base + self._style("operation") + (self._style("error") if error else Style())

        # label: indentation, error mark, service, operation
        if depth > MAX_INDENT:
            prefix = "  " * MAX_INDENT + f"{depth}› "
        else:
            prefix = "  " * depth
        parts: list[tuple[str, Style]] = [(prefix, base)]
        if error:
            parts.append(("! " if self.ascii else "✗ ", base + self._style("error")))
        parts.append((safe_text(service), colour))
        parts.append((" ", base))
        parts.append((safe_text(idx.name[row]), op_style))
        segs = [self.row_mark(index, row, base)]
        used = 0
        for text, style in parts:
            room = label_w - used
            if room <= 0:
                break
            n = cell_len(text)
            if n > room:
                text = fit(text, room)
                n = room
            segs.append(Segment(text, style))
            used += n
        if used < label_w:
            segs.append(Segment(" " * (label_w - used), base))
        segs.append(Segment(" ", base))

        segs.extend(self.bar_segments(index, row, bar_w, base, colour))
        segs.append(Segment("  ", base))
        segs.append(Segment(fit(duration(idx.end[row] - idx.start[row]), dur_w, True), base))
        return segs


class Waterfall(SpanTimeline):
    """The spans of one trace; enter asks for the dependencies view of the selected span."""

    BINDINGS = [
        Binding("enter", "choose", "Dependencies of span"),
    ]

    class SpanChosen(Message):
        """Enter on a span: refocus the dependencies view on it."""

        def __init__(self, waterfall: Waterfall, row: int) -> None:
            super().__init__()
            self.waterfall = waterfall
            self.row = row

        @property
        def control(self) -> Waterfall:
            return self.waterfall

    class SpanHighlighted(Message):
        def __init__(self, waterfall: Waterfall, row: int) -> None:
            super().__init__()
            self.waterfall = waterfall
            self.row = row

        @property
        def control(self) -> Waterfall:
            return self.waterfall

    def __init__(self, index: SpanIndex, trace: int, focus_row: int | None = None, *,
                 ascii: bool = False, name: str | None = None, id: str | None = None,
                 classes: str | None = None) -> None:
        summary = index.traces[trace]
        super().__init__(index, summary.start, summary.end - summary.start, ascii=ascii,
                         name=name, id=id, classes=classes)
        self.trace = trace
        self.spans, self.depths = tree_order(index, trace)
        if focus_row is not None:
            try:
                self.set_reactive(LineList.cursor, self.spans.index(focus_row))
            except ValueError:
                pass

    @property
    def row_count(self) -> int:
        return len(self.spans)

    @property
    def selected_span(self) -> int | None:
        return self.spans[self.cursor] if self.spans else None

    def span_at(self, index: int) -> tuple[int, int]:
        return self.spans[index], self.depths[index]

    def link_mark(self, row: int) -> str:
        """`⇠` the span links to others (its work continued theirs), `⇢` others link to it
        (theirs continued its), `⇄` both; a blank without links."""
        idx = self.index
        return LINK_MARKS[self.ascii][bool(idx.links_of(row)) + 2 * bool(idx.linked_from(row))]

    def row_mark(self, index: int, row: int, base: Style) -> Segment:
        return Segment(self.link_mark(row), base + self._style("link"))

    def empty_message(self) -> str:
        return "this trace has no spans"

    def on_mount(self) -> None:
        self.refresh_rows()
        self.call_after_refresh(self._scroll_cursor_into_view, True)

    def cursor_moved(self, index: int) -> None:
        self.post_message(self.SpanHighlighted(self, self.spans[index]))

    def action_choose(self) -> None:
        if self.spans:
            self.post_message(self.SpanChosen(self, self.spans[self.cursor]))
