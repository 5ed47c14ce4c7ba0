"""The Traces table of a ClickHouse source: one aggregate over the window, a page at a time.

A trace's row (start, root, duration, spans, errors, links out) is a GROUP BY TraceId over
its spans in the window. Grouping a whole window (an hour of a busy table is 40,000 traces)
costs seconds, so the table's usual orders do not:

- **Newest first** (the first screen): the traces that start last have every span at the
  end of the window. The aggregate runs over a *slice* [cut, until] of whole seconds; a
  trace found there that also has spans in [since, cut) (one look at that part of the
  table's TraceId column tells) started earlier, so it ranks below every trace wholly
  inside the slice and is set aside. When the traces wholly inside are enough for the page,
  their rows are exact (all their spans are in the slice); otherwise the slice grows until
  it is the window.
- **Oldest first**: every trace that starts by `cut` has a span in [since, cut], where its
  earliest span is: the page's ids come from a slice at the start, then one aggregate over
  the window, from the page's first start on, for those ids only.

Other orders (duration, spans, errors, links, names) and a filter with oldest first group
the window. `links_in` (links from spans in the window that resolve to a span of the trace)
is counted for the page's traces only, except when it is the order.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ...views.traces import SORT_KEYS, TraceRow
from .target import Target

SECOND = 1_000_000_000
SLICES = 32  # the first slice is this fraction of the window
ERROR = "upper(toString(StatusCode)) IN ('ERROR', 'STATUS_CODE_ERROR')"
VALID_LINK = ("(t, s) -> length(t) = 32 AND length(s) = 16 "
              "AND t != '00000000000000000000000000000000' AND s != '0000000000000000'")
# A link that hands work on from another trace (views.traces.async_trace_counts): valid
# ids, another trace than the span's own.
HANDOFF = ("(t, s, own) -> length(t) = 32 AND length(s) = 16 AND t != own "
           "AND t != '00000000000000000000000000000000' AND s != '0000000000000000'")
SERVICE = "if(toString(ServiceName) = '', 'unknown_service', toString(ServiceName))"
IN_WINDOW = ("Timestamp >= fromUnixTimestamp64Nano({lo:Int64}) "
             "AND Timestamp <= fromUnixTimestamp64Nano({hi:Int64})")
ORDER = {
    "start": "start_ns", "duration": "duration_ns", "spans": "spans", "errors": "errors",
    "links_out": "links_out", "links_in": "links_in", "trace_id": "TraceId",
    "service": "root_service, root_operation", "operation": "root_operation, root_service",
}
# A span stored twice (an exporter's retry: MergeTree keeps both rows) counts once, as a
# file load drops it (SPEC §1): counts are of distinct span ids, a span's links counted from
# one of its copies (the spans with links are few: their (id, count) pairs are kept apart).
SPANS = "uniqExact(SpanId)"
ERRORS = f"uniqExactIf(SpanId, {ERROR})"
LINKS_OUT = (f"arraySum(arrayMap(x -> x.2, groupUniqArrayIf((SpanId, "
             f"arrayCount({VALID_LINK}, `Links.TraceId`, `Links.SpanId`)), notEmpty(`Links.TraceId`))))")
_ROW = f"""TraceId,
    argMin({SERVICE}, (ParentSpanId != '', Timestamp, SpanId)) AS root_service,
    argMin(toString(SpanName), (ParentSpanId != '', Timestamp, SpanId)) AS root_operation,
    min(toUnixTimestamp64Nano(Timestamp)) AS start_ns,
    max(toUnixTimestamp64Nano(Timestamp) + toInt64(Duration)) - start_ns AS duration_ns,
    {SPANS} AS spans,
    {ERRORS} AS errors,
    {LINKS_OUT} AS links_out,
    length(arrayDistinct(arrayFilter({HANDOFF},
        flatten(groupArray(`Links.TraceId`)), flatten(groupArray(`Links.SpanId`)),
        arrayResize([TraceId], length(flatten(groupArray(`Links.TraceId`))), TraceId))))
        AS async_from"""

Run = Callable[[str, dict[str, Any]], list[list[Any]]]


def having(query: str, params: dict[str, Any]) -> str:
    """The `/` filter as a HAVING clause over a trace's spans, as the TUI filters files: a
    span of that service (`service:NAME`), or text in a span's service or operation, or in
    a root span's attributes or resource as `key=value`."""
    q = query.strip().lower()
    if q.startswith("service:"):
        params["svc"] = q[len("service:"):].strip()
        return f"HAVING countIf(lower({SERVICE}) = {{svc:String}}) > 0"
    if q:
        params["q"] = q
        return ("HAVING countIf(positionCaseInsensitiveUTF8(toString(ServiceName), {q:String}) > 0 "
                "OR positionCaseInsensitiveUTF8(toString(SpanName), {q:String}) > 0 "
                f"OR (ParentSpanId = '' AND ({_items_match('SpanAttributes')} "
                f"OR {_items_match('ResourceAttributes')}))) > 0")
    return ""


