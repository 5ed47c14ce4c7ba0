"""Live mode in the TUI: receivers on the app's loop, a header line, the Traces table growing
in place, `p` pause, and the dependencies view told when arrivals touch it (`R` rebuilds).

`LiveMode` is owned by the app; it knows the app only through the few calls below, so
app.py stays a shell. Arrivals are appended to the index as requests come (in `Ingest`,
on this loop); what the screen shows is brought up to date on a timer, a few times a
second, for the traces touched since.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual.widgets import Static

from ..gcpause import GrowthFreeze
from ..index import Arrivals, SpanIndex
from ..live import BindError, Ingest, LiveConfig, Receivers
from ..live.bind import shown
from ..live.save import SaveFile
from ..views.short_ids import names_for
from ..views.traces import TraceRow, trace_rows
from .widgets.traces_table import PreparedRows

if TYPE_CHECKING:
    from .app import TraceTuiApp

DEPS_TAB = "deps-tab"  # app.DEPS_TAB (not imported: app imports this module)

REFRESH_SECONDS = 0.5
TYPING_SECONDS = 3.0  # a key this recently: the user is at it (no collector sweep now)


def _prepared_rows(index: SpanIndex) -> tuple[PreparedRows, dict[int, int]]:
    """The Traces table's rows of a new index, and each trace's place among them (made in
    the compacting thread, off the UI's; its short trace ids too, which the table asks for)."""
    names_for(index)
    rows = PreparedRows(trace_rows(index))
    return rows, {r.summary.index: i for i, r in enumerate(rows.rows)}


class LiveHeader(Static):
    """One line above the tabs: where spans come in, how fast, the totals."""

    DEFAULT_CSS = """
    LiveHeader {
        height: 1;
        background: $panel;
        color: $foreground;
        padding: 0 1;
    }
    """


class LiveMode:
    def __init__(self, app: TraceTuiApp, config: LiveConfig) -> None:
        self.app = app
        self.config = config
        self.ingest = Ingest(None, app.report, SaveFile(config.save) if config.save else None,
                             config.max_spans)
        self.ingest.hold = True
        self.ingest.listeners.append(self._arrived)
        self.ingest.replaced.append(self._replaced)
        self.ingest.prepare = _prepared_rows
        self.receivers = Receivers(config, self.ingest)
        self.paused = False
        self.index: SpanIndex | None = None
        self._dirty: set[int] = set()  # traces changed since the table was last brought up
        self._pos: dict[int, int] = {}  # trace -> its row in the table's rows
        self._deps_new = 0  # changes to the traces the dependencies view shows
        self._deps_view: Any = None  # the view those were counted against
        self._deps_traces: set[int] = set()
        self._deps_missing: set[bytes] = set()  # trace ids of its missing nodes
        self.gc = GrowthFreeze()
        self._last_key = 0.0

    # -- start and stop --------------------------------------------------------------------

    async def start(self) -> None:
        try:
            await self.receivers.start()
        except BindError as e:
            self.app.live_failed(str(e))
            return
        self.app.set_interval(REFRESH_SECONDS, self.refresh)
        self.refresh_header()

    async def stop(self) -> None:
        await self.receivers.stop()
        self.ingest.close()
        self.gc.close()

    def key_pressed(self) -> None:
        self._last_key = time.monotonic()

    def attach(self, index: SpanIndex) -> None:
        """The index to grow (files given on the command line are in it already)."""
        self.index = index
        table = self.app.traces_table
        self._pos = {r.summary.index: i for i, r in enumerate(table.all_rows)}
        self.ingest.set_index(index)
        self.refresh()

    def _replaced(self, index: SpanIndex, prepared: tuple[PreparedRows, dict[int, int]]) -> None:
        """--max-spans dropped the oldest traces: a new, smaller index for every view (its
        table rows made in the thread that made it: `_prepared_rows`)."""
        old = self.index
        self.index = index
        app = self.app
        app.index = index
        if hasattr(app.source, "index"):
            app.source.index = index
        rows, self._pos = prepared
        app.traces_pane.set_index(index, rows)
        self._dirty.clear()
        app.call_later(self._reopen_views, old, index)

    async def _reopen_views(self, old: SpanIndex | None, index: SpanIndex) -> None:
        """The dependencies view moves to the new index (or closes, if its trace was
        dropped); waterfall tabs close (they would hold the old index in memory)."""
        app = self.app
        for tab in app.waterfall_tabs():
            await app.tabs.remove_pane(tab)
        pane = app.deps_pane
        if pane is None or old is None:
            return
        row = index.find(old.trace_id_of(pane.focus_row), old.span_id[pane.focus_row])
        if row is None:
            await app.tabs.remove_pane(DEPS_TAB)
            app.action_show_traces()
            app.say("The dependencies view's trace was dropped (--max-spans keeps the newest "
                    "spans).", timeout=6)
            return
        pane.index = index
        pane.set_focus(row)
        self._deps_view = None
        self._deps_new = 0

    # -- arrivals ----------------------------------------------------------------------------

    def _arrived(self, arrivals: Arrivals) -> None:
        self._dirty.update(arrivals.touched)
        if self._deps_view is not None:
            self._count_for_deps(arrivals)
        self.gc.grown()  # the new spans are here to stay

    def _count_for_deps(self, arrivals: Arrivals) -> None:
        index = self.index
        if index is None:
            return
        for t, n in arrivals.touched.items():
            if t in self._deps_traces or index.trace_ids[t] in self._deps_missing:
                self._deps_new += n

    def watch_dependencies(self) -> None:
        """Remember what the open dependencies view shows (called when it is (re)built)."""
        pane = self.app.deps_pane
        index = self.index
        view = getattr(pane, "view", None)
        if view is None or index is None:
            return
        self._deps_view = view
        self._deps_new = 0
        traces: set[int] = set()
        missing: set[bytes] = set()
        trace = index.trace
        for node in pane.dep_tree.shown_nodes():
            n = node[0]
            traces.update(trace[r] for r in n.rows)
            if n.missing:
                missing.add(n.missing[0])
        self._deps_traces = traces
        self._deps_missing = missing

    @property
    def deps_new(self) -> int:
        return self._deps_new

    @property
    def watching(self) -> object:
        """The dependencies view that arrivals are counted against (None: none yet)."""
        return self._deps_view

    # -- the screen --------------------------------------------------------------------------

    def toggle_pause(self) -> None:
        self.paused = not self.paused
        if not self.paused:
            self.refresh()
        self.refresh_header()

    def refresh(self) -> None:
        """Bring the Traces table up to date with the traces changed since last time."""
        pane = self.app.deps_pane
        if pane is not None and getattr(pane, "view", None) is not self._deps_view:
            self.watch_dependencies()
        if not self.paused and self._dirty and self.index is not None:
            self._grow_table()
        self.refresh_header()
        now = time.monotonic()
        self.gc.sweep(idle=now - self._last_key > TYPING_SECONDS, now=now)

    def _grow_table(self) -> None:
        index = self.index
        assert index is not None
        dirty, self._dirty = self._dirty, set()
        table = self.app.traces_table
        pos = self._pos
        updated: list[tuple[int, TraceRow]] = []
        added: list[TraceRow] = []
        base = len(table.all_rows)
        for t in sorted(dirty):
            s = index.traces[t]
            if not s.spans:
                continue
            row = TraceRow(index, s)
            at = pos.get(t)
            if at is None:
                pos[t] = base + len(added)
                added.append(row)
            else:
                updated.append((at, row))
        table.grow(updated, added)

    def refresh_header(self) -> None:
        try:
            header = self.app.query_one(LiveHeader)
        except Exception:
            return  # the app is closing
        stats = self.ingest.stats
        c = self.config
        where = " ".join(f"{name} {shown(*addr)}" for name, addr in
                         (("gRPC", c.grpc), ("HTTP", c.http)) if addr)
        t = Text()
        t.append("● live", "bold green" if not self.paused else "bold yellow")
        if self.paused:
            t.append("  PAUSED (p resumes; still receiving)", "bold yellow")
        index = self.index
        spans = len(index) if index is not None else 0
        traces = len(index.trace_ids) if index is not None else 0
        t.append("  ·  ")
        t.append(f"{stats.rate():,.0f} spans/s", "bold")
        t.append(f"  ·  {spans:,} spans  ·  {traces:,} traces")
        if self._deps_new:
            t.append(f"  ·  dependencies: {self._deps_new:,} new (R rebuilds)", "bold")
        if stats.rejected:
            t.append(f"  ·  {stats.rejected:,} rejected", "bold red")
        if stats.dropped_spans:
            t.append(f"  ·  {stats.dropped_spans:,} dropped (--max-spans)")
        t.append(f"  ·  {stats.requests:,} requests  ·  {where}")
        header.update(t, layout=False)

    def rebuild_dependencies(self) -> bool:
        """`R`: the dependencies view rebuilt over what has arrived, the cursor kept."""
        pane = self.app.deps_pane
        if pane is None:
            return False
        pane.rebuild(pane.options)
        self._deps_new = 0
        self._deps_view = None  # re-read once the new view is in place
        self.refresh_header()
        return True
