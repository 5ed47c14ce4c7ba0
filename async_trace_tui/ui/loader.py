"""Loading for the TUI: `loading.load()` with throttled progress, early rows and a warm index.

- progress callbacks, throttled, with bytes and files (cancellation is checked there);
- once a load has run a second, `load(on_partial=...)` hands over an index of what is
  loaded so far; its Traces-table rows are computed here, in the loading thread, so the
  first traces show while the rest loads (links are not all known yet: the table marks
  them pending);
- after the load, the index's lazy maps (children, spans per trace) are built in the same
  thread, so the first waterfall or dependencies view does not stall the UI on a million
  spans.

Nothing here imports Textual: callers pass plain callbacks, called from the loading thread.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable

from ..index import SpanIndex
from ..loading import load
from ..loading.report import LoadReport
from ..views.traces import TraceRow, trace_rows


class Cancelled(Exception):
    """The app went away while loading."""


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
    """Load like `loading.load()`; returns the index and its Traces-table rows."""
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

    index, _ = load(paths, progress=tick, report=report,
                    on_partial=partial if preview is not None else None,
                    partial_after=preview_after)
    if cancelled():
        raise Cancelled
    if len(index):
        if phase is not None:
            phase(f"indexing {len(index):,} spans: calls and traces…")
        index.children(-1)  # builds the child map once, here, not in the UI thread
        index.spans_of(0)
    rows = trace_rows(index)
    # What was just built lives as long as the index: keep it out of the cyclic collector's
    # full passes, which would otherwise rescan it, pausing the UI, again and again.
    gc.freeze()
    return index, rows


def search_texts(index: SpanIndex, cancelled: Callable[[], bool] = lambda: False
                 ) -> tuple[list[str], list[str], list[str]]:
    """Per trace index: lower-case search text (services and operations of every span, the
    root span's attributes and resource), the trace's services as "\\x00a\\x00b\\x00", and all
    services sorted. For a background thread: a pass over every span."""
    n = len(index.trace_ids)
    services: list[set[str]] = [set() for _ in range(n)]
    operations: list[set[str]] = [set() for _ in range(n)]
    trace, name, service = index.trace, index.name, index.service
    for row in range(len(index)):
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
    for s in index.traces:
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
