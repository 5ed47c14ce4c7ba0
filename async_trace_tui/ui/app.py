"""The TUI: Traces, Dependencies and waterfall tabs over traces loaded in the background.

`create_app(files, ...)` builds the app (the CLI and the tests use it); `run_app(files,
args)` runs it for the CLI and returns the exit status. The load (app_loading), the moves
between tabs (app_tabs), the palette's entries (commands) and the flow tabs (flow_pane) are
mixed into the app from their own modules.
"""

from __future__ import annotations

import argparse
import io
import os
import sys
from collections.abc import Callable, Sequence
from typing import Any

from rich.text import Text
from textual import events, on, work
from textual.app import App, ComposeResult, ScreenStackError
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.css.query import NoMatches
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Label, ProgressBar, TabbedContent, TabPane

from ..index import SpanIndex
from ..live import LiveConfig
from ..loading import default_sample, load
from ..loading.report import LoadReport
from ..sources import Source, SourceError, failure, is_store, open_source
from ..views.dependencies import ViewOptions
from ..views.format import safe_text, short_id
from ..views.glyphs import glyphs
from ..views.grouping import GroupSpecError
from ..views.headless import parse_hex_id
from ..views.short_ids import short_trace_id
from .app_loading import EXIT_NOTHING_LOADED, BackgroundLoad
from .app_tabs import CLOSABLE, DEPS_TAB, SERVICES_TAB, TRACES_TAB, WATERFALL_PREFIX, TabSwitching
from .commands import PaletteEntries, TraceTuiCommands
from .dependencies_pane import HELP as DEPENDENCIES_HELP
from .dependencies_pane import DependenciesPane
from .flow_pane import FlowTabs
from .live_mode import LiveHeader, LiveMode
from .screens import HelpScreen, MainScreen, ReportScreen, dependency_classes, own_bindings
from .services_pane import ServicesPane
from .traces_pane import TracesPane
from .waterfall_pane import WaterfallPane
from .widgets.keybar import KeyBar
from .widgets.line_list import LineList
from .widgets.pair_list import PairList
from .widgets.service_table import ServiceTable
from .widgets.traces_table import TracesTable
from .widgets.waterfall import HELP as WATERFALL_HELP
from .widgets.waterfall import Waterfall


