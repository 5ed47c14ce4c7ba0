"""The Traces table's full-text search: every span's service, operation and attributes.

`SearchText` holds, per trace, the distinct `key=value` strings of its spans with its
services and operations, lower case, as UTF-8. Attribute values stay undecoded in the
loaders until asked for, so each span's attributes are decoded here one at a time (in the
TUI's background worker) and only their text is kept; a trace's set of strings is let go
as soon as its last span is seen. The texts are packed one after another, each ended by
"\\n" (which a query from the one-line input never holds, so no match spans two of them),
into chunks of about `CHUNK` bytes: one `bytes.find` runs over a chunk at memchr speed,
and a chunk is the unit of work between two hand-overs of the interpreter to the UI.
A trace that grows later (live mode: `extend`) gets another piece of text; it may so own
several. Resource attributes (host, pod, SDK: often most of a span's text) are kept once
per resource, with the traces that have a span of it.

`TraceFilter` answers a query for the table's rows as a flag per row. A key's answer is
made from what is known where that is cheap (the same query before, or a narrower one whose
few matches are all that can match the longer query), else by a `FilterJob` that runs a
slice at a time: the table runs it in a thread and shows the previous answer meanwhile.
"""

from __future__ import annotations

import gc
import threading
import time
from array import array
from bisect import bisect_right
from collections import Counter, OrderedDict, deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from itertools import accumulate, compress, count, islice, repeat
from operator import contains, eq, or_
from typing import Any

from ..index import SpanIndex

CHUNK = 1 << 18  # bytes of text per chunk (a slice of work: well under a millisecond)
ROW_SLICE = 4096  # rows checked one at a time between two hand-overs
NARROW = 4  # looking at one row again costs about as much as scanning this many
_LOW = (1 << 32) - 1


class Cancelled(Exception):
    """The index the search was being built for went away."""


class Pending:
    """Rows of an index that a search text does not cover yet, as the UI thread saw them
    (the index grows on that thread only): read by a worker without racing an append."""

    __slots__ = ("end", "traces", "runs")

    def __init__(self, index: SpanIndex, start: int) -> None:
        self.end = len(index.span_id)
        self.traces = len(index.trace_ids)
        self.runs = [(first, end, block) for first, end, block in _runs(index, start, self.end)]

    @property
    def rows(self) -> int:
        return self.end - (self.runs[0][0] if self.runs else self.end)


def _runs(index: SpanIndex, start: int, end: int) -> Iterator[tuple[int, int, Any]]:
    """(first, end, block) for the rows [start, end), in row order."""
    firsts, blocks = index._block_first, index._blocks
    k = max(0, bisect_right(firsts, start) - 1)
    for i in range(k, len(blocks)):
        b = blocks[i]
        lo = max(start, b.first)
        hi = min(end, firsts[i + 1] if i + 1 < len(blocks) else end)
        if lo >= end:
            break
        if hi > lo:
            yield lo, hi, b


