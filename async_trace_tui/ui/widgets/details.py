"""The details panel: the selected node's span(s) and trace, rendered from views.details.

A Line-API widget too: the fields are laid out into lines once per node (and per width), and
only the lines on screen are turned into strips. Re-laying out a Static full of Rich tables on
every cursor move cost ~100 ms a key press.
"""

from __future__ import annotations

from typing import ClassVar

from rich.cells import cell_len, get_character_cell_size
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual import events
from textual.binding import Binding, BindingType
from textual.geometry import Region, Size
from textual.strip import Strip

from ...index import SpanIndex
from ...views.dependencies import DepNode
from ...views.details import DIM, ERROR, HEADING, OK, Details, DetailsBuilder
from ...views.format import safe_text
from ...views.glyphs import ASCII, UNICODE, Glyphs
from .line_list import foreground
from .paint import SteadyScrollView, set_virtual_size, text_segments

LABEL_MAX = 30  # cells for the label column; longer labels get a line of their own
VALUE_MIN = 16  # cells a value keeps beside its label
LABEL_MIN = 6  # cells of a label column worth having; narrower, values go under labels


def value_lines(value: str) -> list[str]:
    """Span data as display lines, each escaped on its own: a stack trace keeps its lines,
    no control character reaches the terminal."""
    value = value.expandtabs(4)
    if "\n" not in value and "\r" not in value:
        return [safe_text(value)]
    return [safe_text(line) for line in value.replace("\r\n", "\n").split("\n")]


def _fold(line: str, width: int) -> list[str]:
    """`line` in lines of at most `width` cells: at spaces where it can, anywhere otherwise.
    Linear: each character is measured once (the text is escaped: no control characters)."""
    if width <= 0:
        return [line]
    if line.isascii():
        if len(line) <= width:
            return [line]
        cells = None
    else:
        cells = [get_character_cell_size(c) for c in line]
        if sum(cells) <= width:
            return [line]
    out: list[str] = []
    start, n = 0, len(line)
    while start < n:
        # the longest piece from `start` that fits
        if cells is None:
            end = min(n, start + width)
        else:
            end, used = start, 0
            while end < n and used + cells[end] <= width:
                used += cells[end]
                end += 1
            end = max(end, start + 1)  # a character wider than the panel still moves on
        if end < n:
            cut = line.rfind(" ", start, end)
            if cut - start > width // 3:
                end = cut + 1
        out.append(line[start:end].rstrip())
        start = end
        while start < n and line[start] == " " and end - 1 >= 0 and line[end - 1] != " ":
            start += 1  # a line broken inside a word: the next does not begin with its space
    return out


