"""The span index: every loaded span, by (trace id, span id), with its calls and links.

Spans live in parallel columns indexed by an int (the span's *row*), not one object per
span: at a million spans one Python object each costs several times the parse itself.
Attributes, events and link attributes stay in the source and are read again on demand
(`SpanIndex.detail`); the shape, which needs attributes, is classified when asked for.
"""

from __future__ import annotations

from array import array
from bisect import bisect_right
from collections.abc import Collection, Iterable
from itertools import compress, count, islice, repeat
from operator import eq, ne
from typing import Any, Protocol

from .model import (
    KIND_CONSUMER,
    STATUS_ERROR,
    Resource,
    Scope,
    SpanDetail,
    classify_shape,
    is_internal_kind,
)

_SLICE = 1 << 16


class DetailSource(Protocol):
    """Where a block's spans came from; reads one span's details again."""

    def detail(self, offset: int) -> SpanDetail: ...

    def attribute_keys(self, offset: int) -> Collection[str]: ...


class Block:
    """A run of consecutive rows sharing a resource and scope (one OTLP ScopeSpans)."""

    __slots__ = ("first", "resource", "scope", "source")

    def __init__(self, first: int, resource: Resource, scope: Scope, source: DetailSource) -> None:
        self.first = first
        self.resource = resource
        self.scope = scope
        self.source = source


class TraceSummary:
    """One row of the Traces table."""

    __slots__ = (
        "index", "trace_id", "root", "start", "end", "spans", "errors", "links_in", "links_out",
    )

    def __init__(self, index: int, trace_id: bytes) -> None:
        self.index = index
        self.trace_id = trace_id
        self.root = -1
        self.start = 0
        self.end = 0
        self.spans = 0
        self.errors = 0
        self.links_in = 0
        self.links_out = 0

    @property
    def duration(self) -> int:
        return self.end - self.start


class IndexBuilder:
    """The columns the loaders append to, in their hot loops, before `build()`."""

    def __init__(self) -> None:
        self.trace_ids: list[bytes] = []
        self.trace_index: dict[bytes, int] = {}
        self.trace: array[int] = array("l")
        self.span_id: list[bytes] = []
        self.parent_id: list[bytes] = []
        self.name: list[str] = []
        self.kind = bytearray()
        self.status = bytearray()
        self.start: array[int] = array("q")
        self.end: array[int] = array("q")
        self.links: dict[int, list[tuple[bytes, bytes]]] = {}
        self.block_first: list[int] = []
        self.blocks: list[Block] = []
        self._names: dict[str, str] = {}

    def __len__(self) -> int:
        return len(self.span_id)

    def trace_row(self, trace_id: bytes) -> int:
        t = self.trace_index.get(trace_id)
        if t is None:
            t = self.trace_index[trace_id] = len(self.trace_ids)
            self.trace_ids.append(trace_id)
        return t

    def intern_name(self, name: str) -> str:
        # Operation names repeat endlessly; one string each keeps memory flat.
        return self._names.setdefault(name, name)

    def add_block(self, resource: Resource, scope: Scope, source: DetailSource) -> Block:
        block = Block(len(self.span_id), resource, scope, source)
        self.block_first.append(block.first)
        self.blocks.append(block)
        return block

    def truncate(self, rows: int) -> None:
        """Drop rows appended after `rows` (a record that turned out bad half-way)."""
        for col in (self.trace, self.span_id, self.parent_id, self.name, self.kind,
                    self.status, self.start, self.end):
            del col[rows:]
        for row in [r for r in self.links if r >= rows]:
            del self.links[row]
        while self.blocks and self.blocks[-1].first >= rows:
            self.blocks.pop()
            self.block_first.pop()

    def build(self) -> SpanIndex:
        return SpanIndex(self)

    def snapshot(self) -> SpanIndex:
        """An index of what is loaded so far, independent of the rows appended later
        (the TUI shows it while a big file goes on loading)."""
        copy = IndexBuilder()
        n = len(self.span_id)
        copy.trace_ids = self.trace_ids[:]
        copy.trace_index = dict(self.trace_index)
        for name in ("trace", "span_id", "parent_id", "name", "kind", "status", "start", "end"):
            setattr(copy, name, getattr(self, name)[:n])
        copy.links = {row: links for row, links in self.links.items() if row < n}
        copy.block_first = self.block_first[:]
        copy.blocks = self.blocks[:]
        return SpanIndex(copy)