class SearchText:
    """Every trace's searchable text (lower case, UTF-8), every resource's with the traces
    that use it, and every trace's services. Grows (`extend`) as its index grows."""

    __slots__ = ("index", "covered", "size", "chunks", "starts", "owners", "first", "more",
                 "resources", "resource_traces", "services", "every", "_numbers",
                 "_pieces", "_piece_owners", "_piece_bytes", "_lock")

    def __init__(self, index: SpanIndex | None = None) -> None:
        self.index = index
        self.covered = 0  # rows [0, covered) of the index are in the text
        self.size = 0  # bytes of text in the chunks
        self.chunks: list[bytes] = []
        self.starts: list[array[int]] = []  # per chunk: where each piece starts, then its end
        self.owners: list[array[int]] = []  # per chunk: the trace of each piece
        self.first = array("q")  # per trace: its first piece (chunk << 32 | piece), or -1
        self.more: dict[int, list[int]] = {}  # traces with more pieces (grown later)
        self.resources: list[bytes] = []
        self.resource_traces: list[array[int]] = []
        self.services: list[str] = []  # per trace: "\x00a\x00b\x00", lower case
        self.every: set[str] = set()  # every service, as spelled
        self._numbers: dict[int, int] = {}  # id(resource) -> its number here
        self._pieces: list[bytes] = []  # pieces not in a chunk yet
        self._piece_owners: list[int] = []
        self._piece_bytes = 0
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self.first)

    @property
    def traces(self) -> int:
        return len(self.first)

    # -- building --------------------------------------------------------------------------

    def pending(self) -> Pending | None:
        """The rows of the index not in the text yet (call on the thread that grows it)."""
        index = self.index
        if index is None or len(index.span_id) <= self.covered:
            return None
        return Pending(index, self.covered)

    def extend(self, pending: Pending | None,
               cancelled: Callable[[], bool] = lambda: False) -> None:
        """Add the text of `pending`'s rows (those not added meanwhile). For a thread:
        hands the interpreter to the UI every thousand spans. Raises Cancelled (the rows
        read so far are kept)."""
        if pending is None:
            return
        with self._lock:
            if self.covered >= pending.end:
                return
            try:
                self._extend(pending, cancelled)
            finally:
                self._flush()

    def _extend(self, pending: Pending, cancelled: Callable[[], bool]) -> None:
        index = self.index
        assert index is not None
        lo = self.covered
        self._grow_to(pending.traces)
        trace, name = index.trace, index.name
        left = Counter(trace[lo:pending.end])  # each trace's rows still to read
        # The traces in progress: their terms, resources (numbers) and services.
        parts: dict[int, tuple[set[str], set[int], set[str]]] = {}
        step = 0
        try:
            for first, end, block in pending.runs:
                first = max(first, lo)
                if first >= end:
                    continue
                resource = block.resource
                k = self._resource_number(resource)
                service = resource.service
                source, offsets, base = block.source, block.offsets, block.first
                for row in range(first, end):
                    step += 1
                    if not step & 0x3FF:
                        if cancelled():
                            raise Cancelled
                        time.sleep(0)  # hand the interpreter to the UI thread
                    t = trace[row]
                    part = parts.get(t)
                    if part is None:
                        part = parts[t] = (set(), set(), set())
                    terms, resources, services = part
                    if k not in resources:
                        resources.add(k)
                        terms.add(service)
                        services.add(service)
                    terms.add(name[row])
                    try:
                        at = row - base if offsets is None else offsets[row - base]
                        attributes = source.detail(at).attributes
                    except Exception:  # details that cannot be read again: the name stands
                        attributes = {}
                    terms.update(_attribute_terms(attributes))
                    self.covered = row + 1
                    left[t] -= 1
                    if not left[t]:
                        self._finish(t, *parts.pop(t))
        finally:
            for t in list(parts):  # stopped early: what was read is kept
                self._finish(t, *parts.pop(t))
        self.covered = pending.end

    def _grow_to(self, traces: int) -> None:
        more = traces - len(self.first)
        if more > 0:
            self.first.extend(repeat(-1, more))
            self.services.extend(repeat("\x00\x00", more))

    def _resource_number(self, resource: Any) -> int:
        k = self._numbers.get(id(resource))
        if k is None:
            k = self._numbers[id(resource)] = len(self.resources)
            self.resources.append(_text(_attribute_terms(resource.attributes)))
            self.resource_traces.append(array("q"))
        return k

    def _finish(self, t: int, terms: set[str], resources: set[int], services: set[str]) -> None:
        text = _text(terms) + b"\n"
        self._pieces.append(text)
        self._piece_owners.append(t)
        self._piece_bytes += len(text)
        for k in resources:
            traces = self.resource_traces[k]
            if not traces or traces[-1] != t:
                traces.append(t)
        if services:
            self.every.update(services)
            had = self.services[t].strip("\x00")
            if had:
                services = services | set(had.split("\x00"))
            self.services[t] = "\x00" + "\x00".join(sorted(s.lower() for s in services)) + "\x00"
        if self._piece_bytes >= CHUNK:
            self._flush()

    def _flush(self) -> None:
        """Pieces into a chunk; only then do their traces point at them (a reader in
        another thread sees whole chunks only)."""
        pieces, owners = self._pieces, self._piece_owners
        if not pieces:
            return
        c = len(self.chunks)
        self.starts.append(array("q", accumulate(map(len, pieces), initial=0)))
        self.owners.append(array("q", owners))
        self.chunks.append(b"".join(pieces))
        self.size += len(self.chunks[-1])
        first, more = self.first, self.more
        for i, t in enumerate(owners):
            loc = c << 32 | i
            if first[t] < 0:
                first[t] = loc
            else:
                more.setdefault(t, []).append(loc)
        self._pieces, self._piece_owners, self._piece_bytes = [], [], 0

    # -- reading ---------------------------------------------------------------------------

    def own_text(self, t: int) -> bytes:
        """The trace's own text (not its resources'), each piece ended by "\\n"."""
        if not 0 <= t < len(self.first) or self.first[t] < 0:
            return b""
        locs = [self.first[t], *self.more.get(t, ())]
        out = []
        for loc in locs:
            c, i = loc >> 32, loc & _LOW
            st = self.starts[c]
            out.append(self.chunks[c][st[i]:st[i + 1]])
        return out[0] if len(out) == 1 else b"".join(out)

    def text(self, t: int) -> str:
        """The trace's text, its resources' included (for tests and the curious)."""
        own = [self.own_text(t).decode()]
        own += [r.decode() for r, ts in zip(self.resources, self.resource_traces, strict=True)
                if t in ts]
        return "\n".join(own)

    def resource_flags(self, needle: bytes, size: int) -> bytearray | None:
        """A flag per trace (`size` of them): 1 where a resource of the trace holds
        `needle`; None when no resource does."""
        hits = [k for k, text in enumerate(self.resources) if needle in text]
        if not hits:
            return None
        flags = bytearray(size)
        for k in hits:
            deque(map(flags.__setitem__, self.resource_traces[k], repeat(1)), 0)
        return flags

    def scan(self, needle: bytes, flags: bytearray) -> Iterator[None]:
        """Set flags[t] for every trace whose own text holds `needle`; yields after each
        chunk. Sparse hits are found with one `find` over the chunk (its piece looked up
        by bisection), dense ones piece by piece (a piece's `find` stops at its first)."""
        dense = False
        for c in range(len(self.chunks)):
            chunk, st, own = self.chunks[c], self.starts[c], self.owners[c]
            pieces = len(own)
            if dense:
                found = _pieces_holding(chunk, st, own, needle, flags, 0)
            else:
                find, found, p = chunk.find, 0, chunk.find(needle)
                while p >= 0:
                    i = bisect_right(st, p) - 1
                    flags[own[i]] = 1
                    found += 1
                    if found * 3 > pieces:  # dense after all: the rest piece by piece
                        found += _pieces_holding(chunk, st, own, needle, flags, i + 1)
                        break
                    p = find(needle, st[i + 1])
            # (a hit found by `find` costs about three pieces looked at one by one)
            dense = found * (5 if dense else 3) > pieces
            yield

    def holds(self, t: int, needle: bytes) -> bool:
        """Whether the trace's own text holds `needle`."""
        loc = self.first[t]
        if loc < 0:
            return False
        st = self.starts[loc >> 32]
        i = loc & _LOW
        if needle in self.chunks[loc >> 32][st[i]:st[i + 1]]:
            return True
        return t in self.more and needle in self.own_text(t)


