"""The footer: the live key bindings, drawn as one line of text.

Textual's `Footer` recomposes a widget per key whenever the focus moves, and every one
restyles: tens of milliseconds on each tab switch or focus change. This draws the same
information (the screen's active bindings with `show=True`, the command palette key at the
right) in a single widget that only repaints; a click on a key presses it.
"""

from __future__ import annotations

from rich.cells import cell_len
from rich.style import Style
from rich.text import Text
from textual import events
from textual.binding import Binding
from textual.screen import Screen
from textual.widget import Widget

from .line_list import foreground


class KeyBar(Widget, can_focus=False):
    COMPONENT_CLASSES = {"keybar--key", "keybar--description", "keybar--disabled"}

    DEFAULT_CSS = """
    KeyBar {
        dock: bottom;
        height: 1;
        background: $footer-background;
        color: $footer-foreground;
    }
    KeyBar > .keybar--key {
        color: $footer-key-foreground;
        text-style: bold;
    }
    KeyBar > .keybar--description {
        color: $footer-description-foreground;
    }
    KeyBar > .keybar--disabled {
        color: $text-disabled;
    }
    """

    def __init__(self, *, ascii: bool = False, id: str | None = None) -> None:
        super().__init__(id=id)
        self.ascii = ascii  # keys by name ("enter", "ctrl+p"), not by symbol
        self._items: list[tuple[str, str, str, bool]] = []  # key, display, description, enabled
        self._spans: list[tuple[int, int, str]] = []  # x from, x to, key

    def on_mount(self) -> None:
        self.screen.bindings_updated_signal.subscribe(self, self._bindings_changed)

    def _bindings_changed(self, screen: Screen) -> None:
        if self.is_attached and screen is self.screen:
            before = self._items
            self._collect(screen)
            if self._items != before:  # (a focus change often leaves the same keys shown)
                self.refresh()

    def _collect(self, screen: Screen) -> None:
        app = self.app
        seen: set[str] = set()
        items: list[tuple[str, str, str, bool]] = []
        palette = None
        for _node, binding, enabled, _tooltip in screen.active_bindings.values():
            if binding.key == app.COMMAND_PALETTE_BINDING:
                palette = (binding.key, self._display(binding), "palette", enabled)
                continue
            if not binding.show or binding.action in seen:
                continue
            seen.add(binding.action)
            items.append((binding.key, self._display(binding), binding.description,
                          enabled))
        if palette is not None and app.ENABLE_COMMAND_PALETTE:
            items.append(palette)
        self._items = items

    def _display(self, binding: Binding) -> str:
        shown = self.app.get_key_display(binding)
        if self.ascii and not shown.isascii():
            return binding.key_display or binding.key.split(",")[0]
        return shown

    def render(self) -> Text:
        if not self._items and self.is_attached:
            self._collect(self.screen)
        get = self.get_component_rich_style
        key_style = foreground(get("keybar--key"))
        desc_style = foreground(get("keybar--description"))
        off_style = foreground(get("keybar--disabled"))
        text = Text(no_wrap=True, overflow="crop", end="")
        spans: list[tuple[int, int, str]] = []
        items = self._items
        right = items[-1:] if items and items[-1][2] == "palette" else []
        left = items[: len(items) - len(right)]
        x = 0
        for key, display, desc, enabled in left:
            chunk_start = x
            text.append(f" {display} ", key_style if enabled else off_style)
            text.append(f"{desc} ", desc_style if enabled else off_style + Style(dim=True))
            x += cell_len(display) + cell_len(desc) + 3
            spans.append((chunk_start, x, key))
        if right:
            key, display, desc, _enabled = right[0]
            tail = f" {display} {desc} "
            pad = self.size.width - x - cell_len(tail)
            if pad > 0:
                text.append(" " * pad)
                x += pad
                spans.append((x, x + cell_len(tail), key))
                text.append(f" {display} ", key_style)
                text.append(f"{desc} ", desc_style)
        self._spans = spans
        return text

    def on_click(self, event: events.Click) -> None:
        for start, end, key in self._spans:
            if start <= event.x < end:
                self.app.simulate_key(key)
                return
