"""Modal screens: the help (every key and the legend) and the load report."""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Iterable

from rich.style import StyleType
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.reactive import Reactive
from textual.screen import ModalScreen, Screen
from textual.widget import Widget
from textual.widgets import Static

from ..loading.report import LoadReport
from ..views.format import safe_text
from ..views.glyphs import UNICODE, Glyphs

# Modules of the dependencies tab whose widgets' keys the help lists (built alongside).
DEPENDENCY_MODULES = (
    "async_trace_tui.ui.dependencies_pane",
    "async_trace_tui.ui.widgets.dep_tree",
    "async_trace_tui.ui.widgets.controls",
    "async_trace_tui.ui.widgets.details",
)
KEY_NAMES = {
    "question_mark": "?", "slash": "/", "escape": "esc", "enter": "enter",
    "pageup": "pgup", "pagedown": "pgdn", "full_stop": ".", "plus": "+", "minus": "-",
    "left_square_bracket": "[", "right_square_bracket": "]", "space": "space",
    "left_curly_bracket": "{", "right_curly_bracket": "}", "backslash": "\\",
    "backspace": "backspace",
}


def key_name(key: str) -> str:
    parts = key.split("+")
    parts[-1] = KEY_NAMES.get(parts[-1], parts[-1])
    return "+".join(parts)


def own_bindings(classes: Iterable[type]) -> list[tuple[str, str]]:
    """(keys, description) for the bindings these classes (and their bases from this
    package) declare; keys of one action are joined: `up/k`."""
    out: dict[tuple[str, str], list[str]] = {}
    seen: set[type] = set()
    for cls in classes:
        for klass in inspect.getmro(cls):
            if klass in seen or not klass.__module__.startswith("async_trace_tui"):
                continue
            seen.add(klass)
            for binding in Binding.make_bindings(klass.__dict__.get("BINDINGS", [])):
                desc = binding.description or binding.action.replace("_", " ")
                keys = out.setdefault((binding.action, desc), [])
                name = binding.key_display or key_name(binding.key)
                if name not in keys:
                    keys.append(name)
    return [("/".join(keys), desc) for (_action, desc), keys in out.items()]


def dependency_classes() -> list[type]:
    """The widgets of the dependencies tab, when their modules exist."""
    found: list[type] = []
    for name in DEPENDENCY_MODULES:
        try:
            module = importlib.import_module(name)
        except ImportError:
            continue
        for obj in vars(module).values():
            if (inspect.isclass(obj) and issubclass(obj, Widget) and obj.__module__ == name
                    and obj.__dict__.get("BINDINGS")):
                found.append(obj)
    return found


def help_text(sections: list[tuple[str, list[tuple[str, str]]]], glyphs: Glyphs = UNICODE,
              key_style: StyleType = "bold", title_style: StyleType = "bold underline") -> Text:
    t = Text()
    width = max((len(k) for _, rows in sections for k, _ in rows), default=8) + 2
    for title, rows in sections:
        if not rows:
            continue
        t.append(f"{title}\n", title_style)
        for keys, desc in rows:
            t.append(f"  {keys:<{width}}", key_style)
            t.append(f"{desc}\n")
        t.append("\n")
    t.append("Legend\n", title_style)
    gw = max(len(g) for g, _ in glyphs.legend) + 2
    for glyph, meaning in glyphs.legend:
        t.append(f"  {glyph:<{gw}}", key_style)
        t.append(f"{meaning}\n")
    return t


class MainScreen(Screen[None]):
    """The app's own screen. Textual's Screen repaints itself whole, every line of every
    widget (~35 ms at 160x50), whenever the focus moves, though nothing it draws depends
    on the focus: the widgets that gain and lose it repaint themselves, and `:focus`
    / `:focus-within` restyles repaint the widgets they change."""

    focused: Reactive[Widget | None] = Reactive(None, repaint=False)