def _pieces_holding(chunk: bytes, st: array[int], own: array[int], needle: bytes,
                    flags: bytearray, lo: int) -> int:
    """Flag the owners of the pieces [lo:] of a chunk that hold `needle`; how many did.
    (`find` within each piece's bounds: no piece is copied out.)"""
    hits = bytearray(map((-1).__lt__, map(chunk.find, repeat(needle), islice(st, lo, None),
                                          islice(st, lo + 1, None))))
    found = hits.count(1)
    if found:
        deque(map(flags.__setitem__, compress(islice(own, lo, None), hits), repeat(1)), 0)
    return found


def _text(terms: Iterable[str]) -> bytes:
    return "\n".join(terms).lower().encode(errors="replace")


def _attribute_terms(attributes: dict[str, Any]) -> Iterable[str]:
    return (f"{k}={v}" for k, v in attributes.items())


def build_search(index: SpanIndex, cancelled: Callable[[], bool] = lambda: False,
                 pending: Pending | None = None) -> tuple[SearchText, list[str], list[str]]:
    """The search text of the index (of `pending`'s rows: what the index held when the UI
    thread took it, for an index that grows), its services per trace as "\\x00a\\x00b\\x00",
    and every service, sorted. For a background thread."""
    search = SearchText(index)
    search.extend(pending if pending is not None else Pending(index, 0), cancelled)
    gc.freeze()  # long-lived, like the index
    return search, search.services, sorted(search.every)


# -- the table's filter --------------------------------------------------------------------

def parse_query(query: str) -> tuple[str, str]:
    """("service", NAME) for `service:NAME`, ("text", lower-case text) otherwise; the text
    is "" for no filter."""
    q = query.strip().lower()
    if q.startswith("service:"):
        return "service", q[len("service:"):].strip()
    return "text", q