def _items_match(column: str) -> str:
    return (f"arrayExists((k, v) -> positionCaseInsensitiveUTF8(concat(k, '=', v), {{q:String}}) > 0, "
            f"mapKeys({column}), mapValues({column}))")


class TraceTable:
    """Pages of the Traces table over one window; `run(sql, params)` runs a query."""

    def __init__(self, run: Run, target: Target, window: tuple[int, int]) -> None:
        self.run = run
        self.table = target.qualified
        self.window = window

    def page(self, query: str, sort: str, reverse: bool, offset: int, limit: int) -> list[TraceRow]:
        if sort not in SORT_KEYS:
            raise ValueError(f"unknown sort key {sort!r}")
        params: dict[str, Any] = {}
        filt = having(query, params)
        if sort == "start" and reverse:
            found = self._newest(filt, params, offset, limit)
        elif sort == "start" and not filt:
            found = self._oldest(offset, limit)
        else:
            found = self._grouped(filt, params, sort, reverse, offset, limit)
        counts, went_to = self.links_in(found)
        if sort == "links_in":
            return [_row(r, int(r[9]), went_to.get(r[0], 0)) for r in found]
        return [_row(r, counts.get(r[0], 0), went_to.get(r[0], 0)) for r in found]

    # -- newest first: a slice at the end of the window ----------------------------------------

    def _newest(self, filt: str, params: dict[str, Any], offset: int, limit: int) -> list[list[Any]]:
        lo, hi = self.window
        need = offset + limit
        span = max(SECOND, (hi - lo) // SLICES)
        cap = need * 2 + 64
        while True:
            cut = (hi - span) // SECOND * SECOND
            if cut <= lo:
                return self._grouped(filt, params, "start", True, offset, limit)
            found = self.run(
                f"SELECT {_ROW} FROM {self.table} "
                f"WHERE Timestamp >= fromUnixTimestamp64Nano({{cut:Int64}}) "
                f"AND Timestamp <= fromUnixTimestamp64Nano({{hi:Int64}}) AND TraceId != '' "
                f"GROUP BY TraceId {filt} ORDER BY start_ns DESC, TraceId DESC LIMIT {{cap:UInt64}}",
                {**params, "cut": cut, "hi": hi, "cap": cap})
            # The page's share first: fewer ids, fewer granules their bloom filter lets in.
            earlier = self._started_before(cut, [r[0] for r in found[:need + 16]])
            inside = [r for r in found[:need + 16] if r[0] not in earlier]
            if len(inside) < need and len(found) > need + 16:
                rest = found[need + 16:]
                earlier = self._started_before(cut, [r[0] for r in rest])
                inside += [r for r in rest if r[0] not in earlier]
            if len(inside) >= need:
                return inside[offset:need]
            if len(found) >= cap:
                cap *= 4  # the slice holds more traces than were asked for
            else:
                span *= max(4, -(-need * 2 // max(1, len(inside))))

    def _started_before(self, cut: int, ids: list[str]) -> set[str]:
        """Those of `ids` with a span in the window before `cut`. (Not through the lookup
        table: a thousand random trace ids touch every granule of it, a full read, where
        this reads the window's TraceId column once.)"""
        if not ids:
            return set()
        found = self.run(
            f"SELECT DISTINCT TraceId FROM {self.table} "
            f"WHERE Timestamp >= fromUnixTimestamp64Nano({{lo:Int64}}) "
            f"AND Timestamp < fromUnixTimestamp64Nano({{cut:Int64}}) AND TraceId IN {{ids:Array(String)}}",
            {"lo": self.window[0], "cut": cut, "ids": ids})
        return {r[0] for r in found}

    # -- oldest first: the page's ids from a slice at the start ----------------------------------

    def _oldest(self, offset: int, limit: int) -> list[list[Any]]:
        lo, hi = self.window
        need = offset + limit
        span = max(SECOND, (hi - lo) // SLICES)
        while True:
            cut = -(-(lo + span) // SECOND) * SECOND
            if cut >= hi:
                return self._grouped("", {}, "start", False, offset, limit)
            firsts = self.run(
                f"SELECT TraceId, min(toUnixTimestamp64Nano(Timestamp)) AS first FROM {self.table} "
                f"WHERE Timestamp >= fromUnixTimestamp64Nano({{lo:Int64}}) "
                f"AND Timestamp <= fromUnixTimestamp64Nano({{cut:Int64}}) AND TraceId != '' "
                f"GROUP BY TraceId ORDER BY first ASC, TraceId ASC LIMIT {{need:UInt64}}",
                {"lo": lo, "cut": cut, "need": need})
            if len(firsts) >= need:
                page = firsts[offset:need]
                first = min((int(r[1]) for r in page), default=lo)
                return self._rows_of([r[0] for r in page], "start_ns ASC, TraceId ASC", first)
            span *= max(4, -(-need * 2 // max(1, len(firsts))))

    def _rows_of(self, ids: list[str], order: str, first: int) -> list[list[Any]]:
        """The rows of these traces, none of which has a span in the window before `first`."""
        if not ids:
            return []
        return self.run(
            f"SELECT {_ROW} FROM {self.table} WHERE {IN_WINDOW} "
            f"AND TraceId IN {{ids:Array(String)}} GROUP BY TraceId ORDER BY {order}",
            {"lo": first, "hi": self.window[1], "ids": ids})

    # -- any order: the whole window grouped -----------------------------------------------------

    def _grouped(self, filt: str, params: dict[str, Any], sort: str, reverse: bool,
                 offset: int, limit: int) -> list[list[Any]]:
        direction = "DESC" if reverse else "ASC"
        order = ", ".join(f"{c} {direction}" for c in ORDER[sort].split(", "))
        join = extra = ""
        if sort == "links_in":
            join, extra = self.links_in_join(), ", any(li.n) AS links_in"
        return self.run(
            f"SELECT {_ROW}{extra} FROM {self.table} {join} "
            f"WHERE {IN_WINDOW} AND TraceId != '' GROUP BY TraceId {filt} "
            f"ORDER BY {order}, TraceId {direction} LIMIT {{limit:UInt64}} OFFSET {{offset:UInt64}}",
            {**params, "lo": self.window[0], "hi": self.window[1], "limit": limit,
             "offset": offset})

    # -- links in ------------------------------------------------------------------------------

    def _links_in_sql(self, outer: str = "", inner: str = "") -> str:
        """Per trace: the links, from spans in the window, that resolve to one of its spans
        in the window (SPEC §5's links_in, the window standing for what is loaded); a link
        counted once however many copies of its span the table holds."""
        return f"""
            SELECT l.1 AS tid, uniqExact(TraceId, SpanId, at) AS n
            FROM {self.table} ARRAY JOIN arrayZip(`Links.TraceId`, `Links.SpanId`) AS l,
                 arrayEnumerate(`Links.TraceId`) AS at
            WHERE {IN_WINDOW} {outer}
              AND (l.1, l.2) IN (SELECT TraceId, SpanId FROM {self.table} WHERE {IN_WINDOW} {inner})
            GROUP BY tid"""

    def links_in_join(self) -> str:
        """A LEFT JOIN giving every trace of the window its links_in (as `li.n`)."""
        return f"LEFT JOIN ({self._links_in_sql()}) AS li ON li.tid = TraceId"

    def links_in(self, rows: list[list[Any]]) -> tuple[dict[str, int], dict[str, int]]:
        """Per trace of these rows: links_in, and async_to (the other traces in the window
        whose spans link to it, views.traces.async_trace_counts). The links naming them are
        read from the whole window (its link columns), then which of the spans they name
        are there (between the rows' starts and ends)."""
        if not rows:
            return {}, {}
        lo, hi = self.window
        # DISTINCT by the linking span and the link's place in it: a span stored twice
        # links once.
        links = self.run(
            f"SELECT DISTINCT l.1, l.2, TraceId, SpanId, at FROM {self.table} "
            f"ARRAY JOIN arrayZip(`Links.TraceId`, `Links.SpanId`) AS l, "
            f"arrayEnumerate(`Links.TraceId`) AS at "
            f"WHERE {IN_WINDOW} AND notEmpty(`Links.TraceId`) AND l.1 IN {{ids:Array(String)}}",
            {"lo": lo, "hi": hi, "ids": [r[0] for r in rows]})
        if not links:
            return {}, {}
        there = {(r[0], r[1]) for r in self.run(
            f"SELECT DISTINCT TraceId, SpanId FROM {self.table} WHERE {IN_WINDOW} "
            f"AND TraceId IN {{tids:Array(String)}} AND SpanId IN {{sids:Array(String)}}",
            {"lo": max(lo, min(int(r[3]) for r in rows)),
             "hi": min(hi, max(int(r[3]) + int(r[4]) for r in rows)),
             "tids": sorted({r[0] for r in links}), "sids": sorted({r[1] for r in links})})}
        counts: dict[str, int] = {}
        froms: dict[str, set[str]] = {}
        for t, sid, linker, _, _ in links:
            if (t, sid) in there:
                counts[t] = counts.get(t, 0) + 1
            if linker != t and len(sid) == 16 and sid != "0" * 16:
                froms.setdefault(t, set()).add(linker)
        return counts, {t: len(s) for t, s in froms.items()}


def _row(r: list[Any], links_in: int, async_to: int) -> TraceRow:
    row = TraceRow.__new__(TraceRow)
    row.summary = None
    row.trace_id = r[0]
    row.root_service = r[1]
    row.root_operation = r[2]
    row.start_ns = int(r[3])
    row.duration_ns = int(r[4])
    row.spans = int(r[5])
    row.errors = int(r[6])
    row.links_out = int(r[7])
    row.async_from = int(r[8])
    row.links_in = links_in
    row.async_to = async_to
    return row
