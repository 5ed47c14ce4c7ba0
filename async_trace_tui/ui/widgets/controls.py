"""The control bar under the dependencies tree: Group by, Aggregate, Show internal spans, legend."""

from __future__ import annotations

from rich.console import RenderableType
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.message import Message
from textual.widgets import Checkbox, Label, Select, Static
from textual.widgets._select import SelectCurrent  # (Textual 8: not exported)
from textual.widgets.select import NoSelection

from ...views.format import cut_middle, safe_text
from ...views.glyphs import Glyphs
from ...views.grouping import AGGREGATIONS, BASIC_GROUPS
from ...views.labels import Parts, fit_parts, styled


def legend_line(g: Glyphs, width: int | None = None) -> Text:
    """The one-line legend: line styles, then shapes and marks; in `width` cells, the
    items that do not fit are left off whole (an ellipsis says so)."""
    items = [(g.edge["async-down"], "async"), (g.edge["sync"], "sync"),
             (f"{g.async_open} {g.async_close}", "async trace"),
             (f"{g.edge['async-down'][-1]}{g.edge['async-up'][0]}", "direction"),
             (g.trace, "trace"), (g.shape["http"], "HTTP"),
             (g.shape["pubsub"], "pub/sub"), (g.shape["database"], "database"),
             (g.shape["generic"], "generic"), (g.missing, "not loaded"), (g.error, "error"),
             (g.cycle, "cycle"), (g.more, "more"), ("overlap", "= negative lag")]
    parts: Parts = [("L: full legend  ", "dim")]
    for i, (glyph, what) in enumerate(items):
        parts.append((("  " if i else "") + glyph, "bold"))
        parts.append((f" {what}", ""))
    if width is not None:
        parts = fit_parts(parts, [], width, g.ellipsis)
    return styled(parts)


class _Legend(Static):
    """The one-line legend, fitted to its width."""

    def __init__(self, glyphs: Glyphs, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.glyphs = glyphs

    def render(self) -> Text:
        return legend_line(self.glyphs, self.size.width or None)


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


GROUP_LABEL = 22  # cells the Group by box shows of its value


def _group_prompt(value: str) -> Text:
    """A group-by key as the box shows it: a long one keeps its kind and its end
    (`resource:…sdk.version`), which tell keys apart, not its middle."""
    return Text(cut_middle(safe_text(value), GROUP_LABEL), no_wrap=True)


class _Internal(Checkbox):
    """The Show internal spans toggle, its state in text (`[x]` / `[ ]`), not in colour
    only."""

    BUTTON_LEFT = "["
    BUTTON_RIGHT = "]"

    @property
    def _button(self) -> Content:
        button = super()._button
        return Content.assemble(self.BUTTON_LEFT, ("x" if self.value else " ", "bold"),
                                self.BUTTON_RIGHT) if button else button


class _Select(Select[str]):
    """A Select whose shown value changes without a layout pass (see _QuietCurrent), and
    that says when its menu closes (the keys go back to the tree)."""

    class Closed(Message):
        pass

    def compose(self) -> ComposeResult:
        for widget in super().compose():
            yield _QuietCurrent(self.prompt) if type(widget) is SelectCurrent else widget

    def watch_expanded(self, expanded: bool) -> None:
        if not expanded:
            # After Select's own handler, which focuses the Select again.
            self.call_after_refresh(self.post_message, self.Closed())


class ControlBar(Vertical):
    """Posts `ControlBar.Changed` when the user changes a control; `sync()` sets them quietly.
    Posts `ControlBar.Done` when the user is done with a control (a choice made, a menu
    closed, escape): the keyboard goes back to the tree."""

    BINDINGS = [Binding("escape", "done", "Back to the tree", show=False)]

    class Changed(Message):
        def __init__(self, setting: str, value: str | bool) -> None:
            self.setting = setting  # "group_by" | "agg" | "show_internal"
            self.value = value
            super().__init__()

    class Done(Message):
        pass

    def __init__(self, glyphs: Glyphs, group_by: str, agg: str, show_internal: bool,
                 *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.glyphs = glyphs
        self._choices = list(BASIC_GROUPS)
        if group_by not in self._choices:
            self._choices.append(group_by)
        self._group = _Select([(_group_prompt(c), c) for c in self._choices], value=group_by,
                             allow_blank=False, compact=True, id="dep-group-by",
                             tooltip="Group sibling spans by (g picks a key, G the previous)")
        self._agg = _Select([(Text(a), a) for a in AGGREGATIONS], value=agg, allow_blank=False,
                           compact=True, id="dep-agg",
                           tooltip="Duration of merged spans (a cycles)")
        self._internal = _Internal(Text("Show internal spans (i)"), show_internal,
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
        yield _Legend(self.glyphs, id="dep-legend")
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
        self.post_message(self.Done())

    @on(_Select.Closed)
    def _select_closed(self, event: _Select.Closed) -> None:
        event.stop()
        self.post_message(self.Done())

    def action_done(self) -> None:
        self.post_message(self.Done())
