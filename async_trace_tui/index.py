"""The span index: every loaded span, by (trace id, span id), with its calls and links.

Spans live in parallel columns indexed by an int (the span's *row*), not one object per
span: at a million spans one Python object each costs several times the parse itself.
Attributes, events and link attributes stay in the source and are read again on demand
(`SpanIndex.detail`); the shape, which needs attributes, is classified when asked for.
"""

from __future__ import annotations

from array import array
from bisect import bisect_right
from collections import deque
from collections.abc import Collection, Iterable, Iterator, Sequence
from itertools import compress, count, islice, repeat
from operator import eq, gt, lt, ne
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
    """A run of consecutive rows sharing a resource and scope (one OTLP ScopeSpans).

    `offsets` maps a row's place in the block to its place in the source once rows were
    dropped from the block (duplicates); None while they are one and the same."""

    __slots__ = ("first", "resource", "scope", "source", "offsets")

    def __init__(self, first: int, resource: Resource, scope: Scope, source: DetailSource) -> None:
        self.first = first
        self.resource = resource
        self.scope = scope
        self.source = source
        self.offsets: list[int] | None = None

    def offset(self, row: int) -> int:
        """Where `row` (a row of this block) is in the block's source."""
        at = row - self.first
        return at if self.offsets is None else self.offsets[at]


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

    def drop_rows(self, rows: list[int]) -> None:
        """Remove these rows (ascending, no repeats) and close the gaps: later rows move
        down, links and blocks follow them, a block that lost rows remembers where its
        remaining rows are in its source."""
        if not rows:
            return
        n = len(self.span_id)
        keep = bytearray(b"\x01") * n
        for r in rows:
            keep[r] = 0
        for name in ("trace", "span_id", "parent_id", "name", "kind", "status", "start", "end"):
            col = getattr(self, name)
            col[:] = type(col)(col.typecode, compress(col, keep)) if isinstance(col, array) \
                else type(col)(compress(col, keep))
        self.links = {r - bisect_right(rows, r): lk for r, lk in self.links.items() if keep[r]}
        blocks: list[Block] = []
        ends = [*self.block_first[1:], n]
        for block, end in zip(self.blocks, ends, strict=True):
            lo = bisect_right(rows, block.first - 1)
            hi = bisect_right(rows, end - 1)
            if hi > lo:  # the block lost rows
                where = block.offsets or list(range(end - block.first))
                block.offsets = [o for i, o in enumerate(where) if keep[block.first + i]]
                if not block.offsets:
                    continue
            block.first -= lo
            blocks.append(block)
        self.blocks = blocks
        self.block_first = [b.first for b in blocks]

    def duplicate_rows(self) -> list[int]:
        """Rows whose (trace, span id) an earlier row already has: the same span loaded
        twice (one file twice, overlapping exports, an SDK's retry)."""
        span_id, trace = self.span_id, self.trace
        n = len(span_id)
        by_span: dict[bytes, int] = {}
        for lo in range(0, n, _SLICE):
            by_span.update(zip(span_id[lo:lo + _SLICE], range(lo, lo + _SLICE)))
        if len(by_span) == n:
            self._by_span = by_span  # no span id repeats: SpanIndex takes it as it is
            return []
        seen: set[tuple[int, bytes]] = set()
        dups = []
        for row, key in enumerate(zip(trace, span_id)):
            if key in seen:
                dups.append(row)
            else:
                seen.add(key)
        return dups

    def build(self) -> SpanIndex:
        """The index of every row; duplicates are dropped first (see `duplicates`)."""
        self.duplicates = self.duplicate_rows()
        self.drop_rows(self.duplicates)
        return SpanIndex(self)

    def build_without(self, rows: list[int]) -> SpanIndex:
        """The index without these rows (ascending): `SpanIndex.copy_without`'s second half."""
        self.drop_rows(rows)
        self.duplicates = []
        index = SpanIndex(self)
        index._ensure_live()  # here, not on the first append (the UI's thread)
        return index

    # Set by build(): the rows (numbered before the drop) that were duplicates.
    duplicates: list[int] = []
    _by_span: dict[bytes, int] | None = None

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
        self._names = b._names
        # Live growth (see `append`): bumped by every append; per trace, the generation
        # that last changed it, so a view can tell whether what it shows is stale.
        self.generation = 0
        self.trace_generation = array("l", bytes(8 * len(b.trace_ids)))
        self._live = False
        self._awaiting: dict[bytes, list[int]] = {}  # parent span id -> orphans waiting
        self._pending_links: dict[bytes, list[tuple[int, int]]] = {}  # target span id -> (row, i)
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
        by_span = b._by_span if b._by_span is not None and len(b._by_span) == n else {}
        b._by_span = None
        for lo in range(0, n, _SLICE) if not by_span else ():
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

    def block_runs(self) -> Iterator[tuple[int, int, Block]]:
        """Every block with its rows [first, end), in row order: per-resource work over all
        spans (the service map) without a lookup per row."""
        firsts, blocks = self._block_first, self._blocks
        n, last = len(self.span_id), len(blocks) - 1
        for i, b in enumerate(blocks):
            end = firsts[i + 1] if i < last else n
            if end > b.first:
                yield b.first, end, b

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
            try:
                cached = b.source.detail(b.offset(row))
            except Exception as e:  # noqa: BLE001 - bad span data never takes a view down
                cached = SpanDetail.unreadable(f"the rest of this span cannot be read "
                                               f"({type(e).__name__}: {_first_line(e)})")
            self._detail_cache[row] = cached
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
        try:
            return b.source.attribute_keys(b.offset(row))
        except Exception:  # noqa: BLE001 - the details say why (see `detail`)
            return ()

    def shape(self, row: int) -> str:
        shape = self._shape.get(row)
        if shape is None:
            shape = self._shape[row] = classify_shape(self.kind[row], self.attribute_keys(row))
        return shape

    # -- structure -----------------------------------------------------------------------

    def depth_first(self, starts: Sequence[int], rows: Any, depths: Any) -> None:
        """Append `starts` and every span below them, depth-first (children by start), to
        `rows`, and each one's depth under its start to `depths`. Iterative: a trace can be
        100,000 spans deep."""
        children = self.children
        stack = [(r, 0) for r in reversed(starts)]
        while stack:
            row, depth = stack.pop()
            rows.append(row)
            depths.append(depth)
            kids = children(row)
            if kids:
                d = depth + 1
                stack.extend((k, d) for k in reversed(kids))

    def children(self, row: int) -> list[int]:
        """Sync children of a span, by start time."""
        if self._trace_kids is not None:
            return self._kids_of_trace(self.trace[row]).get(row, []) if row >= 0 else []
        if self._children is None:
            self._children = self._child_map()
        return self._children.get(row, [])

    # A growing index keeps no child map of every span (kept up to date it cost a third of
    # an append, and a fifth of the memory): a trace's map is made when a view asks for
    # it and made again once the trace has changed (its `trace_generation`).
    _trace_kids: dict[int, tuple[int, dict[int, list[int]]]] | None = None
    TRACE_KIDS_KEPT = 2000  # traces whose maps are kept (views look at a few at a time)

    def _kids_of_trace(self, t: int) -> dict[int, list[int]]:
        cache = self._trace_kids
        assert cache is not None
        gen = self.trace_generation[t]  # read first: an append meanwhile makes it stale
        got = cache.get(t)
        if got is not None and got[0] == gen:
            return got[1]
        parent = self.parent
        kids: dict[int, list[int]] = {}
        for row in self.spans_of(t):
            p = parent[row]
            if p >= 0:
                kids.setdefault(p, []).append(row)
        start = self.start
        for lst in kids.values():
            if len(lst) > 1:
                lst.sort(key=start.__getitem__)
        if len(cache) >= self.TRACE_KIDS_KEPT:
            cache.clear()
        cache[t] = (gen, kids)
        return kids

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

    def spans_of(self, trace: int) -> Sequence[int]:
        """The trace's rows, ascending."""
        if self._trace_rows is None:
            rows: list[list[int]] = [[] for _ in self.trace_ids]
            for row, t in enumerate(self.trace):
                rows[t].append(row)
            self._trace_rows = rows
        return self._trace_rows[trace]

    # (a growing index keeps arrays: no int object per row, nothing for the collector)
    _trace_rows: list[list[int]] | list[array[int]] | None = None

    def roots(self, trace: int) -> list[int]:
        """Spans of the trace with no loaded parent (true roots and orphans), by start."""
        self.children(-1)  # settles the tree first (see _break_parent_cycles)
        rows = self._roots.get(trace)
        if rows is None:
            # Cached: opening a view of a 100,000-span trace must not scan it every time.
            parent = self.parent
            start, span_id = self.start, self.span_id
            rows = self._roots[trace] = sorted(  # (ties by span id, not by load order)
                (r for r in self.spans_of(trace) if parent[r] < 0),
                key=lambda r: (start[r], span_id[r]))
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
        # The trace's root: a true root over an orphan, then the earliest, then the smaller id.
        best: dict[int, tuple[bool, int, bytes, int]] = {}
        parent_id, span_id = self.parent_id, self.span_id
        for row in compress(count(), map((0).__gt__, parent)):
            cand = (bool(parent_id[row]), start[row], span_id[row], row)
            t = trace[row]
            if t not in best or cand < best[t]:
                best[t] = cand
        sums = [TraceSummary(t, tid) for t, tid in enumerate(self.trace_ids)]
        for t, s in enumerate(sums):
            s.spans = counts[t]
            s.start = first[t] if s.spans else 0
            s.end = last[t]
            s.root = best[t][3] if t in best else -1
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

    # -- growth ----------------------------------------------------------------------------

    @classmethod
    def empty(cls) -> SpanIndex:
        """An index with nothing in it yet, to `append` to (live mode)."""
        return IndexBuilder().build()

    def append(self, batch: IndexBuilder) -> Arrivals:
        """Add the rows of `batch` (a fresh IndexBuilder a loader filled, *not* built) to
        this index in place, and return what changed.

        This is the one way to grow an index, whatever the spans came from (a live OTLP
        request, rows fetched from a database): fill an `IndexBuilder` with a loader, then
        `index.append(builder)`. The batch is consumed (its blocks move here). Costs time in
        proportion to the batch, not to the index. Spans already in the index (same trace
        id and span id) are skipped and counted in `Arrivals.duplicates`. Parents that
        arrive after their children adopt them, link targets that arrive after the links
        resolve them; summaries, children, roots and `links_in` of the touched traces are
        updated, and each touched trace's `trace_generation` is set to the new
        `generation`. Not thread-safe: call it from the thread that reads the index (the
        UI's), and decode batches elsewhere.
        """
        self._ensure_live()
        out = Arrivals()
        if not len(batch):
            return out
        self.generation += 1
        gen = self.generation
        touched = out.touched
        tmap = [self._trace_row(tid) for tid in batch.trace_ids]
        n0 = len(self.span_id)
        registered = self._claim(batch.span_id, n0)
        if not registered:
            dups = self._duplicates_of(batch, tmap)
            if dups:
                batch.drop_rows(dups)
                out.duplicates = len(dups)
        m = len(batch)
        if not m:
            return out
        new = range(n0, n0 + m)
        # Columns, at C speed.
        self.trace.extend(array("l", map(tmap.__getitem__, batch.trace)))
        self.span_id.extend(batch.span_id)
        self.parent_id.extend(batch.parent_id)
        self.name.extend(map(self._names.setdefault, batch.name, batch.name))
        self.kind.extend(batch.kind)
        self.status.extend(batch.status)
        self.start.extend(batch.start)
        self.end.extend(batch.end)
        for block in batch.blocks:
            block.first += n0
            self._blocks.append(block)
            self._block_first.append(block.first)
        trace, span_id, parent_id, start, end = self.trace, self.span_id, self.parent_id, \
            self.start, self.end
        if not registered:
            self._register(new)

        # Parents: each new span's own, then the orphans that were waiting for one of them.
        # As in __init__: span id lookups at C speed, Python only for the exceptions (a
        # parent in another trace or not here yet, an id reused across traces, itself).
        parent = self.parent
        awaiting = self._awaiting
        find_row = self.find_row
        got = array("l", map(self._by_span.get, parent_id[n0:], repeat(-1)))
        for i in compress(count(), map(ne, map(trace.__getitem__, got), trace[n0:])):
            got[i] = -1
        for i in compress(count(), map(eq, got, new)):
            got[i] = -1
        parent.extend(got)
        for row in compress(new, map((-1).__eq__, got)):
            pid = parent_id[row]
            if pid:
                q = find_row(trace[row], pid) if self._dup else None
                if q is not None and q != row:
                    parent[row] = q
                else:
                    awaiting.setdefault(pid, []).append(row)
        adopted: list[int] = []
        for row in compress(new, map(awaiting.__contains__, span_id[n0:])):
            waiting = awaiting.pop(span_id[row])
            t = trace[row]
            stay = [c for c in waiting if trace[c] != t]
            for c in waiting:
                if trace[c] == t and c != row:
                    parent[c] = row
                    adopted.append(c)
            if stay:
                awaiting[span_id[row]] = stay
        heads = self._break_new_cycles(new, adopted, n0)

        # Summaries and spans of the touched traces (children: see `children`).
        # A batch holds runs of one trace: take each run at once (bounds where the trace
        # column changes, min/max over slices).
        per_trace = self._trace_rows
        assert per_trace is not None
        per_trace.extend(array("l") for _ in range(len(self.trace_ids) - len(per_trace)))
        sums = self.traces
        status = self.status
        tcol = trace[n0:]
        bounds = [0, *(i + 1 for i in compress(count(), map(ne, islice(tcol, 1, None), tcol))),
                  m]
        for lo, hi in zip(bounds, islice(bounds, 1, None)):
            t = tcol[lo]
            per_trace[t].extend(range(n0 + lo, n0 + hi))
            sm = sums[t]
            a, z = min(start[n0 + lo:n0 + hi]), max(end[n0 + lo:n0 + hi])
            if not sm.spans:
                sm.start, sm.end = a, z
            else:
                if a < sm.start:
                    sm.start = a
                if z > sm.end:
                    sm.end = z
            sm.spans += hi - lo
            touched[t] = touched.get(t, 0) + hi - lo
        pos = status.find(STATUS_ERROR, n0)
        while pos >= 0:
            sums[trace[pos]].errors += 1
            pos = status.find(STATUS_ERROR, pos + 1)
        for row in (*adopted, *heads):
            t = trace[row]
            touched[t] = touched.get(t, 0) + 1
        # Roots: a new root competes with the trace's; a full look only when the root
        # itself was adopted (a trace of 100,000 spans gets batch after batch).
        roots = self._roots
        for row in (*compress(new, map((0).__gt__, parent[n0:])), *heads):
            if parent[row] < 0:
                sm = sums[trace[row]]
                if sm.root < 0 or self._root_key(row) < self._root_key(sm.root):
                    sm.root = row
        for t in touched:
            roots.pop(t, None)
            r = sums[t].root
            if r >= 0 and parent[r] >= 0:
                sums[t].root = self._best_root(t)

        self._link_new(new, {r + n0: lk for r, lk in batch.links.items()}, touched)
        out.spans = m
        out.adopted = len(adopted)
        tg = self.trace_generation
        for t in touched:
            tg[t] = gen
        return out

    def oldest_traces(self, spans: int) -> list[int]:
        """The earliest-received traces (traces are numbered as they first arrive) that
        together hold at least `spans` spans: what `--max-spans` drops first."""
        out: list[int] = []
        total = 0
        for s in self.traces:
            if total >= spans:
                break
            if s.spans:
                out.append(s.index)
                total += s.spans
        return out

    def copy_without(self, drop: Collection[int]) -> tuple[IndexBuilder, list[int]]:
        """A copy of the columns and the rows of the traces `drop`: the builder's
        `build_without(rows)` (slow: call it off the UI thread) makes the smaller index.
        This index is left as it is (views may still be reading it)."""
        keep = [t for t in range(len(self.trace_ids)) if t not in drop]
        tmap = array("l", [-1]) * len(self.trace_ids)
        for new, t in enumerate(keep):
            tmap[t] = new
        b = IndexBuilder()
        b.trace_ids = [self.trace_ids[t] for t in keep]
        b.trace_index = {tid: i for i, tid in enumerate(b.trace_ids)}
        b.trace = array("l", map(tmap.__getitem__, self.trace))
        for name in ("span_id", "parent_id", "name", "kind", "status", "start", "end"):
            setattr(b, name, getattr(self, name)[:])
        b.links = dict(self.links_out)
        for blk in self._blocks:
            copy = b.add_block(blk.resource, blk.scope, blk.source)
            copy.first, copy.offsets = blk.first, blk.offsets
        b.block_first = [blk.first for blk in b.blocks]
        b._names = self._names
        return b, sorted(r for t in drop for r in self.spans_of(t))

    def _ensure_live(self) -> None:
        """What growth keeps up to date, built once: spans per trace, the orphans waiting
        for a parent and the links waiting for a target (children: see `children`)."""
        if self._live:
            return
        self._live = True
        self.children(-1)  # settles parent loops of what is there (see _break_parent_cycles)
        self._children = None
        self._trace_kids = {}
        if self._trace_rows is None:
            per_trace = [array("l") for _ in self.trace_ids]
            for row, t in enumerate(self.trace):
                per_trace[t].append(row)
        else:
            per_trace = [array("l", rows) for rows in self._trace_rows]
        self._trace_rows = per_trace
        parent, parent_id = self.parent, self.parent_id
        for row in compress(count(), map((0).__gt__, parent)):
            pid = parent_id[row]
            if pid:
                self._awaiting.setdefault(pid, []).append(row)
        for row, targets in self.link_target.items():
            for i, target in enumerate(targets):
                if target is None:
                    self._pending_links.setdefault(self.links_out[row][i][1], []).append((row, i))

    def _trace_row(self, trace_id: bytes) -> int:
        t = self.trace_index.get(trace_id)
        if t is None:
            t = self.trace_index[trace_id] = len(self.trace_ids)
            self.trace_ids.append(trace_id)
            self.traces.append(TraceSummary(t, trace_id))
            self.trace_generation.append(0)
        return t

    def _claim(self, span_ids: list[bytes], n0: int) -> bool:
        """The common case at C speed: when no span id of the batch is known yet nor
        repeated in it, register them as rows n0, n0+1... and return True; otherwise leave
        the index as it was and return False (duplicates and reused ids are sorted out
        one by one: `_duplicates_of`, `_register`)."""
        by_span = self._by_span
        before = len(by_span)
        deque(map(by_span.setdefault, span_ids, count(n0)), maxlen=0)
        if len(by_span) - before == len(span_ids):
            return True
        for sid in span_ids:  # take back what this call added (rows n0 on; none were)
            if by_span.get(sid, -1) >= n0:
                del by_span[sid]
        return False

    def _duplicates_of(self, batch: IndexBuilder, tmap: list[int]) -> list[int]:
        """Rows of `batch` already in the index, or earlier in the batch."""
        by_span = self._by_span
        bt, bs = batch.trace, batch.span_id
        dups = [r for r in compress(count(), map(by_span.__contains__, bs))
                if self.find_row(tmap[bt[r]], bs[r]) is not None]
        if len(set(bs)) != len(bs):
            seen: set[tuple[int, bytes]] = set()
            for r, key in enumerate(zip(bt, bs)):
                if key in seen:
                    dups.append(r)
                seen.add(key)
            dups = sorted(set(dups))
        return dups

    def _register(self, new: range) -> None:
        """(trace, span id) -> row for the new rows (span ids reused across traces aside)."""
        by_span, dup, trace, span_id = self._by_span, self._dup, self.trace, self.span_id
        sids = span_id[new.start:new.stop]
        if len(set(sids)) == len(sids) and not any(map(by_span.__contains__, sids)):
            by_span.update(zip(sids, new))
            return
        for row in new:
            other = by_span.setdefault(span_id[row], row)
            if other != row:
                dup.setdefault((trace[row], span_id[row]), row)

    def _break_new_cycles(self, new: range, adopted: list[int], n0: int) -> list[int]:
        """Parent loops made by this batch (A's parent B, B's parent A, or an orphan
        adopted by its own descendant) become roots at their earliest span, as in
        `_break_parent_cycles`. Old rows' parents were a forest: a loop passes through a
        new row, and through old ones only when some were adopted (then through one of
        those)."""
        if self._loops_among_new(n0):
            return self._break_loops_from((*new, *adopted), adopted, n0)
        return self._break_loops_from(tuple(adopted), adopted, n0) if adopted else []

    def _loops_among_new(self, n0: int) -> bool:
        """Whether the new rows' parents among themselves loop. A loop has a parent after
        its child in the batch and one before: exporters write a trace's spans in one
        order (the SDK: as they end, children first), so one of the two is missing and a
        C-level pass or two says so. Otherwise each row's parent, its parent's parent...
        by pointer jumping (each pass doubles the steps taken): every row reaches one
        outside the batch, or none, unless there is a loop."""
        got = self.parent[n0:]
        m = len(got)
        if not any(map(gt, got, range(n0, n0 + m))):  # every parent is earlier (or old)
            return False
        out = m  # "outside the batch": leads to itself
        up = [p - n0 if p >= n0 else out for p in got]
        if not any(map(lt, up, range(m))):  # every parent in the batch is later
            return False
        up.append(out)
        for _ in range(m.bit_length() + 1):
            if up.count(out) == m + 1:
                return False
            up = list(map(up.__getitem__, up))
        return True

    def _break_loops_from(self, firsts: Iterable[int], adopted: list[int], n0: int) -> list[int]:
        """Walk up from each of `firsts`: a walk that comes back on itself is a loop,
        broken at its earliest span (the loop's head becomes a root). Returns the heads."""
        parent, start = self.parent, self.start
        through_old = bool(adopted)
        ok: set[int] = set()
        heads: list[int] = []
        for first in firsts:
            path: dict[int, None] = {}
            x = first
            while x >= 0 and x not in ok and x not in path and (through_old or x >= n0):
                path[x] = None
                x = parent[x]
            if x >= 0 and x in path:
                members = list(path)
                members = members[members.index(x):]
                head = min(members, key=start.__getitem__)
                parent[head] = -1
                heads.append(head)
                if head in adopted:
                    adopted.remove(head)
            ok.update(path)
        return heads

    def _best_root(self, t: int) -> int:
        """The trace's root for its summary: a true root over an orphan, then the earliest."""
        roots = self.roots(t)
        if not roots:
            return -1
        return min(roots, key=self._root_key)

    def _root_key(self, row: int) -> tuple[bool, int, bytes, int]:
        # Roots that start together: the smaller span id, as a store's SQL picks it too.
        return bool(self.parent_id[row]), self.start[row], self.span_id[row], row

    def _link_new(self, new: range, links: dict[int, list[tuple[bytes, bytes]]],
                  touched: dict[int, int]) -> None:
        """Resolve the new spans' links, and the earlier links that were waiting for them."""
        trace, span_id, sums = self.trace, self.span_id, self.traces
        links_in, pending = self.links_in, self._pending_links
        for row in compress(new, map(pending.__contains__, span_id[new.start:new.stop])):
            waiting = pending.pop(span_id[row])
            tid = self.trace_ids[trace[row]]
            stay = []
            for src, i in waiting:
                if self.links_out[src][i][0] == tid:
                    self.link_target[src][i] = row
                    links_in.setdefault(row, []).append(src)
                    sums[trace[row]].links_in += 1
                    for t in (trace[row], trace[src]):
                        touched[t] = touched.get(t, 0) + 1
                else:
                    stay.append((src, i))
            if stay:
                pending[span_id[row]] = stay
        self.links_out.update(links)
        for row, lks in links.items():
            targets: list[int | None] = []
            for i, (tid, sid) in enumerate(lks):
                target = self.find(tid, sid)
                targets.append(target)
                if target is None:
                    pending.setdefault(sid, []).append((row, i))
                else:
                    links_in.setdefault(target, []).append(row)
                    tt = trace[target]
                    sums[tt].links_in += 1
                    touched[tt] = touched.get(tt, 0) + 1
            self.link_target[row] = targets
            sums[trace[row]].links_out += len(targets)


class Arrivals:
    """What one `SpanIndex.append` changed."""

    __slots__ = ("spans", "duplicates", "adopted", "touched")

    def __init__(self) -> None:
        self.spans = 0  # rows added
        self.duplicates = 0  # rows skipped: already in the index
        self.adopted = 0  # orphans whose parent arrived
        self.touched: dict[int, int] = {}  # trace -> how many of its spans/links changed


def _first_line(e: BaseException) -> str:
    text = str(e).strip().splitlines()
    return text[0][:120] if text else ""
