"""The one interface every view reads spans through, whatever holds them.

A `Source` hands the views a span index (`index`: what is known so far) and the Traces
table's rows. A file source has every span from the start: its fetches do nothing. A store
(ClickHouse) fetches on demand: before a view is built or a node expanded, the caller asks
`pending(rows)` and, when true, runs `fetch(rows)` off the UI thread (it blocks on the
network), shows `fetching…`, then reads `index` again (it may be a new, larger object: rows
already known keep their numbers, so nodes made earlier stay valid).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

from ..index import SpanIndex
from ..loading.report import LoadReport
from ..views.traces import SORT_KEYS, TraceRow

# progress(label, done, size, files done, files)
Progress = Callable[[str, int, int, int, int], None]


class SourceError(Exception):
    """A fetch failed (server down, bad credentials, unknown table...): one line for the user."""


def failure(work: Callable[[], object]) -> str:
    """Run `work` (a fetch, off the UI thread): "" when it went well, else one line for the
    user (a store's SourceError as it is, anything else named: never a traceback on screen)."""
    try:
        work()
    except SourceError as e:
        return str(e)
    except Exception as e:  # shown as one line: the screen stays
        return f"{type(e).__name__}: {e}"
    return ""


class Cancelled(Exception):
    """The caller went away while the source was opening."""


class Source:
    """Spans from somewhere. Subclasses: `FileSource`, `ClickHouseSource`."""

    #: True when spans are fetched on demand (`pending`/`fetch` matter).
    lazy = False
    #: Name shown for the source (a file list, a URL without its password).
    label = ""
    #: What `busiest_trace` chose among, when not everything (said with the choice).
    busiest_scope = ""

    def __init__(self) -> None:
        self.report = LoadReport()
        self.index: SpanIndex = _empty_index()

    # -- opening ---------------------------------------------------------------------------

    def open(self, progress: Progress | None = None,
             preview: Callable[[list[TraceRow]], None] | None = None,
             phase: Callable[[str], None] | None = None,
             cancelled: Callable[[], bool] = lambda: False) -> list[TraceRow]:
        """Read what the first screen needs (blocking: call it from a worker); returns the
        Traces table's first rows. Problems go to `report`; SourceError when nothing can be
        read at all."""
        raise NotImplementedError

    # -- the Traces table --------------------------------------------------------------------

    def trace_rows(self, query: str = "", sort: str = "start", reverse: bool = False,
                   offset: int = 0, limit: int | None = None) -> list[TraceRow]:
        """One page of the Traces table: traces whose services or operations contain `query`
        (`service:NAME`: traces with a span of that service), sorted, from `offset`."""
        if sort not in SORT_KEYS:
            raise ValueError(f"unknown sort key {sort!r}")
        raise NotImplementedError

    @property
    def paged(self) -> bool:
        """Whether the Traces table comes a page at a time (ask `trace_rows` for more)."""
        return False

    # -- what a view needs before it is built -------------------------------------------------

    def pending(self, rows: Iterable[int]) -> bool:
        """Whether expanding a node made of these rows needs a fetch first."""
        return False

    def fetch(self, rows: Iterable[int]) -> None:
        """Fetch what expanding these rows needs (their traces, who links to them, what they
        link to). Blocking; raises SourceError."""

    def ensure_trace(self, trace_id: bytes) -> int | None:
        """The trace's index in `index`, fetching it first if needed; None if it is unknown."""
        return self.index.trace_index.get(trace_id)

    def find_span(self, span_id: bytes, trace_id: bytes | None = None) -> list[int]:
        """Rows with this span id (in that trace), fetching their traces first if needed."""
        index = self.index
        rows = index.find_span(span_id)
        if trace_id is not None:
            t = index.trace_index.get(trace_id)
            rows = [r for r in rows if index.trace[r] == t]
        return rows

    def ids_matching(self, kind: str, prefix: str, suffix: str = "",
                     trace_id: bytes | None = None, limit: int = 11) -> list[bytes]:
        """Distinct trace ids (`kind` "trace") or span ids ("span"; of `trace_id` only when
        given) whose lower-case hex starts with `prefix` and ends with `suffix`: at most
        `limit`, sorted (headless --trace/--span take a prefix, SPEC §5)."""
        index = self.index
        if kind == "trace":
            pool: Sequence[bytes] = index.trace_ids
        elif trace_id is not None:
            t = index.trace_index.get(trace_id)
            span_id = index.span_id
            pool = [] if t is None else [span_id[r] for r in index.spans_of(t)]
        else:
            pool = index.span_id
        return match_ids(pool, prefix, suffix, limit)

    def busiest_trace(self) -> int | None:
        """The trace headless output opens on when none is named: the most async links (in
        and out), then the most spans, then the earliest."""
        best = min((s for s in self.index.traces if s.spans), default=None,
                   key=lambda s: (-(s.links_in + s.links_out), -s.spans, s.start, s.trace_id))
        return None if best is None else best.index

    def operation_starts(self, text: str) -> tuple[tuple[str, str], list[int]] | None:
        """`--flow --op 'SERVICE OPERATION'`: the (service, operation) the text names and
        every span of it, by start time (a store fetches their traces); None if no span
        has it."""
        from ..views.flow import parse_operation, spans_of_operation

        found = parse_operation(self.index, text)
        return None if found is None else (found, spans_of_operation(self.index, *found))

    def operation_roots(self, service: str, operation: str) -> tuple[list[int], str]:
        """The roots of every trace whose root has this service and operation, by start
        time (a store finds them in SQL and fetches their traces: call it off the UI
        thread), and a note when not all of them are there ("" here)."""
        from ..views.flow import roots_of_operation

        return roots_of_operation(self.index, service, operation), ""

    def first_trace(self) -> int | None:
        """The trace a view opens on when none is named: the earliest one."""
        traces = [s for s in self.index.traces if s.spans]
        return min(traces, key=lambda s: s.start).index if traces else None

    def report_lines(self) -> list[str]:
        """What the CLI prints to stderr after opening."""
        return self.report.lines()

    def close(self) -> None:
        """Let go of connections."""


def _empty_index() -> SpanIndex:
    from ..index import IndexBuilder

    return IndexBuilder().build()


def match_ids(pool: Sequence[bytes], prefix: str, suffix: str, limit: int) -> list[bytes]:
    """The distinct ids of `pool` whose hex starts with `prefix` and ends with `suffix`."""
    head = bytes.fromhex(prefix[:len(prefix) // 2 * 2])
    found = {b for b in pool if b.startswith(head)}  # the whole bytes first: at C speed
    if len(prefix) % 2 or suffix:
        found = {b for b in found if (h := b.hex()).startswith(prefix) and h.endswith(suffix)}
    return sorted(found)[:limit]


def filter_rows(rows: Sequence[Any], query: str) -> list[Any]:
    """The Traces table's quick filter over rows already in memory (root service and
    operation; `service:NAME` for the root service)."""
    q = query.strip().lower()
    if not q:
        return list(rows)
    if q.startswith("service:"):
        name = q[len("service:"):].strip()
        return [r for r in rows if r.root_service.lower() == name]
    return [r for r in rows if q in r.root_service.lower() or q in r.root_operation.lower()]
