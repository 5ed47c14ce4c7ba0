"""Loading in the background for the app (mixed into TraceTuiApp): the loader thread, its
messages, the progress bar and the preview rows meanwhile, and what the app does once the
load is done (the Traces table filled, a store attached, problems said, `--trace`/`--span`
opened).
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from rich.text import Text
from textual import work
from textual.app import ScreenStackError
from textual.css.query import NoMatches
from textual.message import Message
from textual.widgets import Label, ProgressBar
from textual.worker import get_current_worker

from ..index import SpanIndex
from ..sources import Cancelled, SourceError
from ..views.format import safe_text
from ..views.headless import choose_focus
from ..views.short_ids import names_for
from ..views.traces import TraceRow
from .widgets.traces_table import PreparedRows

if TYPE_CHECKING:
    from .app import TraceTuiApp

EXIT_NOTHING_LOADED = 1


# -- messages from the loading thread ---------------------------------------------------

class LoaderProgress(Message):
    def __init__(self, label: str, done: int, size: int, files_done: int, files: int) -> None:
        super().__init__()
        self.label = label
        self.done = done
        self.size = size
        self.files_done = files_done
        self.files = files


class LoaderPhase(Message):
    def __init__(self, text: str) -> None:
        super().__init__()
        self.text = text


class LoaderPreview(Message):
    def __init__(self, rows: PreparedRows) -> None:
        super().__init__()
        self.rows = rows


class LoaderDone(Message):
    def __init__(self, index: SpanIndex | None, rows: PreparedRows | list[TraceRow],
                 seconds: float, error: str = "") -> None:
        super().__init__()
        self.index = index
        self.rows = rows
        self.seconds = seconds
        self.error = error


def _size(n: int) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024  # type: ignore[assignment]
    return str(n)


class BackgroundLoad:
    """The app's load (mixed into TraceTuiApp): `_load` starts it."""

    @work(thread=True, exclusive=True, group="load", exit_on_error=False)
    def _load(self: TraceTuiApp) -> None:
        worker = get_current_worker()
        began = time.perf_counter()
        post = self.post_message
        try:
            rows = self.source.open(
                progress=lambda *a: post(LoaderProgress(*a)),
                preview=lambda rows: post(LoaderPreview(PreparedRows(rows))),
                phase=lambda text: post(LoaderPhase(text)),
                cancelled=lambda: worker.is_cancelled,
            )
            # Sort orders and filter keys for the Traces table, and the short trace ids,
            # here rather than in the UI.
            prepared = PreparedRows(rows)
            names_for(self.source.index).warm()
        except Cancelled:
            return
        except SourceError as e:  # a store that cannot be read (down, auth, no table)
            post(LoaderDone(None, [], time.perf_counter() - began, f"trace-tui: {e}"))
            return
        except Exception as e:  # never a traceback over the UI: report it and carry on
            post(LoaderDone(None, [], time.perf_counter() - began,
                            f"internal error while loading: {type(e).__name__}: {e}"))
            return
        post(LoaderDone(self.source.index, prepared, time.perf_counter() - began))

    def on_loader_progress(self: TraceTuiApp, m: LoaderProgress) -> None:
        if not self.loading:
            return
        bar = self.query_one("#loading-bar", ProgressBar)
        which = f" ({min(m.files_done + 1, m.files)} of {m.files} files)" if m.files > 1 else ""
        text = Text("Loading ")
        text.append(safe_text(m.label), "bold")
        if m.done == 0 and m.files == 1:
            # Some formats (one protobuf message) report nothing until parsed: no fake 0 %.
            bar.update(total=None)
            text.append(f"  {_size(m.size)}, parsing…")
        else:
            frac = (m.files_done + (m.done / m.size if m.size else 0)) / max(1, m.files)
            bar.update(total=1000, progress=min(1000, frac * 1000))
            text.append(f"{which}  {_size(m.done)} of {_size(m.size)}" if m.done < m.size else which)
        self.query_one("#loading-label", Label).update(text, layout=False)

    def on_loader_phase(self: TraceTuiApp, m: LoaderPhase) -> None:
        if self.loading:
            self.query_one("#loading-bar", ProgressBar).update(total=None)  # no measure
            self.query_one("#loading-label", Label).update(Text(m.text), layout=False)

    def on_loader_preview(self: TraceTuiApp, m: LoaderPreview) -> None:
        if not self.loading:
            return
        self.traces_pane.set_preview(m.rows)
        self.traces_pane.set_loading_note(
            f"still loading: the first {len(m.rows.rows):,} traces (async links pending)")

    async def on_loader_done(self: TraceTuiApp, m: LoaderDone) -> None:
        try:
            await self._loaded(m)
        except (NoMatches, ScreenStackError):
            pass  # the app closed while the load finished

    async def _loaded(self: TraceTuiApp, m: LoaderDone) -> None:
        self.load_seconds = m.seconds
        self.traces_pane.set_loading_note("")
        if m.error:
            self.report.messages.append(m.error)
        if self.live is not None and (m.index is None or not len(m.index)):
            # live: start empty, spans are on their way
            m.index = m.index if m.index is not None else SpanIndex.empty()
        elif m.index is None or (not len(m.index) and not self.source.lazy):
            self.loading = False
            self.nothing_loaded = True
            self.exit(return_code=EXIT_NOTHING_LOADED)
            return
        self.index = m.index
        self._palette_cache = None
        if self.source.lazy:  # a store's first page: the rest is asked of it (store_pages)
            rows = m.rows.rows if isinstance(m.rows, PreparedRows) else m.rows
            self.traces_pane.attach_store(self.source, rows, getattr(self.source, "limit", 1000))
        else:
            self.traces_pane.set_index(m.index, m.rows)
        self.loading = False  # from here on, everything above is in place
        if self.live is not None:
            self.live.attach(m.index)
        await self.query_one("#loading").remove()  # fewer widgets: cheaper layouts
        # The full-text search (and the complete list of services) builds in the
        # background now, so `/` and the command palette have it when they are used.
        self.traces_pane.ensure_search()
        r = self.report
        if r.skipped or r.failed_files or r.warnings or m.error:
            self.say(safe_text(r.summary()) + "\npress r for the load report",
                     title="Loaded with problems", severity="warning", timeout=10)
        if self.start_trace or self.start_span:
            try:
                row = choose_focus(self.source, self.start_trace, self.start_span, ValueError)
            except ValueError as e:
                self.say(str(e), title="--trace/--span", severity="error", timeout=10)
            else:
                await self.open_dependencies(row)
        elif self._pending_trace is not None:
            t = m.index.trace_index.get(bytes.fromhex(self._pending_trace))
            if t is not None:
                await self.open_dependencies(m.index.traces[t].root)
        self._pending_trace = None
