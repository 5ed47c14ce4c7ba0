"""Line-API widgets: rows as segments, resizing the scrollable content and acting after a
repaint, cheaply."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rich.console import Console
from rich.segment import Segment
from rich.text import Text
from textual.geometry import Size
from textual.scroll_view import ScrollView
from textual.widget import Widget


def text_segments(text: Text, console: Console) -> list[Segment]:
    """`text` as segments (no wrapping), its own style under its spans'.

    A text made by appending styled pieces (a tree label, a details field) has spans that
    follow each other without overlapping: each piece is one segment. Text.render works out
    the styles in effect at every span boundary instead, ~5x slower (and leaves the text's
    own style out when it has no spans); it serves texts whose spans overlap."""
    plain = text.plain
    get = console.get_style
    base = get(text.style) if text.style else None
    out: list[Segment] = []
    at = 0
    for start, end, style in text.spans:
        if start < at:
            return list(text.render(console))
        if start > at:
            out.append(Segment(plain[at:start], base))
        style = get(style) if isinstance(style, str) else style
        out.append(Segment(plain[start:end], base + style if base else style))
        at = end
    if at < len(plain):
        out.append(Segment(plain[at:], base))
    return out


def set_virtual_size(widget: Widget, size: Size) -> None:
    """Give `widget` a new virtual (scrollable) size and repaint it.

    Assigning `widget.virtual_size` asks for a layout pass: the whole screen is reflowed and
    repainted (~30 ms with the dependencies view up) on every expand, collapse or cursor move
    that changes a row count. Only the widget's scrollbars depend on it, so it is set the way
    Textual's own scroll reflow sets it (`Widget._size_updated(layout=False)`): a scrollbar
    that must appear or go still lays the screen out (`show_*_scrollbar` do)."""
    if size == widget.virtual_size:
        return
    widget.set_reactive(Widget.virtual_size, size)
    widget._scroll_update(size)
    widget.refresh()


def after_paint(widget: Widget, callback: Callable[..., Any], *args: Any) -> None:
    """Run `callback(*args)` once the screen shows the repaints asked for so far (to start a
    thread that would compete with that frame for the GIL).

    One `call_after_refresh` is not enough: its callback reaches the screen before the
    widget's repaint request, which the widget posts only when it goes idle."""
    widget.call_after_refresh(widget.call_after_refresh, callback, *args)


class SteadyScrollView(ScrollView):
    """A ScrollView whose scrollbars are left alone by layout passes that change nothing
    for it.

    On every layout pass of the screen (a widget shown or hidden, a character typed in an
    Input), Textual's ScrollView updates its scrollbars (and posts itself a Resize) even
    when its size, its container and its virtual size are what they were: each scrollbar
    is rendered afresh, ~1.5-3 ms for a full-height one, for every such widget on screen.
    Here that update runs only when one of them changed."""

    _scrolled_for: Size | None = None  # the virtual size the scrollbars were last set for

    def _scroll_update(self, virtual_size: Size) -> None:
        self._scrolled_for = virtual_size
        super()._scroll_update(virtual_size)

    def _size_updated(self, size: Size, virtual_size: Size, container_size: Size,
                      layout: bool = True) -> bool:
        if (size == self._size and size - self.styles.gutter.totals == self._container_size
                and self.virtual_size == self._scrolled_for):
            return False
        return super()._size_updated(size, virtual_size, container_size, layout)
