"""Files in, span index out: `load(paths)` reads every input and reports what it skipped."""

from __future__ import annotations

import atexit
import time
from bisect import bisect_right
from collections import Counter
from collections.abc import Callable
from contextlib import ExitStack
from importlib import resources
from pathlib import Path

from ..gcpause import paused_gc
from ..index import IndexBuilder, SpanIndex
from ..words import counted
from .jaeger import JaegerLoader
from .json_shapes import JAEGER, ZIPKIN, json_format
from .otlp_json import JsonLoader
from .otlp_proto import ProtoLoader
from .report import FileReport, LoadError, LoadReport
from .sniff import (
    JSON,
    PROTO,
    PROTO_STREAM,
    UTF8_BOM,
    Budget,
    decompress,
    default_max_bytes,
    detect,
    expand_paths,
    read_input,
)
from .zipkin import ZipkinLoader

__all__ = ["load", "decode", "LoadReport", "LoadError", "default_sample", "Progress"]

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
         partial_after: float = 1.0, max_bytes: int | None = None) -> tuple[SpanIndex, LoadReport]:
    """Read every input into one index. With `on_partial`, once loading has taken longer
    than `partial_after` seconds, it is handed an index of what is loaded so far (once:
    each snapshot costs a pass over the rows). `max_bytes` bounds what one input may
    inflate to (default: `sniff.default_max_bytes()`). Never raises for bad input: what
    cannot be read is in the report, one line naming its input."""
    report = report or LoadReport()
    builder = IndexBuilder()
    names = expand_paths(paths)
    if on_partial is not None:
        progress = _with_partial(builder, progress, on_partial, partial_after)
    if progress is not None:
        progress = _passing_through(progress)
    firsts: list[int] = []  # each input's first row
    with paused_gc(freeze=True):
        try:
            for done, name in enumerate(names):
                firsts.append(len(builder))
                load_one(name, builder, report, progress, done, len(names), max_bytes)
        except _CallbackRaised as e:
            raise e.error from None
        index = builder.build()
    report_duplicates(report, builder.duplicates, firsts, report.files[-len(names):] if names else [])
    report.spans = len(index)
    report.traces = sum(1 for s in index.traces if s.spans)  # a file given up leaves none
    return index, report


class _CallbackRaised(BaseException):
    """What the caller's own callback raised (e.g. a cancelled load): passed through, never
    reported as an input's failure."""

    def __init__(self, error: BaseException) -> None:
        self.error = error


def _passing_through(progress: Progress) -> Progress:
    def call(name: str, done: int, size: int, files_done: int, files: int) -> None:
        try:
            progress(name, done, size, files_done, files)
        except BaseException as e:
            raise _CallbackRaised(e) from e

    return call


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


DUPLICATES = "duplicate spans (already loaded)"


def report_duplicates(report: LoadReport, rows: list[int], firsts: list[int],
                      files: list[FileReport]) -> None:
    """Count duplicate rows (numbered before they were dropped) against the inputs they
    came from, `firsts` being each input's first row."""
    per_file = Counter(bisect_right(firsts, r) - 1 for r in rows)
    for i, k in sorted(per_file.items()):
        f = files[i]
        f.spans -= k
        report.skip(DUPLICATES, f.name,
                    f"{counted(k, 'span')} already loaded (same trace and span id)",
                    count=k)


def load_one(name: str, builder: IndexBuilder, report: LoadReport,
             progress: Progress | None = None, done: int = 0, total: int = 1,
             max_bytes: int | None = None) -> None:
    label = "<stdin>" if name == "-" else name
    f = report.file(label)
    budget = Budget(default_max_bytes() if max_bytes is None else max_bytes)
    try:
        data = read_input(name, budget, _trailing_data_warning(report, label))
    except Exception as e:  # noqa: BLE001 - whatever went wrong, one line naming the input
        f.spans = 0
        report.fail(f, failure_message(e))
        if progress is not None:
            progress(label, 1, 1, done + 1, total)
        return
    load_data(data, f, builder, report, progress, done, total, budget=budget)