class TraceFilter:
    """Which of the table's rows a query keeps, as a flag per row. `trace_of[i]` is row i's
    trace index (or any number past the text's traces for a row it cannot know: a store's), `quick[i]` its root
    service and operation ("service\\noperation", lower case). Both lists are the table's,
    grown in place (`changed` then). Until the search text is there, and for rows of
    traces newer than it, rows match on `quick`."""

    CACHE = 12  # answers kept (by query), to answer backspace and narrow longer queries

    def __init__(self, trace_of: list[int], quick: list[str], search: SearchText | None = None) -> None:
        self.trace_of = trace_of
        self.quick = quick
        self.search = search
        self._answers: OrderedDict[str, bytearray] = OrderedDict()
        self._rows_trace: tuple[tuple[int, int], list[int] | None, list[int]] | None = None

    def changed(self) -> None:
        """Rows or texts changed: what was answered before no longer holds."""
        self._answers.clear()
        self._rows_trace = None

    def rows_trace(self, size: int, n: int) -> tuple[list[int] | None, list[int]]:
        """For the first `size` rows and a text of `n` traces: each row's trace, `n` for
        rows of traces it does not know (None: row i is trace i, all known); and those
        rows. Made once (in a thread: a pass over the rows)."""
        made = self._rows_trace
        if made is not None and made[0] == (size, n):
            return made[1], made[2]
        rows = list(map(min, islice(self.trace_of, size), repeat(n)))
        unknown = list(compress(count(), map(n.__eq__, rows)))
        same = not unknown and size <= n and all(map(eq, rows, count()))
        self._rows_trace = ((size, n), None if same else rows, unknown)
        return self._rows_trace[1], unknown

    def remember(self, query: str, flags: bytearray) -> None:
        if len(flags) != len(self.trace_of):
            return
        answers = self._answers
        answers[query] = flags
        answers.move_to_end(query)
        while len(answers) > self.CACHE:
            answers.popitem(last=False)

    def pending(self) -> Pending | None:
        """The index's rows the text lacks (on the UI thread: the index grows there)."""
        return self.search.pending() if self.search is not None else None

    def answer(self, query: str, pending: Pending | None = None, budget: float = float("inf"),
               rows: Sequence[int] | None = None, base: bytearray | None = None) -> FilterJob:
        """The work of answering `query` (parse_query's normal form), done already when it
        costs at most about `budget` row checks (`flags` set), else to run (`steps`).
        `rows` and `base`: only those rows are looked at again, the others keep base's
        flags. Otherwise the same query answered before is the answer, and a narrower one
        with few matches bounds the rows to look at (`narrowed_from`)."""
        if pending is not None:
            self.changed()  # the texts grow: what was answered may hold more now
        job = FilterJob(self, query, pending, rows, base)
        if rows is None and pending is None:
            known = self._answers.get(query)
            if known is not None and len(known) == len(self.trace_of):
                self._answers.move_to_end(query)
                job.flags = known
                return job
            narrower = self._narrower(query)
            if narrower is not None:
                job.narrow(*narrower)
        if job.cost <= budget:
            job.finish()
        return job

    def _narrower(self, query: str) -> tuple[str, bytearray, int] | None:
        """The remembered answer with the fewest rows for a query whose matches hold all
        of `query`'s (a substring of it), when looking at its rows again beats a scan."""
        if query.startswith("service:"):
            return None
        best: tuple[str, bytearray, int] | None = None
        size = len(self.trace_of)
        for q, flags in self._answers.items():
            if len(flags) != size or q.startswith("service:") or q not in query:
                continue
            n = flags.count(1)
            if n * NARROW <= size and (best is None or n < best[2]):
                best = (q, flags, n)
        return best


