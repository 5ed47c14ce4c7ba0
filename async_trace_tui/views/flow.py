"""The async flow of a span (SPEC §8): end-to-end latency and its critical path across traces.

The flow of a span S is S and every span reachable from it over sync-down edges (parent →
child) and async-down edges (P ⇢ C: C links to P, or C is a CONSUMER child of P), across
traces, display rules ignored. One breadth-first walk finds the flow and d(x), the fewest
edges from S to each span; the critical path then walks back from the span that ends last,
choosing at each step the cause the effect waited for. Everything here is iterative (flows
of 100,000 spans) and goes through SpanIndex's public API only, so any index can feed it.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Callable, Iterable, Sequence
from itertools import compress, count

from ..index import SpanIndex
from ..model import STATUS_ERROR

SPAN, QUEUE = "span", "queue"


class Segment:
    """A slice of the end-to-end latency: time spent in a span of the critical path, or
    queue wait before an async effect (`row` is then the effect, `cause` its producer)."""

    __slots__ = ("kind", "row", "cause", "start", "duration")

    def __init__(self, kind: str, row: int, cause: int, start: int, duration: int) -> None:
        self.kind = kind
        self.row = row
        self.cause = cause  # the span before `row` on the path (-1 for the start)
        self.start = start  # where the slice begins on the time axis (ns)
        self.duration = duration


def reach(index: SpanIndex, start: int) -> dict[int, int]:
    """Every span of the flow of `start` with d(x), the fewest edges from `start` to it
    (in breadth-first order: the dict's order is the walk's)."""
    children = index.children
    linked_from = index.linked_from
    dist = {start: 0}
    level = [start]
    k = 0
    while level:
        k += 1
        nxt: list[int] = []
        add = nxt.append
        for x in level:
            for y in children(x):
                if y not in dist:
                    dist[y] = k
                    add(y)
            for y in linked_from(x):
                if y not in dist:
                    dist[y] = k
                    add(y)
        level = nxt
    return dist


def last_ending(index: SpanIndex, rows: Iterable[int]) -> int:
    """The span that ends last; ties: the later start, then the smaller span id."""
    end = index.end
    rows = list(rows)
    latest = max(map(end.__getitem__, rows))
    tied = list(compress(rows, map(latest.__eq__, map(end.__getitem__, rows))))
    if len(tied) == 1:
        return tied[0]
    start, span_id = index.start, index.span_id
    latest_start = max(start[r] for r in tied)
    return min((r for r in tied if start[r] == latest_start), key=span_id.__getitem__)


def causes(index: SpanIndex, row: int) -> list[tuple[int, bool]]:
    """The spans `row` was caused by, with whether the edge is async: its parent (async
    when `row` is a CONSUMER) and the spans it links to."""
    out: list[tuple[int, bool]] = []
    parent = index.parent[row]
    if parent >= 0:
        out.append((parent, index.is_consumer(row)))
    for _, _, target in index.links_of(row):
        if target is not None and target != parent:
            out.append((target, True))
    return out


def critical_path(index: SpanIndex, dist: dict[int, int], end_row: int
                  ) -> tuple[list[int], list[bool]]:
    """The chain from the start to `end_row` and, for each step, whether it is async.

    Walking back from the effect, the cause taken is one with d(c) = d(x) - 1 (so the walk
    reaches the start in d(end_row) steps), the one that ended last, then the smaller span
    id: the cause the effect waited for."""
    end, span_id = index.end, index.span_id
    path = [end_row]
    steps: list[bool] = []
    x = end_row
    while dist[x]:
        want = dist[x] - 1
        best = -1
        best_async = False
        for c, is_async in causes(index, x):
            if dist.get(c) != want:
                continue
            if (best < 0 or end[c] > end[best]
                    or (end[c] == end[best] and span_id[c] < span_id[best])):
                best, best_async = c, is_async
        if best < 0:  # cannot happen over a consistent index: d(x) came from a cause
            raise ValueError(f"span row {x} has no cause at distance {want}")
        path.append(best)
        steps.append(best_async)
        x = best
    path.reverse()
    steps.reverse()
    return path, steps


def segments(index: SpanIndex, path: Sequence[int], steps: Sequence[bool]
             ) -> tuple[list[Segment], int]:
    """The path's segments and how many of its steps run backwards in time (skew).

    For a step x → y the time [x.start, y.start) belongs to x, except across an async edge,
    where [x.start, min(x.end, y.start)) is x's and the rest is queue wait; the last span
    keeps [E.start, E.end). Time on the path never runs backwards: each segment begins where
    the one before ended, so a step whose start runs backwards (clock skew) is a segment of
    0 and the segments always sum to E.end - S.start, the end-to-end latency."""
    start, end = index.start, index.end
    out: list[Segment] = []
    skew = 0
    at = start[path[0]]
    for i, is_async in enumerate(steps):
        x, y = path[i], path[i + 1]
        if start[y] < start[x]:
            skew += 1
        stop = max(at, start[y])
        own = max(at, min(end[x], stop)) if is_async else stop
        out.append(Segment(SPAN, x, path[i - 1] if i else -1, at, own - at))
        if is_async:
            out.append(Segment(QUEUE, y, x, own, stop - own))
        at = stop
    last = path[-1]
    out.append(Segment(SPAN, last, path[-2] if len(path) > 1 else -1, at,
                       max(at, end[last]) - at))
    return out, skew


class Flow:
    """The flow of one start span: its spans, critical path and segments; the summary's
    other figures (services, traces, async hops, errors) are worked out when asked for."""

    __slots__ = ("index", "start", "dist", "end_row", "end_to_end", "path", "steps",
                 "segments", "skew", "_hops", "_services", "_traces", "_errors")

    def __init__(self, index: SpanIndex, start: int) -> None:
        self.index = index
        self.start = start
        self.dist = reach(index, start)
        self.end_row = last_ending(index, self.dist)
        self.end_to_end = index.end[self.end_row] - index.start[start]
        self.path, self.steps = critical_path(index, self.dist, self.end_row)
        self.segments, self.skew = segments(index, self.path, self.steps)
        self._hops: int | None = None
        self._services: list[str] | None = None
        self._traces: int | None = None
        self._errors: int | None = None

    # -- summary ---------------------------------------------------------------------------

    @property
    def spans(self) -> int:
        return len(self.dist)

    def trace_rows(self) -> list[int]:
        """The traces of the flow (trace numbers of the index), in the order reached."""
        return list(dict.fromkeys(map(self.index.trace.__getitem__, self.dist)))

    @property
    def traces(self) -> int:
        if self._traces is None:
            self._traces = len(set(map(self.index.trace.__getitem__, self.dist)))
        return self._traces

    def services(self) -> list[str]:
        """The flow's services, sorted. Rows of a resource lie in runs: a run is looked up
        once (a bisection into the flow's sorted rows), not a row at a time."""
        if self._services is None:
            rows = sorted(self.dist)
            names: set[str] = set()
            for lo, hi, block in self.index.block_runs():
                at = bisect_left(rows, lo)
                if at < len(rows) and rows[at] < hi:
                    names.add(block.resource.service)
            self._services = sorted(names)
        return self._services

    @property
    def errors(self) -> int:
        if self._errors is None:
            status = self.index.status
            self._errors = sum(map(STATUS_ERROR.__eq__, map(status.__getitem__, self.dist)))
        return self._errors

    @property
    def async_hops(self) -> int:
        """The largest, over the flow, of each span's fewest async edges on a path from the
        start: sync closures layer by layer (a 0-1 breadth-first walk, each span once)."""
        if self._hops is None:
            self._hops = async_hops(self.index, self.start)
        return self._hops

    def summarise(self) -> Flow:
        """Work out every figure of the summary now (in a worker, not on the UI thread)."""
        self.async_hops, self.traces, self.services(), self.errors  # noqa: B018
        return self

    @property
    def queue_wait(self) -> int:
        return sum(s.duration for s in self.segments if s.kind == QUEUE)

    def path_index(self, row: int) -> int | None:
        try:
            return self.path.index(row)
        except ValueError:
            return None


def async_hops(index: SpanIndex, start: int) -> int:
    children, linked_from, is_consumer = index.children, index.linked_from, index.is_consumer
    seen = {start}
    layer = [start]
    hops = -1
    while layer:
        hops += 1
        stack = list(layer)
        later: list[int] = []
        while stack:
            x = stack.pop()
            for y in children(x):
                if y in seen:
                    continue
                if is_consumer(y):
                    later.append(y)
                else:
                    seen.add(y)
                    stack.append(y)
            later.extend(linked_from(x))
        layer = []
        for y in later:
            if y not in seen:
                seen.add(y)
                layer.append(y)
    return hops


# -- over many flows ---------------------------------------------------------------------

def nearest_rank(sorted_values: Sequence[int], percent: int) -> int:
    """The ⌈p·n⌉-th smallest value (nearest-rank percentile); 0 for no values."""
    n = len(sorted_values)
    if not n:
        return 0
    rank = max(1, -(-percent * n // 100))
    return sorted_values[rank - 1]


class SegmentStats:
    """One (service, operation, kind) over many flows: its per-flow totals."""

    __slots__ = ("service", "operation", "kind", "p50", "p95", "share", "tail_share", "flows")

    def __init__(self, service: str, operation: str, kind: str, p50: int, p95: int,
                 share: float, tail_share: float, flows: int) -> None:
        self.service = service
        self.operation = operation
        self.kind = kind
        self.p50 = p50
        self.p95 = p95
        self.share = share  # of the sum of end-to-end latencies, over all flows
        self.tail_share = tail_share  # the same over the flows at or above the p95
        self.flows = flows  # how many flows have it on their critical path


class Distribution:
    """End-to-end latency over the flows of many starts, and which segments make it up."""

    __slots__ = ("starts", "latencies", "p50", "p95", "max", "segments", "ends")

    def __init__(self, starts: list[int], latencies: list[int], segments: list[SegmentStats],
                 ends: list[int]) -> None:
        self.starts = starts
        self.latencies = latencies  # per start, in the order of `starts`
        self.ends = ends  # per start: the span its flow ends with
        ordered = sorted(latencies)
        self.p50 = nearest_rank(ordered, 50)
        self.p95 = nearest_rank(ordered, 95)
        self.max = ordered[-1] if ordered else 0
        self.segments = segments

    @property
    def flows(self) -> int:
        return len(self.starts)

    def histogram(self, buckets: int = 10) -> list[tuple[int, int, int]]:
        """(low, high, flows) for `buckets` equal slices of [min, max] end-to-end: one
        bucket when every flow took the same time (or a few ns apart), which slices of a
        nanosecond would show as ten rows of the same range."""
        if not self.latencies:
            return []
        lo, hi = min(self.latencies), self.max
        if hi == lo:
            return [(lo, hi, len(self.latencies))]
        buckets = min(buckets, hi - lo)  # never slices of under a nanosecond
        width = max(1, -(-(hi - lo) // buckets))
        counts = [0] * buckets
        for v in self.latencies:
            counts[min(buckets - 1, (v - lo) // width)] += 1
        return [(lo + i * width, lo + (i + 1) * width, c) for i, c in enumerate(counts)]

    def slowest(self, n: int) -> list[int]:
        """The starts of the `n` slowest flows, slowest first."""
        order = sorted(range(len(self.starts)), key=self.latencies.__getitem__, reverse=True)
        return [self.starts[i] for i in order[:n]]


class Cancelled(Exception):
    pass


def distribution(index: SpanIndex, starts: Sequence[int],
                 progress: Callable[[int, int], None] | None = None,
                 cancelled: Callable[[], bool] | None = None) -> Distribution:
    """The flows of every start: nearest-rank p50/p95/max of their end-to-end latency and,
    per (service, operation, kind) of the critical paths' segments, p50/p95 of its total
    per flow (0 where a flow lacks it) and its share of the summed end-to-end latency.
    A queue segment is named by its effect. `cancelled()` is asked between flows."""
    service, name = index.service, index.name
    latencies: list[int] = []
    ends: list[int] = []
    # key -> [total in each flow that has it]; plus, per flow, the keys it has
    per_flow: list[dict[tuple[str, str, str], int]] = []
    label: dict[int, tuple[str, str]] = {}
    n = len(starts)
    for i, s in enumerate(starts):
        if cancelled is not None and not i % 64 and cancelled():
            raise Cancelled
        if progress is not None and not i % 256:
            progress(i, n)
        flow = Flow(index, s)
        latencies.append(flow.end_to_end)
        ends.append(flow.end_row)
        totals: dict[tuple[str, str, str], int] = {}
        for seg in flow.segments:
            row = seg.row
            names = label.get(row)
            if names is None:
                names = label[row] = (service(row), name[row])
            key = (names[0], names[1], seg.kind)
            totals[key] = totals.get(key, 0) + seg.duration
        per_flow.append(totals)
    if progress is not None:
        progress(n, n)

    ordered = sorted(latencies)
    p95 = nearest_rank(ordered, 95)
    total = sum(latencies)
    tail = [i for i, v in enumerate(latencies) if v >= p95]
    tail_total = sum(latencies[i] for i in tail)
    values: dict[tuple[str, str, str], list[int]] = {}
    tail_sums: dict[tuple[str, str, str], int] = {}
    for totals in per_flow:
        for key, v in totals.items():
            values.setdefault(key, []).append(v)
    for i in tail:
        for key, v in per_flow[i].items():
            tail_sums[key] = tail_sums.get(key, 0) + v
    stats: list[SegmentStats] = []
    for key, vals in values.items():
        vals.sort()
        zeros = n - len(vals)
        stats.append(SegmentStats(
            key[0], key[1], key[2],
            _with_zeros(vals, zeros, 50), _with_zeros(vals, zeros, 95),
            sum(vals) / total if total else 0.0,
            tail_sums.get(key, 0) / tail_total if tail_total else 0.0,
            len(vals)))
    stats.sort(key=lambda s: (-s.share, -s.tail_share, s.service, s.operation, s.kind))
    return Distribution(list(starts), latencies, stats, ends)


def _with_zeros(sorted_values: list[int], zeros: int, percent: int) -> int:
    """nearest_rank over `zeros` zeros followed by `sorted_values` (no list built)."""
    n = zeros + len(sorted_values)
    rank = max(1, -(-percent * n // 100))
    return 0 if rank <= zeros else sorted_values[rank - zeros - 1]


# -- choosing starts ---------------------------------------------------------------------

def spans_of_operation(index: SpanIndex, service: str, operation: str) -> list[int]:
    """Every span of that service and operation, by start time."""
    rows = list(compress(count(), map(operation.__eq__, index.name)))
    svc = index.service
    rows = [r for r in rows if svc(r) == service]
    rows.sort(key=index.start.__getitem__)
    return rows


def parse_operation(index: SpanIndex, text: str) -> tuple[str, str] | None:
    """`SERVICE OPERATION` split where the loaded data has such a pair (a service name may
    hold spaces too); None when no split matches any span. Several matching splits: the
    longest service name."""
    text = text.strip()
    names = set(index.name)
    found: tuple[str, str] | None = None
    at = text.find(" ")
    while at > 0:
        service, operation = text[:at], text[at + 1:].strip()
        if operation in names and spans_of_operation(index, service, operation):
            found = (service, operation)
        at = text.find(" ", at + 1)
    return found


def roots_like(index: SpanIndex, trace: int) -> list[int]:
    """The roots of every trace whose root has the service and operation of this one's."""
    root = index.traces[trace].root
    if root < 0:
        return []
    return roots_of_operation(index, index.service(root), index.name[root])


def roots_of_operation(index: SpanIndex, service: str, operation: str) -> list[int]:
    """The roots of every trace whose root has this service and operation, by start."""
    name = index.name
    out = [s.root for s in index.traces
           if s.root >= 0 and name[s.root] == operation and index.service(s.root) == service]
    out.sort(key=index.start.__getitem__)
    return out
