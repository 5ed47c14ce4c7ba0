"""Resizing a Line-API widget's scrollable content without a layout pass."""

from __future__ import annotations

from textual.geometry import Size
from textual.widget import Widget


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
