"""Files in, span index out: `load(paths)` reads every input and reports what it skipped."""

from __future__ import annotations

import atexit
import time
from collections.abc import Callable
from contextlib import ExitStack
from importlib import resources
from pathlib import Path

from ..gcpause import paused_gc
from ..index import IndexBuilder, SpanIndex
from .otlp_json import JsonLoader
from .otlp_proto import ProtoLoader
from .report import LoadError, LoadReport
from .sniff import JSON, PROTO, PROTO_STREAM, detect, expand_paths, read_input

__all__ = ["load", "LoadReport", "LoadError", "default_sample", "Progress"]

# progress(file name, bytes done, bytes in this file, files done, files in all)
Progress = Callable[[str, int, int, int, int], None]


SAMPLE = "checkout-async.otlp.json"
_extracted = ExitStack()  # only used when the package is installed as a zip
atexit.register(_extracted.close)


def default_sample(name: str = SAMPLE) -> Path:
    """The bundled sample, opened when trace-tui is given no file: package data
    (async_trace_tui/sample/, written by sample_data/generate.py), so that it is there after a
    plain `pip install .` as well as in a checkout."""
    found = resources.files("async_trace_tui").joinpath("sample", name)
    if isinstance(found, Path):
        return found
    # Installed as a zip: the loader reads paths, so extract it for this process.
    return _extracted.enter_context(resources.as_file(found))


def load(paths: list[str], progress: Progress | None = None,
         report: LoadReport | None = None,
         on_partial: Callable[[SpanIndex], None] | None = None,
         partial_after: float = 1.0) -> tuple[SpanIndex, LoadReport]:
    """Read every input into one index. With `on_partial`, once loading has taken longer
    than `partial_after` seconds, it is handed an index of what is loaded so far (once:
    each snapshot costs a pass over the rows)."""
    report = report or LoadReport()
    builder = IndexBuilder()
    names = expand_paths(paths)
    if on_partial is not None:
        progress = _with_partial(builder, progress, on_partial, partial_after)
    with paused_gc(freeze=True):
        for done, name in enumerate(names):
            load_one(name, builder, report, progress, done, len(names))
        index = builder.build()
    report.spans = len(index)
    report.traces = len(index.trace_ids)
    return index, report


def _with_partial(builder: IndexBuilder, progress: Progress | None,
                  on_partial: Callable[[SpanIndex], None], after: float) -> Progress:
    started = time.monotonic()
    sent = False

    def tick(name: str, done: int, size: int, files_done: int, files: int) -> None:
        nonlocal sent
        if progress is not None:
            progress(name, done, size, files_done, files)
        if not sent and len(builder) and time.monotonic() - started > after:
            sent = True
            on_partial(builder.snapshot())

    return tick


def load_one(name: str, builder: IndexBuilder, report: LoadReport,
             progress: Progress | None = None, done: int = 0, total: int = 1) -> None:
    label = "<stdin>" if name == "-" else name
    f = report.file(label)
    rows = len(builder)
    try:
        data = read_input(name)
        size = len(data)
        tick = None
        if progress is not None:
            progress(label, 0, size, done, total)

            def tick(pos: int) -> None:
                progress(label, pos, size, done, total)

        fmt = detect(data)
        if fmt == JSON:
            JsonLoader(builder, report, f, tick).load(data)
        elif fmt == PROTO:
            ProtoLoader(builder, report, f, tick).load_message(data)
        elif fmt == PROTO_STREAM:
            ProtoLoader(builder, report, f, tick).load_stream(data)
    except LoadError as e:
        builder.truncate(rows)
        f.spans = 0
        report.fail(f, str(e))
    except RecursionError:
        builder.truncate(rows)
        f.spans = 0
        report.fail(f, "nested too deeply to read")
    except MemoryError:
        builder.truncate(rows)
        f.spans = 0
        report.fail(f, "not enough memory to read this file")
    if progress is not None:
        progress(label, 1, 1, done + 1, total)
