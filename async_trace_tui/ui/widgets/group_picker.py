"""The Group by picker (`g`): type to narrow the keys, enter chooses, escape leaves it as it was.

Stepping through 55 keys one `g` at a time took 53 presses to get from `none` back to
`operation`; here the common keys come first and a few letters find any other. The screen
dismisses with the chosen key, or None.
"""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

from ...views.format import safe_text
from ...views.group_keys import narrow


class GroupPicker(ModalScreen[str | None]):
    """`choices` in the order to offer them (common first); `current` is highlighted."""

    BINDINGS = [
        Binding("escape", "cancel", "Cancel"),
        Binding("enter", "choose", "Choose", priority=True),
        Binding("down", "move(1)", "Next key", show=False, priority=True),
        Binding("up", "move(-1)", "Previous key", show=False, priority=True),
        Binding("pagedown", "move(10)", "Page down", show=False, priority=True),
        Binding("pageup", "move(-10)", "Page up", show=False, priority=True),
    ]

    DEFAULT_CSS = """
    GroupPicker {
        align: center middle;
    }
    GroupPicker > #picker-box {
        width: 64;
        max-width: 90%;
        height: auto;
        max-height: 80%;
        border: round $primary;
        background: $surface;
    }
    GroupPicker #picker-title {
        height: 1;
        padding: 0 1;
        background: $primary;
        color: $text;
    }
    GroupPicker #picker-input {
        border: none;
        height: 1;
        padding: 0 1;
        background: $boost;
    }
    GroupPicker #picker-list {
        height: auto;
        max-height: 20;
        border: none;
        background: $surface;
    }
    """

    def __init__(self, choices: list[str], current: str, *, title: str = "Group by",
                 placeholder: str = "operation, service, none, attr:KEY, resource:KEY") -> None:
        super().__init__()
        self.choices = list(choices)
        self.current = current
        self.title_text = title
        self.placeholder = placeholder
        self.shown: list[str] = []

    def compose(self) -> ComposeResult:
        with Vertical(id="picker-box"):
            yield Static(Text(f"{self.title_text}  (type to narrow · enter chooses · esc cancels)"),
                         id="picker-title")
            yield Input(placeholder=self.placeholder, id="picker-input")
            yield OptionList(id="picker-list")

    @property
    def input(self) -> Input:
        return self.query_one("#picker-input", Input)

    @property
    def option_list(self) -> OptionList:
        return self.query_one("#picker-list", OptionList)

    def on_mount(self) -> None:
        self._show("")
        if self.current in self.shown:
            self.option_list.highlighted = self.shown.index(self.current)
        self.input.focus()

    def on_input_changed(self, event: Input.Changed) -> None:
        event.stop()
        self._show(event.value)

    def _show(self, query: str) -> None:
        """The choices matching `query`, the first one highlighted."""
        self.shown = narrow(self.choices, query)
        ol = self.option_list
        ol.set_options([Option(Text(safe_text(c), no_wrap=True, overflow="ellipsis"))
                        for c in self.shown] or
                       [Option(Text(f"no key matches {query!r}", style="italic"),
                               disabled=True)])
        ol.highlighted = 0 if self.shown else None

    @property
    def highlighted(self) -> str | None:
        at = self.option_list.highlighted
        return self.shown[at] if at is not None and 0 <= at < len(self.shown) else None

    def action_move(self, step: int) -> None:
        if not self.shown:
            return
        at = self.option_list.highlighted or 0
        self.option_list.highlighted = max(0, min(len(self.shown) - 1, at + step))

    def action_choose(self) -> None:
        choice = self.highlighted
        if choice is None:
            self.app.bell()
            return
        self.dismiss(choice)

    def action_cancel(self) -> None:
        self.dismiss(None)

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        """A click (or enter in the list) on a key chooses it."""
        event.stop()
        if 0 <= event.option_index < len(self.shown):
            self.dismiss(self.shown[event.option_index])