class DetailsPanel(SteadyScrollView, can_focus=True):
    """Right-hand panel; `show(node)` replaces its content. Long values are shown cut
    (views.details.VALUE_CHARS); `v` pages them whole in a modal."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("v", "view_whole_values", "Whole values"),
    ]

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "details--title", "details--section", "details--label", "details--error",
        "details--ok", "details--dim", "details--heading",
    }

    DEFAULT_CSS = """
    DetailsPanel {
        background: $surface;
        padding: 0 1;
        overflow-x: hidden;
        /* Always there: a scrollbar coming and going as the cursor moves between short and
           long details would lay out and repaint the whole screen each time. */
        overflow-y: scroll;
        & > .details--title { text-style: bold; color: $text-primary; }
        & > .details--section { text-style: bold; color: $text-accent; }
        & > .details--label { color: $foreground-muted; }
        & > .details--error { color: $text-error; text-style: bold; }
        & > .details--ok { color: $text-success; }
        & > .details--dim { color: $foreground-muted; }
        & > .details--heading { text-style: bold; }
    }
    """

    def __init__(self, index: SpanIndex, glyphs: Glyphs = UNICODE, *, id: str | None = None,
                 classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.glyphs = glyphs
        self.builder = DetailsBuilder(index, glyphs)
        self.node: DepNode | None = None
        self.details: Details | None = None
        self._lines: list[Text] = []
        self._laid_out_for = -1  # the width the lines were laid out for
        self._base_style = Style()
        self._paint_at = (0, 0, 0)  # scroll x, scroll y, width: for the lines of one paint
        self._restyle = False

    # -- public API ------------------------------------------------------------------------

    def show(self, node: DepNode | None) -> None:
        self.node = node
        details = None if node is None else self.builder.build(node)
        if details is not None and details == self.details:
            # The same text (`a` on a single span, `i` or `g` keeping the node): no repaint,
            # and the reader keeps their place.
            return
        self.details = details
        self._layout()
        self.scroll_to(0, 0, animate=False, immediate=True)

    @property
    def cut_fields(self) -> list[tuple[str, str]]:
        """(label, whole value) of every value shown cut."""
        d = self.details
        return [] if d is None else [(f.label, f.full) for s in d.sections for f in s.fields
                                     if f.full is not None]

    def action_view_whole_values(self) -> None:
        from ..value_screen import ValueScreen

        fields = self.cut_fields
        if not fields:
            self.notify("No value is cut here: every one is shown whole.", timeout=3)
            return
        self.app.push_screen(ValueScreen(fields))

    @property
    def text(self) -> str:
        """Everything shown, as plain text (what a user could read and copy)."""
        return "\n".join(t.plain for t in self._lines)

    # -- layout ----------------------------------------------------------------------------

    def _tone(self, tone: str) -> Style:
        name = {ERROR: "details--error", OK: "details--ok", DIM: "details--dim",
                HEADING: "details--heading"}.get(tone)
        return foreground(self.get_component_rich_style(name)) if name else Style()

    def _layout(self, refresh: bool = True) -> None:
        width = self.scrollable_content_region.width or 60
        self._laid_out_for = width
        d = self.details
        if d is None:
            self._lines = [Text("Select a node to see its details.", style=self._tone(DIM))]
            self._set_lines(refresh)
            return
        def get(name: str) -> Style:
            return foreground(self.get_component_rich_style(name))

        label_style = get("details--label")
        section_style = get("details--section")
        lines: list[Text] = []
        title_style = get("details--title") + self._tone(d.tone)
        for chunk in _fold(safe_text(d.title), width):
            lines.append(Text(chunk, style=title_style))
        for section in d.sections:
            lines.append(Text(""))
            rule = "-" if self.glyphs is ASCII else "─"
            head = f"{rule * 2} {safe_text(section.title)} "
            for chunk in _fold(head + rule * max(0, width - cell_len(head)), width):
                lines.append(Text(chunk, style=section_style))
            labels = ["  " * f.indent + safe_text(f.label) for f in section.fields]
            # The label column leaves a value VALUE_MIN cells; longer labels get a line of
            # their own, and a panel too narrow for two columns puts each value under its
            # label, indented.
            col = min(LABEL_MAX, max((cell_len(x) for x in labels), default=0),
                      width - 1 - VALUE_MIN)
            stacked = width - 1 - VALUE_MIN < LABEL_MIN
            if stacked:
                col = 1
            value_width = max(1, width - col - 1)
            for f, label in zip(section.fields, labels, strict=True):
                tone = self._tone(f.tone)
                values = [part for line in value_lines(f.value) for part in _fold(line, value_width)]
                if stacked or cell_len(label) > col:
                    for chunk in _fold(label, width):
                        lines.append(Text(chunk, style=label_style))
                    label = ""
                first = True
                for v in values:
                    t = Text(no_wrap=True, end="")
                    t.append((label if first else "").ljust(col), label_style)
                    t.append(" ")
                    t.append(v, tone)
                    lines.append(t)
                    first = False
        self._lines = lines
        self._set_lines(refresh)

    def _set_lines(self, refresh: bool = True) -> None:
        set_virtual_size(self, Size(self.size.width, len(self._lines)))
        if refresh:
            self.refresh()

    def on_resize(self, event: events.Resize) -> None:
        if self.scrollable_content_region.width != self._laid_out_for:
            self._layout()

    def notify_style_update(self) -> None:
        # The component styles may not be updated yet: lay out again at the next paint.
        super().notify_style_update()
        self._restyle = True
        self.refresh()

    def render_lines(self, crop: Region) -> list[Strip]:
        # The widget's base style walks the DOM, and its size and offset are worked out
        # afresh on each read: once per paint, not once per line.
        self._base_style = self.rich_style
        if self._restyle:
            self._restyle = False
            self._layout(refresh=False)
        self._paint_at = (*self.scroll_offset, self.size.width)
        return super().render_lines(crop)

    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y, width = self._paint_at
        base = self._base_style
        index = y + scroll_y
        if not 0 <= index < len(self._lines):
            return Strip.blank(width, base)
        line = self._lines[index]
        segments = Segment.apply_style(text_segments(line, self.app.console), base)
        return Strip(segments, line.cell_len).crop_extend(scroll_x, scroll_x + width, base)
