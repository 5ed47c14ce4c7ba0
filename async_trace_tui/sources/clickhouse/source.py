"""ClickHouse's `otel_traces` (a server, or chDB in-process) as a source: fetched on demand.

Nothing is loaded whole. The Traces table is one aggregate query over the window, a page at
a time. A view's spans come a trace at a time (`TraceId IN ...`, bounded by the exporter's
`_trace_id_ts` lookup table when it exists). A trace is *expanded* once three things are
known: all its spans, the spans anywhere that link to one of them (a link's SpanId among
theirs, from 1 h before the trace to 24 h after it) and every trace its spans link to. A view
node can be expanded when all its rows' traces are; `pending`/`fetch` say and do that.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from ...index import IndexBuilder
from ...views.traces import SORT_KEYS, TraceRow
from ..base import Progress, Source, SourceError
from ..window import format_ns, parse_window
from .backend import Backend, connect
from .schema import Schema, schema
from .service_map import map_json
from .spans import SpanRows, select_list
from .target import Target, parse_target
from .traces import IN_WINDOW, SECOND, TraceTable

HOUR_NS = 3600 * 1_000_000_000
BACK_NS, AHEAD_NS = HOUR_NS, 24 * HOUR_NS  # the window of a reverse-link lookup
CHUNK = 1000  # ids per IN (...) list
# A span of service {svc} and operation {op} (unknown_service: an empty ServiceName).
_OF_OPERATION = ("SpanName = {op:String} AND (ServiceName = {svc:String} "
                 "OR ({svc:String} = 'unknown_service' AND ServiceName = ''))")


class ClickHouseSource(Source):
    lazy = True

    def __init__(self, spec: str, since: str | None = None, until: str | None = None,
                 limit: int = 1000, now_ns: int | None = None) -> None:
        super().__init__()
        self.target: Target = parse_target(spec)
        self.label = str(self.target)
        self.window = parse_window(since, until, now_ns)
        self.limit = limit
        self.backend: Backend | None = None
        self.columns: set[str] = set()
        self._schema: Schema | None = None
        self.traces = TraceTable(self._rows, self.target, self.window)
        self._builder = IndexBuilder()
        self._spans = SpanRows(self._builder, self.report)
        self._complete: set[bytes] = set()
        self._expanded: set[bytes] = set()
        self._lock = threading.RLock()  # one fetch at a time changes the index

    # -- opening ---------------------------------------------------------------------------

    def connect(self) -> None:
        """Reach the store and check the table (its columns, the lookup table)."""
        if self.backend is not None:
            return
        backend = connect(self.target)
        try:
            found = schema(backend, self.target)
        except SourceError:
            backend.close()
            raise
        self.columns = found.columns
        self._schema = found
        self.backend = backend

    @property
    def has_lookup(self) -> bool:
        return self._schema is not None and self._schema.has_lookup

    def _lookup_failed(self) -> None:
        if self._schema is not None:
            self._schema.has_lookup = False  # dropped meanwhile, or unreadable: do without

    def open(self, progress: Progress | None = None,
             preview: Callable[[list[TraceRow]], None] | None = None,
             phase: Callable[[str], None] | None = None,
             cancelled: Callable[[], bool] = lambda: False) -> list[TraceRow]:
        if phase is not None:
            phase(f"connecting to {self.label}…")
        self.connect()
        if phase is not None:
            phase(f"reading the traces of {format_ns(self.window[0])} - {format_ns(self.window[1])}…")
        rows = self.trace_rows(reverse=True)  # newest first: the first screen
        self.report.traces = len(rows)
        return rows

    def report_lines(self) -> list[str]:
        lo, hi = self.window
        lines = [f"{self.label}: traces from {format_ns(lo)} to {format_ns(hi)}"]
        if self.report.skipped or self.report.warnings:
            lines.append(self.report.summary())
        return lines + self.report.messages

    def close(self) -> None:
        if self.backend is not None:
            self.backend.close()
            self.backend = None

    def _rows(self, sql: str, params: dict[str, Any] | None = None) -> list[list[Any]]:
        if self.backend is None:
            self.connect()
        assert self.backend is not None
        return self.backend.rows(sql, params)

    # -- the Traces table --------------------------------------------------------------------

    @property
    def paged(self) -> bool:
        return True

    def _window_params(self) -> dict[str, Any]:
        return {"lo": self.window[0], "hi": self.window[1]}

    _IN_WINDOW = IN_WINDOW

    def trace_rows(self, query: str = "", sort: str = "start", reverse: bool = False,
                   offset: int = 0, limit: int | None = None) -> list[TraceRow]:
        """A page of traces (see traces.TraceTable); `reverse` True is newest first (the
        TUI), False ascending like the file source."""
        if sort not in SORT_KEYS:
            raise ValueError(f"unknown sort key {sort!r}")
        return self.traces.page(query, sort, reverse, offset,
                                self.limit if limit is None else limit)

    def _links_in_join(self) -> str:
        return self.traces.links_in_join()

    # -- spans on demand ---------------------------------------------------------------------

    def _span_sql(self, where: str) -> str:
        return f"SELECT {select_list(self.columns)} FROM {self.target.qualified} WHERE {where}"

    def _fetch_traces(self, trace_ids: Iterable[bytes]) -> int:
        """Every span of these traces (those not complete yet); returns spans added."""
        todo = sorted({t for t in trace_ids if t not in self._complete})
        added = 0
        for lo in range(0, len(todo), CHUNK):
            chunk = [t.hex() for t in todo[lo:lo + CHUNK]]
            params: dict[str, Any] = {"ids": chunk}
            where = "TraceId IN {ids:Array(String)}"
            bounds = self._lookup_bounds(chunk) if self.has_lookup else None
            if bounds is not None:
                # The lookup's seconds as DateTime64 (nanoseconds): against a DateTime, the
                # engine's min-max pruning turns `< second + 1` into `<= second` and drops
                # parts that begin inside the trace's last second (new, small parts).
                params["from"], params["to"] = bounds[0] * SECOND, (bounds[1] + 1) * SECOND
                where += (" AND Timestamp >= fromUnixTimestamp64Nano({from:Int64})"
                          " AND Timestamp < fromUnixTimestamp64Nano({to:Int64})")
            added += self._spans.add(self._rows(self._span_sql(where), params))
            self._complete.update(todo[lo:lo + CHUNK])
        return added

    def _lookup_bounds(self, ids: list[str]) -> tuple[int, int] | None:
        """Seconds bounding these traces' spans, from the lookup table; None when it does
        not know them all (a view added after the data, or rows not merged yet)."""
        try:
            found = self._rows(
                f"SELECT toUnixTimestamp(min(Start)), toUnixTimestamp(max(End)), uniqExact(TraceId) "
                f"FROM {self.target.lookup} WHERE TraceId IN {{ids:Array(String)}}", {"ids": ids})
        except SourceError:
            self._lookup_failed()
            return None
        if not found or int(found[0][2]) < len(ids):
            return None
        return int(found[0][0]), int(found[0][1])

    def _fetch_linkers(self, trace_ids: list[bytes]) -> int:
        """The spans that link to any span of these (complete) traces."""
        spans = self._spans
        added = 0
        ids = [s for t in trace_ids for s in spans.span_ids.get(t, ())]
        if not ids:
            return 0
        lo = min(spans.bounds[t][0] for t in trace_ids if t in spans.bounds) - BACK_NS
        hi = max(spans.bounds[t][1] for t in trace_ids if t in spans.bounds) + AHEAD_NS
        for at in range(0, len(ids), CHUNK * 10):
            params = {"sids": ids[at:at + CHUNK * 10], "lo": lo, "hi": hi}
            # Most spans link nowhere: their empty arrays are passed over first. An IN test
            # per element beats hasAny against thousands of constants.
            where = (self._IN_WINDOW + " AND notEmpty(`Links.SpanId`) "
                     "AND arrayExists(s -> s IN {sids:Array(String)}, `Links.SpanId`)")
            added += spans.add(self._rows(self._span_sql(where), params))
        return added

    def _expand(self, trace_ids: set[bytes]) -> None:
        todo = [t for t in trace_ids if t not in self._expanded]
        if not todo:
            return
        self._fetch_traces(todo)
        self._fetch_linkers(todo)
        targets = set().union(*(self._spans.targets.get(t, set()) for t in todo))
        self._fetch_traces(targets)
        self._expanded.update(todo)

    def _publish(self) -> None:
        """A new index of everything fetched (rows keep their numbers: the builder only
        grows), handed over whole so a reader never sees one half-made."""
        self.index = self._builder.snapshot()
        self.report.spans = len(self.index)

    # -- the Source interface -------------------------------------------------------------------

    def pending(self, rows: Iterable[int]) -> bool:
        index = self.index
        expanded = self._expanded
        return any(index.trace_ids[index.trace[r]] not in expanded for r in rows)

    def fetch(self, rows: Iterable[int]) -> None:
        index = self.index
        tids = {index.trace_ids[index.trace[r]] for r in rows}
        self.fetch_traces(tids)

    def fetch_traces(self, trace_ids: Iterable[bytes]) -> None:
        """Expand these traces (their spans, who links to them, what they link to)."""
        with self._lock:
            before = len(self._builder)
            self._expand(set(trace_ids))
            if len(self._builder) != before or not len(self.index):
                self._publish()

    def ensure_trace(self, trace_id: bytes) -> int | None:
        with self._lock:
            if trace_id not in self._complete:
                if self._fetch_traces([trace_id]):
                    self._publish()
        return self.index.trace_index.get(trace_id)

    def find_span(self, span_id: bytes, trace_id: bytes | None = None) -> list[int]:
        if trace_id is not None:
            self.ensure_trace(trace_id)
        else:
            params = self._window_params()
            params["sid"] = span_id.hex()
            found = self._rows(f"SELECT DISTINCT TraceId FROM {self.target.qualified} "
                               f"WHERE {self._IN_WINDOW} AND SpanId = {{sid:String}} LIMIT 100",
                               params)
            with self._lock:
                ids = [b for r in found if (b := _unhex(r[0])) is not None]
                if self._fetch_traces(ids):
                    self._publish()
        return super().find_span(span_id, trace_id)

    def first_trace(self) -> int | None:
        first = self.trace_rows(sort="start", limit=1)
        if not first:
            return None
        tid = _unhex(first[0].trace_id)
        return None if tid is None else self.ensure_trace(tid)

    def operation_starts(self, text: str) -> tuple[tuple[str, str], list[int]] | None:
        """The spans of the operation in the window, found in SQL (the newest `--limit` of
        them when there are more: said in the report), their traces fetched."""
        text = text.strip()
        found = None
        at = text.find(" ")
        while at > 0:  # the longest service name that has the operation, as parse_operation
            service, operation = text[:at], text[at + 1:].strip()
            if self._rows(f"SELECT 1 FROM {self.target.qualified} WHERE {self._IN_WINDOW} "
                          f"AND {_OF_OPERATION} LIMIT 1", self._op_params(service, operation)):
                found = (service, operation)
            at = text.find(" ", at + 1)
        if found is None:
            return None
        rows, note = self._starts_of(*found)
        if note:
            self.report.messages.append(f"--flow --op: {note}")
        return found, rows

    def operation_roots(self, service: str, operation: str) -> tuple[list[int], str]:
        """The spans of the operation without a parent in the window (trace roots), found
        with --flow --op's query (the newest `--limit`), their traces fetched."""
        return self._starts_of(service, operation, roots=True)

    def _starts_of(self, service: str, operation: str,
                   roots: bool = False) -> tuple[list[int], str]:
        params = self._op_params(service, operation)
        params["n"] = self.limit
        only = " AND ParentSpanId = ''" if roots else ""
        # Grouped by the ids: a span stored twice (an exporter's retry) is one start.
        spans = self._rows(f"SELECT TraceId, SpanId, max(Timestamp) AS ts, count() OVER () "
                           f"FROM {self.target.qualified} "
                           f"WHERE {self._IN_WINDOW} AND {_OF_OPERATION}{only} "
                           f"GROUP BY TraceId, SpanId ORDER BY ts DESC LIMIT {{n:UInt64}}", params)
        note = ""
        if spans and int(spans[0][3]) > len(spans):
            note = (f"the newest {len(spans):,} of the {int(spans[0][3]):,} "
                    f"{'roots' if roots else 'spans'} of the operation in the window (--limit)")
        ids = [(t, s) for r in spans if (t := _unhex(r[0])) and (s := _unhex(r[1]))]
        self.fetch_traces({t for t, _ in ids})
        index = self.index
        rows = [r for t, s in ids for r in index.find_span(s) if index.trace_id_of(r) == t]
        rows.sort(key=index.start.__getitem__)
        return rows, note

    def _op_params(self, service: str, operation: str) -> dict[str, Any]:
        params = self._window_params()
        params["svc"], params["op"] = service, operation
        return params

    @property
    def window_label(self) -> str:
        """The window as the screen says it (what a store's aggregates cover)."""
        lo, hi = self.window
        return f"window {format_ns(lo)} to {format_ns(hi)}"

    def service_map_json(self, by: str = "service") -> dict[str, Any]:
        """The §9 map of the window, as SQL aggregates (service_map.py): `--map` reads it."""
        return map_json(self._rows, self.target.qualified, self.window, by)

    def ids_matching(self, kind: str, prefix: str, suffix: str = "",
                     trace_id: bytes | None = None, limit: int = 11) -> list[bytes]:
        col = "TraceId" if kind == "trace" else "SpanId"
        params = self._window_params()
        params.update(p=prefix, s=suffix, n=limit)
        where = (f"{self._IN_WINDOW} AND startsWith(lower({col}), {{p:String}}) "
                 f"AND endsWith(lower({col}), {{s:String}})")
        if trace_id is not None:
            params["tid"] = trace_id.hex()
            where += " AND TraceId = {tid:String}"
        found = self._rows(f"SELECT DISTINCT lower({col}) AS id FROM {self.target.qualified} "
                           f"WHERE {where} ORDER BY id LIMIT {{n:UInt64}}", params)
        return [b for r in found if (b := _unhex(r[0])) is not None]

    def busiest_trace(self) -> int | None:
        """As the base class says, among the Traces table's first page (the newest
        `--limit` traces of the window: one cheap query where grouping a whole window of
        10M spans took seconds); `busiest_scope` says so when the window holds more."""
        rows = self.trace_rows(reverse=True)
        if not rows:
            return None
        if len(rows) >= self.limit:
            self.busiest_scope = f"of the newest {len(rows):,} traces of the window (--limit)"
        best = min(rows, key=lambda r: (-(r.links_in + r.links_out), -r.spans, r.start_ns,
                                        r.trace_id))
        tid = _unhex(best.trace_id)
        return None if tid is None else self.ensure_trace(tid)

    def trace_of_row(self, row: TraceRow) -> int | None:
        """The index of a Traces-table row's trace, fetched (for the TUI's enter/o)."""
        tid = _unhex(row.trace_id)
        return None if tid is None else self.ensure_trace(tid)


def _unhex(text: str) -> bytes | None:
    try:
        return bytes.fromhex(text)
    except ValueError:
        return None


def open_clickhouse(specs: Sequence[str], **kw: Any) -> ClickHouseSource:
    if len(specs) != 1:
        raise SourceError("a clickhouse:// or chdb: source is read alone (one per run)")
    return ClickHouseSource(specs[0], **kw)