def load_data(data: bytes | bytearray, f: FileReport, builder: IndexBuilder, report: LoadReport,
              progress: Progress | None = None, done: int = 0, total: int = 1,
              rows: int | None = None, fmt: str | None = None,
              budget: Budget | None = None) -> None:
    """Decoded bytes of one input into `builder`, its format told from its content unless
    `fmt` says it; what was wrong goes to `report` (a whole input that cannot be read:
    `f.error`). Never raises for bad data."""
    label = f.name
    rows = len(builder) if rows is None else rows
    try:
        size = len(data)
        tick = None
        if progress is not None:
            progress(label, 0, size, done, total)

            def tick(pos: int) -> None:
                progress(label, pos, size, done, total)

        if fmt is None:
            fmt = detect(data)
        if fmt == JSON:
            loader = {JAEGER: JaegerLoader, ZIPKIN: ZipkinLoader}.get(json_format(data), JsonLoader)
            loader(builder, report, f, tick).load(data)
        elif fmt == PROTO:
            ProtoLoader(builder, report, f, tick, budget).load_message(data)
        elif fmt == PROTO_STREAM:
            ProtoLoader(builder, report, f, tick, budget).load_stream(data)
        del data
        if not f.spans and not f.noted:  # every input that gave nothing is named
            report.note(f, _why_no_spans(f))
    except Exception as e:  # noqa: BLE001 - whatever went wrong, one line naming the input
        builder.truncate(rows)
        f.spans = 0
        report.fail(f, failure_message(e))
    if progress is not None:
        progress(label, 1, 1, done + 1, total)


def decode(data: bytes, label: str, report: LoadReport,
           fmt: str | None = None, max_bytes: int | None = None) -> tuple[IndexBuilder, FileReport]:
    """One input already in memory (a request body, a fetched blob: any format, gzip or
    zstd; with `fmt`, that format as it is) into a fresh IndexBuilder, ready for
    `SpanIndex.append`. Bad records are
    skipped and counted in `report`; an input that cannot be read at all sets the
    returned FileReport's `error` and leaves the builder empty. Never raises for bad data."""
    builder = IndexBuilder()
    f = report.file(label)
    budget = Budget(default_max_bytes() if max_bytes is None else max_bytes)
    if fmt is None:
        try:
            data = decompress(data, budget, _trailing_data_warning(report, label))
        except Exception as e:  # noqa: BLE001 - one line for the input, never a traceback
            report.fail(f, failure_message(e))
            return builder, f
        if data.startswith(UTF8_BOM):
            data = data[len(UTF8_BOM):]
    with paused_gc():
        load_data(data, f, builder, report, fmt=fmt, budget=budget)
    return builder, f


def _trailing_data_warning(report: LoadReport, label: str) -> Callable[[str], None]:
    return lambda text: report.warn("inputs with trailing data after their compressed stream",
                                    label, text)


def _why_no_spans(f: FileReport) -> str:
    if f.skipped:
        return f"no span could be read ({counted(f.skipped, 'bad record')} skipped)"
    if f.ignored:
        return "no trace data (only other signals' records)"
    return "no spans in this input"


def failure_message(e: BaseException) -> str:
    """One line for the user, whatever a loader raised (the CLI and the TUI never show a
    traceback for bad input)."""
    import zlib

    import msgspec
    from google.protobuf.message import DecodeError as ProtoDecodeError

    if isinstance(e, LoadError):
        return str(e)
    if isinstance(e, MemoryError):
        return "not enough memory to read this input (a smaller --max-bytes stops sooner)"
    if isinstance(e, RecursionError):
        return "nested too deeply to read"
    detail = _short(e)
    if isinstance(e, msgspec.DecodeError):
        return f"not valid JSON ({detail})"
    if isinstance(e, ProtoDecodeError):
        return f"corrupt protobuf ({detail})"
    if isinstance(e, zlib.error | EOFError):
        return f"corrupt gzip data ({detail})"
    if type(e).__module__.startswith("zstandard"):
        return f"corrupt zstd data ({detail})"
    if isinstance(e, UnicodeError):
        return f"invalid text encoding ({detail})"
    if isinstance(e, OSError):
        return f"cannot read: {e.strerror or detail}"
    return f"could not be read (internal error: {type(e).__name__}: {detail})"


def _short(e: BaseException) -> str:
    text = str(e).strip().splitlines()
    return text[0][:160] if text else type(e).__name__
