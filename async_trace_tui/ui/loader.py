"""Loading for the TUI: files through `FileSource.open` (throttled progress, early rows, a
warm index). The Traces table's full-text search: views/search.py.

Nothing here imports Textual: callers pass plain callbacks, called from the loading thread.
"""

from __future__ import annotations

from collections.abc import Callable

from ..index import SpanIndex
from ..loading.report import LoadReport
from ..sources import Cancelled, FileSource
from ..views.traces import TraceRow

__all__ = ["Cancelled", "load_for_ui"]

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
