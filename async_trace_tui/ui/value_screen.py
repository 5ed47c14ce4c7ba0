"""The whole of values the details panel shows cut (`v` there): paged in a modal, copied with `c`.

Values may be megabytes: the text is split into lines once (escaped per line, folded to the
width in one linear pass) and only the lines on screen become strips.
"""

from __future__ import annotations

from typing import ClassVar

from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.geometry import Size
from textual.screen import ModalScreen
from textual.scroll_view import ScrollView
from textual.strip import Strip
from textual.widgets import Static

from ..textsafe import safe_text
from .widgets.details import _fold
from .widgets.paint import set_virtual_size


class WholeValues(ScrollView, can_focus=True):
    """(label, value) pairs, each value whole: a heading line, then the value's lines."""

    DEFAULT_CSS = """
    WholeValues { height: 1fr; overflow-x: hidden; overflow-y: scroll; }
    """

    def __init__(self, fields: list[tuple[str, str]]) -> None:
        super().__init__()
        self.fields = fields
        self._lines: list[tuple[str, bool]] = []  # (text, is a heading)
        self._width = -1

    def _layout(self) -> None:
        width = max(10, self.scrollable_content_region.width or 80)
        self._width = width
        lines: list[tuple[str, bool]] = []
        for label, value in self.fields:
            lines.append((f"── {safe_text(label)}  ({len(value):,} characters)", True))
            for raw in value.replace("\r\n", "\n").split("\n"):
                lines.extend((part, False) for part in _fold(safe_text(raw.expandtabs(4)), width))
            lines.append(("", False))
        self._lines = lines
        set_virtual_size(self, Size(width, len(lines)))
        self.refresh()

    def on_resize(self, event: events.Resize) -> None:
        if self.scrollable_content_region.width != self._width:
            self._layout()

    @property
    def text(self) -> str:
        return "\n".join(t for t, _ in self._lines)

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        index = y + self.scroll_offset.y
        base = self.rich_style
        if not 0 <= index < len(self._lines):
            return Strip.blank(width, base)
        text, heading = self._lines[index]
        style = base + Style(bold=True) if heading else base
        return Strip([Segment(text, style)]).crop_extend(0, width, base)


class ValueScreen(ModalScreen[None]):
    """Values the details panel cut, whole."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q,v", "dismiss", "Close", show=True),
        Binding("c", "copy", "Copy to the clipboard", show=True),
    ]

    DEFAULT_CSS = """
    ValueScreen #value-box { height: 90%; }
    """

    def __init__(self, fields: list[tuple[str, str]]) -> None:
        super().__init__()
        self.fields = fields

    def compose(self) -> ComposeResult:
        with Vertical(id="value-box", classes="modal-box"):
            n = len(self.fields)
            yield Static(f"Whole value{'s' if n != 1 else ''}  (c copies, escape closes)",
                         classes="modal-title", markup=False)
            yield WholeValues(self.fields)

    def on_mount(self) -> None:
        self.query_one(WholeValues).focus()

    def action_copy(self) -> None:
        # OSC 52: the terminal puts it on the clipboard (base64 on the wire, nothing raw).
        self.app.copy_to_clipboard("\n\n".join(value for _, value in self.fields))
        self.notify("copied to the clipboard", timeout=2)

    def action_dismiss(self, result: None = None) -> None:  # type: ignore[override]
        self.dismiss(None)
