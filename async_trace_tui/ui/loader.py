"""Loading for the TUI: files through `FileSource.open` (throttled progress, early rows, a
warm index), and the Traces table's full-text search built in the background.

Nothing here imports Textual: callers pass plain callbacks, called from the loading thread.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable

from ..index import SpanIndex
from ..loading.report import LoadReport
from ..sources import Cancelled, FileSource
from ..views.traces import TraceRow

__all__ = ["Cancelled", "load_for_ui", "search_texts"]

ProgressFn = Callable[[str, int, int, int, int], None]


def load_for_ui(
    paths: list[str],
    report: LoadReport,
    progress: ProgressFn | None = None,
    preview: Callable[[list[TraceRow]], None] | None = None,
    phase: Callable[[str], None] | None = None,
    cancelled: Callable[[], bool] = lambda: False,
    preview_after: float = 1.0,
    progress_every: float = 0.05,
) -> tuple[SpanIndex, list[TraceRow]]:
    """Load files like `FileSource.open` into `report`; returns the index and its rows."""
    source = FileSource(paths)
    source.report = report
    rows = source.open(progress, preview, phase, cancelled, preview_after, progress_every)
    return source.index, rows


def search_texts(index: SpanIndex, cancelled: Callable[[], bool] = lambda: False
                 ) -> tuple[list[str], list[str], list[str]]:
    """Per trace index: lower-case search text (services and operations of every span, the
    root span's attributes and resource), the trace's services as "\\x00a\\x00b\\x00", and all
    services sorted. For a background thread: a pass over every span."""
    # A live index grows meanwhile: rows first (their traces are all known by then).
    rows = len(index)
    n = len(index.trace_ids)
    services: list[set[str]] = [set() for _ in range(n)]
    operations: list[set[str]] = [set() for _ in range(n)]
    trace, name, service = index.trace, index.name, index.service
    for row in range(rows):
        if not row & 0x3FF:
            if cancelled():
                raise Cancelled
            time.sleep(0)  # hand the GIL to the UI thread: keys stay quick meanwhile
        t = trace[row]
        services[t].add(service(row))
        operations[t].add(name[row])
    full: list[str] = []
    svc_text: list[str] = []
    resource_text: dict[int, str] = {}
    for s in index.traces[:n]:
        t = s.index
        if not t & 0xFF:
            if cancelled():
                raise Cancelled
            time.sleep(0)
        parts = [*services[t], *operations[t]]
        if s.root >= 0:
            res = index.resource(s.root)
            rt = resource_text.get(id(res))
            if rt is None:
                rt = resource_text[id(res)] = "\n".join(f"{k}={v}" for k, v in res.attributes.items())
            parts.append(rt)
            try:
                attrs = index.detail(s.root).attributes
            except Exception:  # a detail that cannot be read again is not worth a crash here
                attrs = {}
            parts.extend(f"{k}={v}" for k, v in attrs.items())
        full.append("\n".join(parts).lower())
        svc_text.append("\x00" + "\x00".join(services[t]).lower() + "\x00")
    every = sorted(set().union(*services)) if services else []
    gc.freeze()  # long-lived, like the index (see load_for_ui)
    return full, svc_text, every
