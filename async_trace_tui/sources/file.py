"""Files (and standard input) as a source: everything is read at open, nothing fetched later."""

from __future__ import annotations

import gc
import time
from collections.abc import Callable, Sequence

from ..index import SpanIndex
from ..loading import load
from ..views.traces import TraceRow, trace_rows
from .base import Cancelled, Progress, Source, filter_rows


class FileSource(Source):
    """OTLP files, directories or `-`, loaded whole into one index."""

    def __init__(self, paths: Sequence[str], max_bytes: int | None = None) -> None:
        super().__init__()
        self.paths = list(paths)
        self.max_bytes = max_bytes
        self.label = ", ".join(self.paths)
        self._rows: list[TraceRow] | None = None
        self._rows_of = -1  # the index's size when _rows was made

    @classmethod
    def from_index(cls, index: SpanIndex, label: str = "") -> FileSource:
        """A source over an index loaded elsewhere (tests, benchmarks)."""
        src = cls([label] if label else [])
        src.index = index
        return src

    def open(self, progress: Progress | None = None,
             preview: Callable[[list[TraceRow]], None] | None = None,
             phase: Callable[[str], None] | None = None,
             cancelled: Callable[[], bool] = lambda: False,
             preview_after: float = 1.0, progress_every: float = 0.05) -> list[TraceRow]:
        """Load every input. With callbacks (the TUI): throttled progress (cancellation is
        checked there), the first traces' rows once a load has run `preview_after` seconds,
        and the index's lazy maps built here, in the loading thread, so the first view does
        not stall the UI on a million spans."""
        last = 0.0

        def tick(label: str, done: int, size: int, files_done: int, files: int) -> None:
            nonlocal last
            if cancelled():
                raise Cancelled
            time.sleep(0)  # let the UI thread have the GIL: it stays responsive while loading
            now = time.monotonic()
            if progress is not None and (done == 0 or done >= size or now - last >= progress_every):
                last = now
                progress(label, done, size, files_done, files)
                if done >= size and files_done >= files and phase is not None:
                    phase("indexing…")

        def partial(snapshot: SpanIndex) -> None:
            if preview is not None and not cancelled():
                preview(trace_rows(snapshot))

        index, _ = load(self.paths, progress=tick, report=self.report,
                        on_partial=partial if preview is not None else None,
                        partial_after=preview_after, max_bytes=self.max_bytes)
        if cancelled():
            raise Cancelled
        if len(index):
            if phase is not None:
                phase(f"indexing {len(index):,} spans: calls and traces…")
            if progress is not None or preview is not None or phase is not None:
                index.children(-1)  # builds the child map once, here, not in the UI thread
                index.spans_of(0)
            elif any(s.spans and (s.root < 0 or index.parent_id[s.root]) for s in index.traces):
                # Headless (--list): the maps cost a fifth of the load's memory; only a trace
                # without a true root can have its root moved by parents that loop.
                index.children(-1)
        self.index = index
        self._rows = rows = trace_rows(index)
        self._rows_of = len(index)
        # What was just built lives as long as the index: keep it out of the cyclic
        # collector's full passes, which would otherwise rescan it again and again.
        gc.freeze()
        return rows

    def trace_rows(self, query: str = "", sort: str = "start", reverse: bool = False,
                   offset: int = 0, limit: int | None = None) -> list[TraceRow]:
        if (sort == "start" and not reverse and self._rows is not None
                and self._rows_of == len(self.index)):
            rows = self._rows  # what open() made (--list: not twice)
        else:
            rows = trace_rows(self.index, sort, reverse)
        rows = filter_rows(rows, query) if query.strip() else rows
        return rows[offset:None if limit is None else offset + limit]
