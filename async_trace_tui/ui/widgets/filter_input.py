"""The Traces tab's filter box: an Input whose typing repaints only itself."""

from __future__ import annotations

from textual.geometry import Size
from textual.widgets import Input

from .paint import set_virtual_size


class FilterInput(Input):
    """Textual's Input assigns its virtual size on every change of its value, and that
    assignment lays out the whole screen (on every key typed, and on escape). The box's
    width never depends on its text (it is `1fr`), so only its own scrolling needs the new
    size: it is set here first, without a layout pass, and the Input's own assignment of
    the same size then changes nothing."""

    def _watch_value(self, value: str) -> None:
        set_virtual_size(self, Size(self.content_width, 1))
        super()._watch_value(value)