class SpanIndex:
    """Every loaded span and the relations between them, across all loaded traces."""

    def __init__(self, b: IndexBuilder) -> None:
        self.trace_ids = b.trace_ids
        self.trace_index = b.trace_index
        self.trace = b.trace
        self.span_id = b.span_id
        self.parent_id = b.parent_id
        self.name = b.name
        self.kind = b.kind
        self.status = b.status
        self.start = b.start
        self.end = b.end
        self.links_out = b.links
        self._block_first = b.block_first
        self._blocks = b.blocks
        n = len(b.span_id)
        self._shape: dict[int, str] = {}
        self._children: dict[int, list[int]] | None = None
        self._detail_cache: dict[int, SpanDetail] = {}
        self._roots: dict[int, list[int]] = {}

        # (trace, span id) -> row. Span ids are random 64-bit values, so a dict keyed by span
        # id alone holds almost every row (built at C speed); the rare id reused in another
        # trace goes aside. Loops here run once per span: keep them in C where possible.
        trace = self.trace
        span_id = b.span_id
        # In slices: one C call over a million rows would hold the interpreter (and so the
        # TUI's screen) for a few hundred milliseconds.
        by_span: dict[bytes, int] = {}
        for lo in range(0, n, _SLICE):
            by_span.update(zip(span_id[lo:lo + _SLICE], range(lo, lo + _SLICE)))
        dup: dict[tuple[int, bytes], int] = {}
        if len(by_span) != n:
            by_span = {}
            for row, sid in enumerate(span_id):
                other = by_span.setdefault(sid, row)
                if other != row:
                    key = (trace[row], sid)
                    if trace[other] == trace[row] or key in dup:
                        continue  # the same span twice: the first one stands
                    dup[key] = row
        self._by_span = by_span
        self._dup = dup

        # Parent row of each span (-1: a root, or an orphan whose parent is not loaded).
        # b"" (no parent) is never a key of by_span.
        # A parent found by span id alone must be in the same trace; a span is not its own.
        # (map/compress keep the per-row work in C; Python only touches the exceptions.)
        parent = array("l")
        for lo in range(0, n, _SLICE):
            parent.extend(map(by_span.get, b.parent_id[lo:lo + _SLICE], repeat(-1)))
        for row in compress(count(), map(ne, map(trace.__getitem__, parent), trace)):
            parent[row] = -1  # a root (trace[-1] is nobody's trace here) or another trace's span
        for row in compress(count(), map(eq, parent, count())):
            parent[row] = -1
        for row in range(n) if dup else ():
            pid = b.parent_id[row]
            if pid:
                p = self.find_row(trace[row], pid)
                parent[row] = -1 if p is None else p
        self.parent = parent
        self._tree_checked = False

        # Links: resolved target of each, and the reverse map across all traces.
        links_in: dict[int, list[int]] = {}
        self.link_target: dict[int, list[int | None]] = {}
        for row, links in self.links_out.items():
            targets: list[int | None] = []
            for tid, sid in links:
                t = self.trace_index.get(tid)
                target = None if t is None else self.find_row(t, sid)
                targets.append(target)
                if target is not None:
                    links_in.setdefault(target, []).append(row)
            self.link_target[row] = targets
        self.links_in = links_in

        self.traces = self._summarise()

    # -- lookups -------------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self.span_id)

    def find_row(self, trace: int, span_id: bytes) -> int | None:
        row = self._by_span.get(span_id)
        if row is not None and self.trace[row] == trace:
            return row
        return self._dup.get((trace, span_id))

    def find(self, trace_id: bytes, span_id: bytes) -> int | None:
        t = self.trace_index.get(trace_id)
        return None if t is None or not span_id else self.find_row(t, span_id)

    def find_span(self, span_id: bytes) -> list[int]:
        """Every row with this span id, in any trace."""
        rows = [r for (t, s), r in self._dup.items() if s == span_id]
        row = self._by_span.get(span_id)
        return ([row] if row is not None else []) + rows

    def trace_id_of(self, row: int) -> bytes:
        return self.trace_ids[self.trace[row]]

    def block(self, row: int) -> Block:
        return self._blocks[bisect_right(self._block_first, row) - 1]

    def service(self, row: int) -> str:
        return self.block(row).resource.service

    def resource(self, row: int) -> Resource:
        return self.block(row).resource

    def scope(self, row: int) -> Scope:
        return self.block(row).scope

    def duration(self, row: int) -> int:
        return self.end[row] - self.start[row]

    def is_error(self, row: int) -> bool:
        return self.status[row] == STATUS_ERROR

    def is_internal(self, row: int) -> bool:
        return is_internal_kind(self.kind[row])

    def is_consumer(self, row: int) -> bool:
        return self.kind[row] == KIND_CONSUMER

    def detail(self, row: int) -> SpanDetail:
        cached = self._detail_cache.get(row)
        if cached is None:
            if len(self._detail_cache) > 4096:
                self._detail_cache.clear()
            b = self.block(row)
            cached = self._detail_cache[row] = b.source.detail(row - b.first)
        return cached

    def attributes(self, row: int) -> dict[str, Any]:
        return self.detail(row).attributes

    def attribute_keys(self, row: int) -> Collection[str]:
        """The span's attribute keys, without building their values (what a shape needs:
        a tree of 100,000 spans shows 100,000 shapes)."""
        cached = self._detail_cache.get(row)
        if cached is not None:
            return cached.attributes.keys()
        b = self.block(row)
        return b.source.attribute_keys(row - b.first)

    def shape(self, row: int) -> str:
        shape = self._shape.get(row)
        if shape is None:
            shape = self._shape[row] = classify_shape(self.kind[row], self.attribute_keys(row))
        return shape

    # -- structure -----------------------------------------------------------------------

    def children(self, row: int) -> list[int]:
        """Sync children of a span, by start time."""
        if self._children is None:
            self._children = self._child_map()
        return self._children.get(row, [])

    def _child_map(self) -> dict[int, list[int]]:
        kids: dict[int, list[int]] = {}
        for row, p in enumerate(self.parent):
            if p >= 0:
                kids.setdefault(p, []).append(row)
        self._break_parent_cycles(kids)
        start = self.start
        for lst in kids.values():
            if len(lst) > 1:
                lst.sort(key=start.__getitem__)
        return kids

    def _break_parent_cycles(self, kids: dict[int, list[int]]) -> None:
        """Parent ids that loop (A's parent B, B's parent A) would make every walk down or
        up a trace endless. Spans no root reaches are on or under such a loop: the earliest
        span of each loop becomes a root (an orphan), and the rest hangs from it."""
        parent = self.parent
        reached = bytearray(len(parent))
        stack = [r for r, p in enumerate(parent) if p < 0]
        while stack:
            r = stack.pop()
            reached[r] = 1
            stack.extend(kids.get(r, ()))
        if all(reached):
            return
        start = self.start
        for row in range(len(parent)):
            if reached[row]:
                continue
            loop: dict[int, None] = {}
            x = row
            while x not in loop and not reached[x]:
                loop[x] = None
                x = parent[x]
            if reached[x]:
                continue  # hangs from a loop broken earlier in this pass
            members = list(loop)[list(loop).index(x):]
            head = min(members, key=start.__getitem__)
            kids[parent[head]].remove(head)
            parent[head] = -1
            stack = [head]
            while stack:
                r = stack.pop()
                reached[r] = 1
                stack.extend(kids.get(r, ()))
        self._roots.clear()
        self.traces = self._summarise()  # roots changed

    def spans_of(self, trace: int) -> list[int]:
        if self._trace_rows is None:
            rows: list[list[int]] = [[] for _ in self.trace_ids]
            for row, t in enumerate(self.trace):
                rows[t].append(row)
            self._trace_rows = rows
        return self._trace_rows[trace]

    _trace_rows: list[list[int]] | None = None

    def roots(self, trace: int) -> list[int]:
        """Spans of the trace with no loaded parent (true roots and orphans), by start."""
        self.children(-1)  # settles the tree first (see _break_parent_cycles)
        rows = self._roots.get(trace)
        if rows is None:
            # Cached: opening a view of a 100,000-span trace must not scan it every time.
            parent = self.parent
            rows = self._roots[trace] = sorted(
                (r for r in self.spans_of(trace) if parent[r] < 0), key=self.start.__getitem__)
        return rows

    def is_orphan(self, row: int) -> bool:
        """A span whose parent id is set but not loaded."""
        return self.parent[row] < 0 and bool(self.parent_id[row])

    def links_of(self, row: int) -> list[tuple[bytes, bytes, int | None]]:
        """The span's outgoing links: (trace id, span id, resolved row or None)."""
        links = self.links_out.get(row)
        if not links:
            return []
        return [(t, s, r) for (t, s), r in zip(links, self.link_target[row], strict=True)]

    def linked_from(self, row: int) -> list[int]:
        """Rows whose links point at this span."""
        return self.links_in.get(row, [])

    # -- traces table --------------------------------------------------------------------

    def _summarise(self) -> list[TraceSummary]:
        ntraces = len(self.trace_ids)
        trace, start, end, parent = self.trace, self.start, self.end, self.parent
        big = 1 << 63
        first = [big] * ntraces
        last = [0] * ntraces
        counts = [0] * ntraces
        # Exporters write a trace's spans mostly together: take runs of one trace at once,
        # their bounds found at C speed (where the trace column changes).
        n = len(trace)
        bounds = [0, *(i + 1 for i in compress(count(), map(ne, islice(trace, 1, None), trace))), n]
        for lo, hi in zip(bounds, islice(bounds, 1, None)):
            if lo == hi:
                continue
            t = trace[lo]
            counts[t] += hi - lo
            a, z = min(start[lo:hi]), max(end[lo:hi])
            if a < first[t]:
                first[t] = a
            if z > last[t]:
                last[t] = z
        # The trace's root: a true root over an orphan, then the earliest.
        best: dict[int, tuple[bool, int, int]] = {}
        parent_id = self.parent_id
        for row in compress(count(), map((0).__gt__, parent)):
            cand = (bool(parent_id[row]), start[row], row)
            t = trace[row]
            if t not in best or cand < best[t]:
                best[t] = cand
        sums = [TraceSummary(t, tid) for t, tid in enumerate(self.trace_ids)]
        for t, s in enumerate(sums):
            s.spans = counts[t]
            s.start = first[t] if s.spans else 0
            s.end = last[t]
            s.root = best[t][2] if t in best else -1
        status = self.status
        pos = status.find(STATUS_ERROR)
        while pos >= 0:
            sums[trace[pos]].errors += 1
            pos = status.find(STATUS_ERROR, pos + 1)
        for row, targets in self.link_target.items():
            sums[trace[row]].links_out += len(targets)
        for target, sources in self.links_in.items():
            sums[trace[target]].links_in += len(sources)
        return sums

    def summaries(self) -> Iterable[TraceSummary]:
        return self.traces