class HelpScreen(ModalScreen[None]):
    """Every key of the app and its panes, and the legend of the dependencies view."""

    BINDINGS = [
        Binding("escape,q,question_mark,enter", "dismiss", "Close", show=True),
    ]

    def __init__(self, sections: list[tuple[str, list[tuple[str, str]]]], glyphs: Glyphs) -> None:
        super().__init__()
        self.sections = sections
        self.glyphs = glyphs

    COMPONENT_CLASSES = {"help--key", "help--title"}
    DEFAULT_CSS = """
    HelpScreen > .help--key { color: $text-accent; text-style: bold; }
    HelpScreen > .help--title { color: $text-primary; text-style: bold underline; }
    """

    def compose(self) -> ComposeResult:
        with Vertical(id="help-box", classes="modal-box"):
            yield Static(Text("Keys  (escape closes)", style="bold"), classes="modal-title")
            with VerticalScroll(classes="modal-body"):
                yield Static(id="help-text")

    def on_mount(self) -> None:
        get = self.get_component_rich_style
        self.query_one("#help-text", Static).update(
            help_text(self.sections, self.glyphs, get("help--key", partial=True),
                      get("help--title", partial=True)))

    def action_dismiss(self, result: None = None) -> None:  # type: ignore[override]
        self.dismiss(None)


def report_text(report: LoadReport, loading: bool = False, error_style: StyleType = "bold",
                title_style: StyleType = "bold underline") -> Text:
    t = Text()
    if loading:
        t.append("Still loading: the counts below are so far.\n\n", "italic")
    t.append(safe_text(report.summary()) + "\n\n", "bold")
    if report.live is not None:
        t.append("Live\n", title_style)
        for line in report.live.lines():
            t.append("  " + safe_text(line) + "\n")
        t.append("\n")
    t.append("Files\n", title_style)
    if not report.files:
        t.append("  (none yet)\n")
    for f in report.files:
        t.append("  " + safe_text(f.name), "bold")
        if f.error:
            t.append(f"  failed: {safe_text(f.error)}\n", error_style)
        else:
            t.append(f"  {safe_text(f.format or '?')}, {f.spans:,} spans\n")
    for title, counter in (("Skipped records", report.skipped), ("Ignored (not traces)", report.ignored),
                           ("Warnings", report.warnings)):
        t.append(f"\n{title}\n", title_style)
        if not counter:
            t.append("  none\n")
        for reason, n in counter.most_common():
            t.append(f"  {n:>9,}  ", "bold")
            t.append(safe_text(reason) + "\n")
    t.append("\nMessages\n", title_style)
    if not report.messages:
        t.append("  none\n")
    for m in report.messages:
        t.append("  " + safe_text(m) + "\n")
    return t


class ReportScreen(ModalScreen[None]):
    """What the load read, skipped and why."""

    BINDINGS = [
        Binding("escape,q,r,enter", "dismiss", "Close", show=True),
    ]

    def __init__(self, report: LoadReport, loading: bool = False) -> None:
        super().__init__()
        self.report = report
        self.loading = loading

    COMPONENT_CLASSES = {"report--error", "report--title"}
    DEFAULT_CSS = """
    ReportScreen > .report--error { color: $text-error; text-style: bold; }
    ReportScreen > .report--title { color: $text-primary; text-style: bold underline; }
    """

    def compose(self) -> ComposeResult:
        with Vertical(id="report-box", classes="modal-box"):
            yield Static(Text("Load report  (escape closes)", style="bold"), classes="modal-title")
            with VerticalScroll(classes="modal-body"):
                yield Static(id="report-text")

    def on_mount(self) -> None:
        get = self.get_component_rich_style
        self.query_one("#report-text", Static).update(
            report_text(self.report, self.loading, get("report--error", partial=True),
                        get("report--title", partial=True)))

    def action_dismiss(self, result: None = None) -> None:  # type: ignore[override]
        self.dismiss(None)