class TraceTuiApp(BackgroundLoad, TabSwitching, PaletteEntries, FlowTabs, App[None]):
    """Build it with `create_app`."""

    CSS_PATH = ["app.tcss", "dependencies.tcss", "services.tcss"]
    TITLE = "trace-tui"
    COMMANDS = App.COMMANDS | {TraceTuiCommands}
    map_by = "service"  # the Services tab's groups (--by)

    BINDINGS = [
        Binding("q", "quit", "Quit"),
        Binding("question_mark", "help", "Help"),
        Binding("r", "report", "Load report"),
        Binding("w", "close_tab", "Close tab"),
        Binding("F", "open_flow", "Flow"),
        Binding("t", "show_traces", "Traces tab", show=False),
        Binding("slash", "filter", "Filter traces", show=False),
        Binding("d", "show_dependencies", "Dependencies tab", show=False),
        Binding("m", "show_services", "Services tab", show=False),
        Binding("right_square_bracket", "next_tab", "Next tab", show=False),
        Binding("left_square_bracket", "previous_tab", "Previous tab", show=False),
        Binding("p", "live_pause", "Pause live view"),  # live mode only (check_action)
        Binding("R", "live_rebuild", "Rebuild (live)"),
    ]

    def __init__(self, files: Sequence[str], options: ViewOptions, *, ascii: bool = False,
                 trace: str | None = None, span: str | None = None,
                 source: Source | None = None, live: LiveConfig | None = None) -> None:
        super().__init__()
        self.files = list(files)
        self.source = source if source is not None else open_source(self.files)
        self.options = options
        self.ascii = ascii
        self.start_trace = trace
        self.start_span = span
        self.index: SpanIndex | None = None
        self.report = self.source.report
        self.loading = True
        self.nothing_loaded = False
        self.load_seconds = 0.0
        self._pending_trace: str | None = None  # chosen from a preview row
        self._palette_cache: tuple[Any, list[tuple[str, str, str, Any]]] | None = None
        self.live = LiveMode(self, live) if live is not None else None
        self.live_error = ""

    # -- layout ---------------------------------------------------------------------------

    def get_default_screen(self) -> Screen:
        return MainScreen(id="_default")

    def compose(self) -> ComposeResult:
        if self.live is not None:
            yield LiveHeader(id="live-header")
        with TabbedContent(id="tabs"):
            with TabPane(Content("Traces"), id=TRACES_TAB):
                with Vertical(id="loading"):
                    yield Label(Text("Starting…"), id="loading-label")
                    yield ProgressBar(total=1000, show_eta=False, id="loading-bar")
                yield TracesPane(ascii=self.ascii, id="traces")
        yield KeyBar(ascii=self.ascii, id="keys")

    def on_mount(self) -> None:
        self.traces_pane.table.focus()
        self.traces_pane.set_loading_note("loading…")
        self._load()
        if self.live is not None:
            self.run_worker(self.live.start(), group="live", exit_on_error=False)

    async def on_event(self, event: events.Event) -> None:
        if self.live is not None and isinstance(event, events.Key):
            self.live.key_pressed()  # (the collector's sweeps wait for a pause in typing)
        await super().on_event(event)

    async def on_unmount(self) -> None:
        if self.live is not None:
            await self.live.stop()

    def live_failed(self, message: str) -> None:
        """A receiver could not start (its port was taken meanwhile): exit status 2."""
        self.live_error = message
        self.exit(return_code=2)

    @property
    def tabs(self) -> TabbedContent:
        return self.query_one("#tabs", TabbedContent)

    @property
    def traces_pane(self) -> TracesPane:
        return self.query_one("#traces", TracesPane)

    @property
    def traces_table(self) -> TracesTable:
        return self.traces_pane.table

    @property
    def deps_pane(self) -> DependenciesPane | None:
        found = self.query(DependenciesPane)
        return found.first() if found else None

    @property
    def services_pane(self) -> ServicesPane | None:
        found = self.query(ServicesPane)
        return found.first() if found else None

    # -- opening views --------------------------------------------------------------------

    async def open_dependencies(self, row: int) -> DependenciesPane | None:
        """Open (or refocus) the Dependencies tab on a span row."""
        if self.index is None or row < 0:
            return None
        tabs = self.tabs
        pane = self.deps_pane
        if self.source.lazy:
            # A store fetched more (here or in the pane): rows keep their numbers.
            self.index = self.source.index
            if pane is not None:
                pane.set_index(self.index)
        elif pane is not None and pane.index is not self.index:
            self.tabs.active = TRACES_TAB
            await tabs.remove_pane(DEPS_TAB)
            pane = None
        if pane is None:
            pane = DependenciesPane(self.index, row, self.options, ascii=self.ascii, id="deps",
                                    source=self.source)
            await tabs.add_pane(TabPane(Content("Dependencies"), pane, id=DEPS_TAB), after=TRACES_TAB)
        else:
            pane.set_focus(row)
        tabs.active = DEPS_TAB
        self._focus_tab(DEPS_TAB)
        self.refresh_bindings()
        return pane

    async def open_waterfall(self, trace: int, row: int | None = None) -> WaterfallPane | None:
        """Open (or activate) the waterfall tab of a trace; `row` selects a span in it."""
        if self.index is None or not 0 <= trace < len(self.index.trace_ids):
            return None
        tabs = self.tabs
        hex_id = self.index.trace_ids[trace].hex()
        tab_id = WATERFALL_PREFIX + hex_id
        focus = row if row is not None and row >= 0 else None
        found = tabs.query(f"#{tab_id}")
        if found:
            pane = found.first().query_one(WaterfallPane)
            if focus is not None:
                wf = pane.waterfall
                try:
                    wf.move_cursor(wf.spans.index(focus), center=True)
                except ValueError:
                    pass
        else:
            pane = WaterfallPane(self.index, trace, focus, ascii=self.ascii)
            title = Content(f"waterfall: {short_trace_id(self.index, hex_id)}")
            await tabs.add_pane(TabPane(title, pane, id=tab_id))
        tabs.active = tab_id
        self._focus_tab(tab_id)
        self.refresh_bindings()
        return pane

    @on(TabbedContent.TabActivated)
    def _tab_activated(self, event: TabbedContent.TabActivated) -> None:
        if event.pane is not None and event.pane.id:
            try:
                self._focus_tab_now(event.pane.id)
                self.refresh_bindings()
            except (NoMatches, ScreenStackError):
                pass  # the app is closing

    # -- from the panes -------------------------------------------------------------------

    async def on_traces_table_trace_chosen(self, m: TracesTable.TraceChosen) -> None:
        if self.loading or self.index is None:
            self._pending_trace = m.row.trace_id
            self.say("Still loading: the dependencies view opens when the load is done.",
                        timeout=4)
            return
        if self.source.lazy:
            self._fetch_trace(m.row.trace_id, "deps")
            return
        await self.open_dependencies(m.row.summary.root)

    async def on_traces_table_waterfall_requested(self, m: TracesTable.WaterfallRequested) -> None:
        if self.loading or self.index is None:
            self.say("Still loading: waterfalls open when the load is done.", timeout=4)
            return
        if self.source.lazy:
            self._fetch_trace(m.row.trace_id, "waterfall")
            return
        await self.open_waterfall(m.row.summary.index)

    # -- fetching from a store ------------------------------------------------------------

    class Fetched(Message):
        def __init__(self, trace_id: str, then: str, error: str = "") -> None:
            super().__init__()
            self.trace_id = trace_id
            self.then = then
            self.error = error

    def _fetch_trace(self, trace_id: str, then: str) -> None:
        self.say(f"fetching… trace {short_id(trace_id)}", timeout=2)
        self._fetch_worker(trace_id, then)

    @work(thread=True, group="store-fetch", exit_on_error=False)
    def _fetch_worker(self, trace_id: str, then: str) -> None:
        error = failure(lambda: self.source.fetch_traces([bytes.fromhex(trace_id)]))
        self.post_message(self.Fetched(trace_id, then, error))

    async def on_trace_tui_app_fetched(self, m: Fetched) -> None:
        if m.error:
            self.say(m.error, title="fetch failed", severity="error", timeout=10)
            return
        self.index = self.source.index
        t = self.index.trace_index.get(bytes.fromhex(m.trace_id))
        if t is None:
            self.say(f"trace {short_id(m.trace_id)} has no spans in the store", timeout=5)
        elif m.then == "deps":
            await self.open_dependencies(self.index.traces[t].root)
        elif m.then == "flow":
            await self.open_flow([self.index.traces[t].root])
        else:
            await self.open_waterfall(t)

    async def on_dependencies_pane_open_trace(self, m: DependenciesPane.OpenTrace) -> None:
        if self.source.lazy:
            # The pane may have fetched more; a span of a trace not fetched whole (one that
            # links to the view) fetches it first.
            self.index = self.source.index
            if m.row >= 0 and self.source.pending((m.row,)):
                self._fetch_trace(self.index.trace_ids[m.trace_index].hex(), "waterfall")
                return
        await self.open_waterfall(m.trace_index, m.row)

    async def on_services_pane_open_span(self, m: ServicesPane.OpenSpan) -> None:
        await self.open_dependencies(m.row)

    async def on_waterfall_span_chosen(self, m: Waterfall.SpanChosen) -> None:
        await self.open_dependencies(m.row)

    async def on_flow_waterfall_span_chosen(self, m: Any) -> None:
        await self.open_dependencies(m.row)

    # -- actions --------------------------------------------------------------------------

    def say(self, message: str, **kw: Any) -> None:
        """A notification whose text is shown as is (never parsed as markup)."""
        self.notify(message, markup=False, **kw)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "close_tab":
            return self._active_tab().startswith(CLOSABLE)
        if action == "show_dependencies":
            return self.deps_pane is not None
        if action == "live_pause":
            return self.live is not None
        if action == "live_rebuild":
            return self.live is not None and self.deps_pane is not None
        return True

    def action_live_pause(self) -> None:
        if self.live is not None:
            self.live.toggle_pause()

    def action_live_rebuild(self) -> None:
        if self.live is not None and self.live.rebuild_dependencies():
            self.action_show_dependencies()

    def action_help(self) -> None:
        self.push_screen(HelpScreen(self.help_sections(), glyphs(self.ascii)))

    def help_sections(self) -> list[tuple[str, list[tuple[str, str]]]]:
        everywhere = own_bindings([type(self)]) + [
            ("ctrl+p", "command palette: every action, jump to a trace, filter by service"),
            ("ctrl+q", "quit"),
            ("tab/shift+tab", "move between widgets"),
            ("mouse", "click a tab, a row, a column header (sorts), scroll"),
        ]
        return [
            ("Everywhere", everywhere),
            ("Traces tab", own_bindings([TracesPane, TracesTable])),
            ("Traces columns", [
                ("async from", "links from this trace's spans to work it continued (a "
                               "consumer's links back to its producers)"),
                ("async to", "links into this trace from work that continued it"),
            ]),
            ("Traces filter (after /)", [
                ("typing", "filters at once by service and operation; attributes follow"),
                ("service:NAME", "only traces with a span of that service"),
                ("enter", "keep the filter, back to the table"),
                ("escape", "clear the filter"),
            ]),
            ("Waterfall tabs", own_bindings([Waterfall, LineList]) + WATERFALL_HELP),
            ("Dependencies tab", own_bindings(dependency_classes())),
            *DEPENDENCIES_HELP,
            ("Services tab", own_bindings([ServicesPane, ServiceTable, PairList])),
            ("Flow tabs", self.flow_help()),
        ]

    def action_report(self) -> None:
        self.push_screen(ReportScreen(self.report, loading=self.loading))

    def action_show_traces(self) -> None:
        self.tabs.active = TRACES_TAB
        self._focus_tab(TRACES_TAB)

    def action_show_dependencies(self) -> None:
        if self.deps_pane is not None:
            self.tabs.active = DEPS_TAB
            self._focus_tab(DEPS_TAB)

    async def action_show_services(self) -> None:
        """The Services tab (the async service map), made on first use; shown again, it
        rebuilds the map if the index grew since (live)."""
        if self.loading or self.index is None:
            self.say("Still loading: the service map is built when the load is done.", timeout=4)
            return
        pane = self.services_pane
        if pane is None:
            pane = ServicesPane(self.index, by=self.map_by, ascii=self.ascii, id="services",
                                compute=getattr(self.source, "service_map_json", None),
                                scope=getattr(self.source, "window_label", ""))
            await self.tabs.add_pane(TabPane(Content("Services"), pane, id=SERVICES_TAB))
        else:
            pane.refresh_map(self.index)
        self.tabs.active = SERVICES_TAB
        self._focus_tab(SERVICES_TAB)
        self.refresh_bindings()

    async def action_services_sort(self) -> None:
        await self.action_show_services()
        if (pane := self.services_pane) is not None:
            pane.close_pairs()
            pane.table.action_cycle_sort()

    async def action_services_group(self) -> None:
        await self.action_show_services()
        if (pane := self.services_pane) is not None:
            pane.action_pick_grouping()

    async def action_services_filter(self) -> None:
        switching = self._active_tab() != SERVICES_TAB
        await self.action_show_services()
        if (pane := self.services_pane) is not None:
            pane.action_start_filter()
            # the tab switch's own focus move (TabActivated) comes later: it goes there too
            pane.filter_on_focus = switching

    def action_filter(self) -> None:
        self.action_show_traces()
        self.traces_pane.action_start_filter()

    def action_clear_filter(self) -> None:
        self.traces_pane.action_clear_filter()

    def action_cycle_sort(self) -> None:
        self.action_show_traces()
        self.traces_table.action_cycle_sort()

    def action_reverse_sort(self) -> None:
        self.action_show_traces()
        self.traces_table.action_reverse_sort()

    def _with_deps(self, what: Callable[[DependenciesPane], Any]) -> None:
        pane = self.deps_pane
        if pane is None:
            self.say("Open a trace's dependencies first (enter on a trace).", timeout=4)
            return
        self.action_show_dependencies()
        what(pane)

    def action_open_waterfall(self) -> None:
        # As `o` on the table does: a store's trace is fetched first, a load in progress said.
        self.traces_table.action_open_waterfall()

