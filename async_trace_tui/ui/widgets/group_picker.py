"""The Group by picker (`g`): type to narrow the keys, enter chooses, escape leaves it as it was.

Stepping through 55 keys one `g` at a time took 53 presses to get from `none` back to
`operation`; here the common keys come first and a few letters find any other.

`PickerPanel` is the picker itself: it posts `PickerPanel.Chosen` with the key, or None.
The dependencies pane shows it over its tree (a box drawn on top: opening and closing it
repaint the box, not the screen). `GroupPicker` is the same panel on a screen of its own
(the Services tab), dismissed with the chosen key, or None.
"""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

from ...views.format import safe_text
from ...views.group_keys import narrow
from .filter_input import FilterInput

TITLE = "Group by"
PLACEHOLDER = "operation, service, none, attr:KEY, resource:KEY"


class PickerPanel(Vertical):
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
    PickerPanel {
        width: 64;
        max-width: 90%;
        height: auto;
        max-height: 80%;
        border: round $primary;
        background: $surface;
    }
    PickerPanel > .picker-title {
        height: 1;
        padding: 0 1;
        background: $primary;
        color: $text;
    }
    PickerPanel #picker-input {
        border: none;
        height: 1;
        padding: 0 1;
        background: $boost;
    }
    PickerPanel #picker-list {
        height: auto;
        max-height: 20;
        border: none;
        background: $surface;
    }
    """

    class Chosen(Message):
        """The user chose `choice` (None: escape, nothing changes)."""

        def __init__(self, panel: PickerPanel, choice: str | None) -> None:
            self.panel = panel
            self.choice = choice
            super().__init__()

        @property
        def control(self) -> PickerPanel:
            return self.panel

    def __init__(self, choices: list[str] | None = None, current: str = "", *,
                 title: str = TITLE, placeholder: str = PLACEHOLDER,
                 id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.choices = list(choices or [])
        self.current = current
        self.shown: list[str] = []
        self._listed: str | None = None  # the query the options listed answer
        self._title = Static(self._title_text(title), classes="picker-title")
        self.input: Input = FilterInput(placeholder=placeholder, id="picker-input")
        self.option_list = OptionList(id="picker-list")

    @staticmethod
    def _title_text(title: str) -> Text:
        return Text(f"{title}  (type to narrow · enter chooses · esc cancels)")

    def compose(self) -> ComposeResult:
        yield self._title
        yield self.input
        yield self.option_list

    def open(self, choices: list[str], current: str) -> None:
        """Offer `choices` afresh (nothing typed), `current` highlighted; the keys go to
        the typing line."""
        self.choices = list(choices)
        self.current = current
        with self.input.prevent(Input.Changed):
            self.input.value = ""
        self._show("")
        if current in self.shown:
            self.option_list.highlighted = self.shown.index(current)
        self.input.focus()

    def on_input_changed(self, event: Input.Changed) -> None:
        event.stop()
        self._show(event.value)

    def _show(self, query: str) -> None:
        """The choices matching `query`, the first one highlighted."""
        shown = narrow(self.choices, query)
        ol = self.option_list
        if shown == self.shown and self._listed == query:
            # Opened again on the same keys: the options (and their rendering) stay.
            ol.highlighted = 0 if shown else None
            return
        self.shown, self._listed = shown, query
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
        self.post_message(self.Chosen(self, choice))

    def action_cancel(self) -> None:
        self.post_message(self.Chosen(self, None))

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        """A click (or enter in the list) on a key chooses it."""
        event.stop()
        if 0 <= event.option_index < len(self.shown):
            self.post_message(self.Chosen(self, self.shown[event.option_index]))


class GroupPicker(ModalScreen[str | None]):
    """The picker on a screen of its own, dismissed with the chosen key (or None)."""

    DEFAULT_CSS = """
    GroupPicker {
        align: center middle;
    }
    """

    def __init__(self, choices: list[str], current: str, *, title: str = TITLE,
                 placeholder: str = PLACEHOLDER) -> None:
        super().__init__()
        self.panel = PickerPanel(choices, current, title=title, placeholder=placeholder,
                                 id="picker-box")

    def compose(self) -> ComposeResult:
        yield self.panel

    def on_mount(self) -> None:
        self.panel.open(self.panel.choices, self.panel.current)

    @property
    def choices(self) -> list[str]:
        return self.panel.choices

    @property
    def shown(self) -> list[str]:
        return self.panel.shown

    @property
    def highlighted(self) -> str | None:
        return self.panel.highlighted

    @property
    def input(self) -> Input:
        return self.panel.input

    @property
    def option_list(self) -> OptionList:
        return self.panel.option_list

    def on_picker_panel_chosen(self, event: PickerPanel.Chosen) -> None:
        event.stop()
        self.dismiss(event.choice)
