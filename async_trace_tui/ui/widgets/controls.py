"""The control bar under the dependencies tree: Group by, Aggregate, Show internal spans, legend."""

from __future__ import annotations

from rich.console import RenderableType
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import Checkbox, Label, Select, Static
from textual.widgets._select import SelectCurrent  # (Textual 8: not exported)
from textual.widgets.select import NoSelection

from ...views.format import safe_text
from ...views.glyphs import Glyphs
from ...views.grouping import AGGREGATIONS, BASIC_GROUPS


def legend_line(g: Glyphs) -> Text:
    """The one-line legend: line styles, then shapes and marks."""
    t = Text(no_wrap=True, overflow="ellipsis")
    items = [(g.edge["async-down"], "async"), (g.edge["sync"], "sync"),
             (f"{g.async_open} {g.async_close}", "async trace"),
             (f"{g.edge['async-down'][-1]}{g.edge['async-up'][0]}", "direction"),
             (g.shape["http"], "HTTP"), (g.shape["pubsub"], "pub/sub"),
             (g.shape["database"], "database"), (g.shape["generic"], "generic"),
             (g.missing, "not loaded"), (g.error, "error"), (g.cycle, "cycle"),
             (g.more, "more")]
    for i, (glyph, what) in enumerate(items):
        if i:
            t.append("  ")
        t.append(glyph, "bold")
        t.append(f" {what}")
    t.append("   L: full legend", "dim")
    return t


def legend_full(g: Glyphs) -> Text:
    t = Text()
    width = max(len(glyph) for glyph, _ in g.legend)
    for i, (glyph, what) in enumerate(g.legend):
        if i:
            t.append("\n")
        t.append(glyph.ljust(width), "bold")
        t.append(f"  {what}")
    return t


class _QuietCurrent(SelectCurrent):
    """The value shown in a Select, changed without a layout pass: the box has a fixed width,
    and a layout pass repaints the whole screen (~10 ms with the dependencies view up) on
    every `g` and `a`."""

    def update(self, label: RenderableType | NoSelection) -> None:
        # SelectCurrent.update (Textual 8) but for `layout=False`.
        self.label = label
        self.has_value = label is not Select.NULL
        shown = self.placeholder if isinstance(label, NoSelection) else label
        self.query_one("#label", Static).update(shown, layout=False)


class _Select(Select[str]):
    """A Select whose shown value changes without a layout pass (see _QuietCurrent)."""

    def compose(self) -> ComposeResult:
        for widget in super().compose():
            yield _QuietCurrent(self.prompt) if type(widget) is SelectCurrent else widget


def _group_prompt(value: str) -> Text:
    return Text(safe_text(value), no_wrap=True, overflow="ellipsis")


class ControlBar(Vertical):
    """Posts `ControlBar.Changed` when the user changes a control; `sync()` sets them quietly."""

    class Changed(Message):
        def __init__(self, setting: str, value: str | bool) -> None:
            self.setting = setting  # "group_by" | "agg" | "show_internal"
            self.value = value
            super().__init__()

    def __init__(self, glyphs: Glyphs, group_by: str, agg: str, show_internal: bool,
                 *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.glyphs = glyphs
        self._choices = list(BASIC_GROUPS)
        if group_by not in self._choices:
            self._choices.append(group_by)
        self._group = _Select([(_group_prompt(c), c) for c in self._choices], value=group_by,
                             allow_blank=False, compact=True, id="dep-group-by",
                             tooltip="Group sibling spans by (g cycles)")
        self._agg = _Select([(Text(a), a) for a in AGGREGATIONS], value=agg, allow_blank=False,
                           compact=True, id="dep-agg",
                           tooltip="Duration of merged spans (a cycles)")
        self._internal = Checkbox(Text("Show internal spans (i)"), show_internal,
                                  compact=True, id="dep-internal")
        self._status = Static("", id="dep-status")

    @property
    def group_choices(self) -> list[str]:
        return list(self._choices)

    def compose(self) -> ComposeResult:
        with Horizontal(id="dep-controls-row"):
            yield Label(Text("Group by"), classes="dep-control-label")
            yield self._group
            yield Label(Text("Aggregate"), classes="dep-control-label")
            yield self._agg
            yield self._internal
            yield self._status
        yield Static(legend_line(self.glyphs), id="dep-legend")
        yield Static(legend_full(self.glyphs), id="dep-legend-full")

    def set_group_choices(self, choices: list[str], current: str) -> None:
        if current not in choices:
            choices = [*choices, current]
        if choices == self._choices:
            return
        self._choices = list(choices)
        with self.prevent(Select.Changed):
            self._group.set_options([(_group_prompt(c), c) for c in choices])
            self._group.value = current

    def sync(self, group_by: str, agg: str, show_internal: bool) -> None:
        """Show these settings without posting Changed."""
        if group_by not in self._choices:
            self.set_group_choices(self._choices, group_by)
        with self.prevent(Select.Changed, Checkbox.Changed):
            if self._group.value != group_by:
                self._group.value = group_by
            if self._agg.value != agg:
                self._agg.value = agg
            if self._internal.value != show_internal:
                self._internal.value = show_internal

    def set_updating(self, updating: bool) -> None:
        """Say that the tree above is being rebuilt (it shows the old settings meanwhile)."""
        # A fixed-size box: no layout pass (a full-screen repaint) for a word.
        self._status.update(Text(f"updating{self.glyphs.ellipsis}") if updating else "", layout=False)

    def toggle_full_legend(self) -> bool:
        self.toggle_class("-full-legend")
        return self.has_class("-full-legend")

    def on_select_changed(self, event: Select.Changed) -> None:
        event.stop()
        if event.value is Select.NULL:
            return
        setting = "group_by" if event.select is self._group else "agg"
        self.post_message(self.Changed(setting, str(event.value)))

    def on_checkbox_changed(self, event: Checkbox.Changed) -> None:
        event.stop()
        self.post_message(self.Changed("show_internal", event.value))