def create_app(files: Sequence[str] | None = None, *, group_by: str = "operation",
               agg: str = "avg", hide_internal: bool = False, async_cap: int = 3,
               ascii: bool = False, trace: str | None = None,
               span: str | None = None, live: LiveConfig | None = None,
               max_bytes: int | None = None, source: Source | None = None) -> TraceTuiApp:
    """The one way to build the TUI. `files` as on the command line (None: the bundled
    sample); the rest are the dependencies view's options and the span to open at start.
    Raises ValueError for a bad group-by key or aggregation."""
    try:
        options = ViewOptions(group_by=group_by, agg=agg, show_internal=not hide_internal,
                              async_cap=async_cap, depth=None)
    except GroupSpecError as e:
        raise ValueError(str(e)) from None
    # Live mode opens only the files named: with none, it starts empty.
    paths = list(files) if files or live is not None else [str(default_sample())]
    return TraceTuiApp(paths, options, ascii=ascii, trace=trace, span=span, live=live,
                       source=source if source is not None else open_source(paths, max_bytes=max_bytes))


class _UsageError(Exception):
    pass


def run_app(files: Sequence[str], args: argparse.Namespace,
            live: LiveConfig | None = None) -> int:
    """Run the TUI for the CLI; the exit status: 0, 1 if nothing could be loaded, 2 usage.

    When nothing can be loaded, the report goes to stderr as in headless mode: at once if
    no input exists at all (the UI never starts), else right after the UI closes itself.
    """
    files = list(files)
    try:
        if args.trace:
            parse_hex_id(args.trace, 16, "trace id", _UsageError)
        if args.span:
            parse_hex_id(args.span, 8, "span id", _UsageError)
        source = open_source(files, since=getattr(args, "since", None),
                             until=getattr(args, "until", None),
                             limit=getattr(args, "limit", 1000)) if any(map(is_store, files)) else None
        app = create_app(files, group_by=args.group_by, agg=args.agg,
                         hide_internal=args.hide_internal, async_cap=args.async_cap,
                         ascii=args.ascii, trace=args.trace, span=args.span, live=live,
                         max_bytes=args.max_bytes, source=source)
        app.map_by = getattr(args, "by", "service")  # cli.main checked it
    except (_UsageError, ValueError, SourceError) as e:
        print(f"trace-tui: {e}", file=sys.stderr)
        return 2

    if (source is None and (files or live is None)
            and not any(f == "-" or os.path.exists(f) for f in files)):
        _, report = load(files, max_bytes=args.max_bytes)
        _print_report(report)
        return EXIT_NOTHING_LOADED

    if "-" in files and not sys.stdin.isatty():
        # The data comes down the pipe; the keyboard must come from the terminal.
        data = sys.stdin.buffer.read()
        try:
            tty = os.open("/dev/tty", os.O_RDONLY)
        except OSError:
            print("trace-tui: reading traces from standard input needs a terminal for the "
                  "keyboard (use --list/--print/--json without one)", file=sys.stderr)
            return 2
        os.dup2(tty, 0)
        os.close(tty)
        sys.stdin = io.TextIOWrapper(io.BytesIO(data))

    app.run()
    if app.live_error:
        print(f"trace-tui: {app.live_error}", file=sys.stderr)
        return 2
    if app.nothing_loaded and source is not None:  # a store: its one line, as headless
        for line in app.report.messages:
            print(safe_text(line), file=sys.stderr)
        return EXIT_NOTHING_LOADED
    if app.nothing_loaded:
        _print_report(app.report)
        return EXIT_NOTHING_LOADED
    return app.return_code or 0


def _print_report(report: LoadReport) -> None:
    for line in report.lines():
        print(line, file=sys.stderr)
    print("trace-tui: nothing could be loaded", file=sys.stderr)