class FilterJob:
    """One query's answer over the table's rows, worked out a slice at a time (`steps`:
    for a thread, which may stop between any two) or at once (`finish`). `flags` holds
    the answer once done."""

    def __init__(self, tf: TraceFilter, query: str, pending: Pending | None,
                 rows: Sequence[int] | None, base: bytearray | None) -> None:
        self.query = query
        self.tf = tf
        self.pending = pending
        self.rows = rows
        self.base = base
        self.size = len(tf.trace_of)  # the rows as they were when asked
        self.flags: bytearray | None = None
        self.narrowed_from: str | None = None  # the query whose rows were looked at again
        self.within: bytearray | None = None  # and its answer
        # Roughly the row checks it takes: a scan of every text counts as every row, or
        # as one per 256 bytes of text when that is more.
        scan = self.size
        if tf.search is not None:
            scan = max(scan, tf.search.size // 256)
        self.cost = (len(rows) if rows is not None else scan) + \
            (pending.rows * 4 if pending is not None else 0)

    def narrow(self, query: str, flags: bytearray, hits: int) -> None:
        """Look only at the rows `flags` (an answer to `query`, a substring of this one)
        kept."""
        self.narrowed_from, self.within = query, flags
        self.cost = hits * NARROW

    def finish(self) -> bytearray:
        for _ in self.steps():
            pass
        assert self.flags is not None
        return self.flags

    def steps(self, cancelled: Callable[[], bool] = lambda: False) -> Iterator[None]:
        tf = self.tf
        search = tf.search
        if search is not None and self.pending is not None:
            search.extend(self.pending, cancelled)
            yield
        kind, arg = parse_query(self.query)
        size = self.size
        trace_of, quick = tf.trace_of, tf.quick
        if not arg and kind == "text":
            self.flags = bytearray(b"\x01") * size
            return
        by_root = arg + "\n"  # a root service's start of `quick`
        if kind == "service":
            needle: Any = f"\x00{arg}\x00"
        else:
            needle = arg.encode() if search is not None else arg
        n = len(search) if search is not None else 0
        if self.within is not None:
            self.rows = list(compress(count(), self.within))
            yield

        if self.rows is not None:  # these rows only
            flags = bytearray(self.base[:size]) if self.base is not None else bytearray(size)
            flags.extend(bytes(size - len(flags)))
            rflags = None
            if kind == "text" and search is not None:
                rflags = search.resource_flags(needle, n + 1)
            rows = self.rows
            holds = search.holds if search is not None else None
            for lo in range(0, len(rows), ROW_SLICE):
                for i in islice(rows, lo, lo + ROW_SLICE):
                    if i >= size:
                        continue
                    t = trace_of[i]
                    if not 0 <= t < n:
                        hit = quick[i].startswith(by_root) if kind == "service" else arg in quick[i]
                    elif kind == "service":
                        hit = needle in search.services[t]  # type: ignore[union-attr]
                    else:
                        hit = (rflags is not None and rflags[t]) or \
                            holds(t, needle)
                    flags[i] = 1 if hit else 0
                yield
            self.flags = flags
            return

        if search is None:  # the roots only, until the text is there
            flags = bytearray()
            for lo in range(0, size, ROW_SLICE * 8):
                part = islice(quick, lo, min(size, lo + ROW_SLICE * 8))
                if kind == "service":
                    flags.extend(map(str.startswith, part, repeat(by_root)))
                else:
                    flags.extend(map(contains, part, repeat(arg)))
                yield
            self.flags = flags
            return

        # Every trace's text, then each row takes its trace's flag. Traces are n, plus one
        # flag for rows the text does not know (they look at their root), which trace -1
        # and any trace past the text's point at.
        rows_trace, unknown = tf.rows_trace(size, n)
        if kind == "service":
            texts = [*search.services[:n], ""]
            flags = bytearray()
            for lo in range(0, size, ROW_SLICE * 8):
                part = range(lo, min(size, lo + ROW_SLICE * 8)) if rows_trace is None else \
                    rows_trace[lo:lo + ROW_SLICE * 8]
                flags.extend(map(contains, map(texts.__getitem__, part), repeat(needle)))
                yield
        else:
            tflags = bytearray(n + 1)
            if b"\n" in needle:  # (no input makes one) the texts' ends are newlines too
                for t in range(n):
                    tflags[t] = needle in search.own_text(t)[:-1]
                yield
            else:
                yield from search.scan(needle, tflags)
            rflags = search.resource_flags(needle, n + 1)
            if rflags is not None:
                tflags = bytearray(map(or_, tflags, rflags))
                tflags[n] = 0
            if rows_trace is None:  # row i is trace i
                flags = tflags[:size]
            else:
                flags = bytearray(map(tflags.__getitem__, rows_trace))
            yield
        for i in unknown:  # rows of traces the text does not know
            flags[i] = quick[i].startswith(by_root) if kind == "service" else arg in quick[i]
        self.flags = flags


def kept_rows(order: list[int], flags: bytearray | None) -> list[int]:
    """The rows of `order` whose flag is set, in that order (one pass in C)."""
    if flags is None:
        return order
    return list(compress(order, map(flags.__getitem__, order)))
