"""The async service map (SPEC §9): which services hand work to which, how often, how long
the work takes and how long it waits.

Edge rules: the one place they are written down. Every other source of a map (the
ClickHouse store computes `--map` as SQL aggregates) must follow exactly these.

1. **Groups.** `by="service"` (default): a span's group is its resource's `service.name`
   (`unknown_service` when absent or empty). `by="resource:KEY"`: the resource attribute KEY
   as text (strings as they are, booleans `true`/`false`, numbers as Python prints them,
   lists and maps as compact JSON), or `(no KEY)` when the resource lacks it.
2. **Pairs.** A *parent → child pair* is a span and its parent as the index resolves it:
   same trace id, parent span id = the parent's span id, never the span itself
   (`SpanIndex.parent`). A *link pair* is a span C and a loaded span P that C links to
   (trace id and span id both match); a self-link is a pair (P = C).
   - parent → child, child kind CONSUMER: an **async** pair P ⇢ C, same group included.
   - parent → child, any other kind, groups differ: a **sync** pair A → B.
   - parent → child, any other kind, same group: no edge.
   - link pair: an **async** pair P ⇢ C, same group included.
   - a link whose target is not loaded: no edge; counted in the `unresolved_links` of the
     group of the span that holds the link (links with malformed ids are never loaded).
   A CONSUMER that also links to its own parent makes two async pairs: each edge counts.
3. **Edges** are the pairs grouped by (group of cause, group of effect, kind), where the cause
   is the parent / the linked span P and the effect the child / the linking span C:
   `count` = pairs; `errors` = pairs whose effect has status ERROR; `duration_p50_ns` /
   `duration_p95_ns` over the effects' durations (end − start); `lag_p50_ns` /
   `lag_p95_ns` over C.start − P.end for async edges (both spans are loaded in every async
   pair, so never null there; negative when they overlap), null for sync edges.
4. **Percentiles** are nearest-rank: of n values sorted ascending, the ⌈p·n⌉-th smallest
   (1-based), computed in integers: index (p100·n + 99) // 100 − 1.
5. **Services** (groups that hold at least one span): `spans`, `errors` (spans with status
   ERROR), `traces` (distinct trace ids with a span of the group) and `unresolved_links`
   (rule 2; the one field beyond §9).
6. **Order** (deterministic JSON): services by name, edges by (from, to, kind), names
   compared by code point (what ClickHouse's byte-wise ORDER BY on UTF-8 gives too).

A source that computes the §9 JSON elsewhere (the ClickHouse store, as SQL aggregates) offers
`service_map_json(by) -> dict`; `--map` then turns it into a map with `ServiceMap.from_json`,
which the text form and the Services tab read as they read one built here (only its span
pairs are missing).

Parent ids that loop (A's parent B, B's parent A) are kept as the file has them until the
dependencies view needs a tree (the index then breaks each loop at its earliest span), so a
map built before that counts both pairs of a loop.

Everything is computed over the index's columns, with the per-row work in C where it can be
(`map`/`compress` over arrays); Python loops only over the pairs that cross groups, the
CONSUMER spans and the links.
"""

from __future__ import annotations

import heapq
import json
from array import array
from collections import defaultdict
from itertools import compress, repeat
from operator import ne, sub
from typing import Any

from ..index import SpanIndex
from ..model import KIND_CONSUMER, STATUS_ERROR, Resource

SYNC = "sync"
ASYNC = "async"
# Rows per C-speed call: a map built in a worker thread must not hold the interpreter (and
# with it the TUI's screen and keys) for more than a few milliseconds at a time.
_SLICE = 1 << 16


class MapSpecError(ValueError):
    pass


def parse_by(spec: str) -> str:
    """`service` or `resource:KEY`; the resource key, or "" for service."""
    if spec == "service":
        return ""
    mode, sep, key = spec.partition(":")
    if mode == "resource" and sep and key:
        return key
    raise MapSpecError(f"unknown map grouping {spec!r}: use service or resource:KEY")


def map_groupings(index: SpanIndex) -> list[str]:
    """What a map can be grouped by, for a picker: `service`, then `resource:KEY` for every
    resource attribute key of the loaded spans, the keys on the most spans first (ties by
    name). One pass over the blocks (resources are shared), not over the spans."""
    spans: dict[str, int] = {}
    for first, end, block in index.block_runs():
        for key in block.resource.attributes:
            if key != "service.name":
                spans[key] = spans.get(key, 0) + end - first
    return ["service", *(f"resource:{k}" for k in sorted(spans, key=lambda k: (-spans[k], k)))]


def value_text(value: Any) -> str:
    """A resource attribute value as a group name (rule 1)."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, bytes | bytearray):
        return value.hex()
    if isinstance(value, list | tuple | dict):
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str)
    return str(value)


def group_name(resource: Resource, key: str) -> str:
    """The group of a resource's spans: its service, or the resource attribute `key`."""
    if not key:
        return resource.service
    value = resource.attributes.get(key)
    return f"(no {key})" if value is None else value_text(value)


def percentile(ordered: list[int], p100: int) -> int | None:
    """Nearest rank: the ⌈p·n⌉-th smallest of `ordered` (sorted ascending), p = p100/100."""
    n = len(ordered)
    if not n:
        return None
    return ordered[max(0, (p100 * n + 99) // 100 - 1)]


class MapService:
    __slots__ = ("name", "spans", "errors", "traces", "unresolved_links")

    def __init__(self, name: str) -> None:
        self.name = name
        self.spans = 0
        self.errors = 0
        self.traces = 0
        self.unresolved_links = 0

    @property
    def error_rate(self) -> float:
        return self.errors / self.spans if self.spans else 0.0

    def as_json(self) -> dict[str, Any]:
        return {"name": self.name, "spans": self.spans, "errors": self.errors,
                "traces": self.traces, "unresolved_links": self.unresolved_links}


class MapEdge:
    """One edge of the map and the span pairs behind it (cause rows, effect rows)."""

    __slots__ = ("source", "target", "kind", "count", "errors", "duration_p50", "duration_p95",
                 "lag_p50", "lag_p95", "causes", "effects")

    def __init__(self, source: str, target: str, kind: str, causes: list[int],
                 effects: list[int]) -> None:
        self.source = source
        self.target = target
        self.kind = kind
        self.causes = causes
        self.effects = effects
        self.count = len(effects)
        self.errors = 0
        self.duration_p50: int | None = None
        self.duration_p95: int | None = None
        self.lag_p50: int | None = None
        self.lag_p95: int | None = None

    @property
    def is_async(self) -> bool:
        return self.kind == ASYNC

    @property
    def error_rate(self) -> float:
        return self.errors / self.count if self.count else 0.0

    def as_json(self) -> dict[str, Any]:
        return {"from": self.source, "to": self.target, "kind": self.kind,
                "count": self.count, "errors": self.errors,
                "duration_p50_ns": self.duration_p50, "duration_p95_ns": self.duration_p95,
                "lag_p50_ns": self.lag_p50, "lag_p95_ns": self.lag_p95}


class SpanPair:
    """One pair behind an edge: the cause and effect rows, the effect's duration and (async)
    the lag."""

    __slots__ = ("cause", "effect", "duration", "lag")

    def __init__(self, cause: int, effect: int, duration: int, lag: int | None) -> None:
        self.cause = cause
        self.effect = effect
        self.duration = duration
        self.lag = lag


class ServiceMap:
    """Services (by name) and edges (in rule 6's order) of one index, grouped by `by`."""

    __slots__ = ("index", "by", "services", "edges")

    def __init__(self, index: SpanIndex, by: str, services: list[MapService],
                 edges: list[MapEdge]) -> None:
        self.index = index
        self.by = by
        self.services = services
        self.edges = edges

    def service(self, name: str) -> MapService | None:
        return next((s for s in self.services if s.name == name), None)

    def outgoing(self, name: str) -> list[MapEdge]:
        return [e for e in self.edges if e.source == name]

    def incoming(self, name: str) -> list[MapEdge]:
        return [e for e in self.edges if e.target == name]

    def as_json(self) -> dict[str, Any]:
        return {"services": [s.as_json() for s in self.services],
                "edges": [e.as_json() for e in self.edges]}

    @classmethod
    def from_json(cls, doc: dict[str, Any], by: str, index: SpanIndex | None = None) -> ServiceMap:
        """A map from its §9 JSON (computed elsewhere); its edges hold no span pairs."""
        services = []
        for d in doc["services"]:
            s = MapService(d["name"])
            s.spans, s.errors, s.traces = d["spans"], d["errors"], d["traces"]
            s.unresolved_links = d.get("unresolved_links", 0)
            services.append(s)
        edges = []
        for d in doc["edges"]:
            e = MapEdge(d["from"], d["to"], d["kind"], [], [])
            e.count, e.errors = d["count"], d["errors"]
            e.duration_p50, e.duration_p95 = d["duration_p50_ns"], d["duration_p95_ns"]
            e.lag_p50, e.lag_p95 = d["lag_p50_ns"], d["lag_p95_ns"]
            edges.append(e)
        return cls(index, by, services, edges)  # type: ignore[arg-type]

    def pairs(self, edge: MapEdge, limit: int | None = None) -> list[SpanPair]:
        """The span pairs behind `edge`, the slowest first: by lag for async edges, by the
        effect's duration for sync ones; ties by cause and effect row (file order)."""
        idx = self.index
        start, end = idx.start, idx.end
        causes, effects = edge.causes, edge.effects
        if edge.is_async:
            keys = list(map(sub, map(start.__getitem__, effects), map(end.__getitem__, causes)))
        else:
            keys = list(map(sub, map(end.__getitem__, effects), map(start.__getitem__, effects)))
        order = range(len(effects))

        def rank(i: int) -> tuple[int, int, int]:
            return (-keys[i], causes[i], effects[i])

        chosen = (sorted(order, key=rank) if limit is None or limit >= len(effects)
                  else heapq.nsmallest(limit, order, key=rank))
        out = []
        for i in chosen:
            c, e = causes[i], effects[i]
            out.append(SpanPair(c, e, end[e] - start[e], keys[i] if edge.is_async else None))
        return out


def build_map(index: SpanIndex, by: str = "service") -> ServiceMap:
    """The map of every span loaded in `index` (rules in the module docstring)."""
    key = parse_by(by)
    names: dict[str, int] = {}
    by_resource: dict[int, int] = {}
    gid = array("l")
    spans: list[int] = []
    traces: list[set[int]] = []
    trace = index.trace
    n = len(index)  # rows a live index appends meanwhile wait for the next map
    for first, stop, block in index.block_runs():
        if first >= n:
            break
        stop = min(stop, n)
        res = block.resource
        g = by_resource.get(id(res))
        if g is None:
            name = group_name(res, key)
            g = names.get(name)
            if g is None:
                g = names[name] = len(names)
                spans.append(0)
                traces.append(set())
            by_resource[id(res)] = g
        spans[g] += stop - first
        for lo in range(first, stop, _SLICE):
            hi = min(stop, lo + _SLICE)
            gid.extend(repeat(g, hi - lo))
            traces[g].update(trace[lo:hi])
    if len(gid) < n:  # rows outside any block (none today): no group to count them in
        n = len(gid)
    ngroups = len(names)

    parent, kind, status = index.parent, index.kind, index.status
    # The group of each row's parent (a root's -1 reads the last row's group: roots are
    # dropped below). Rows whose parent is in another group are the sync candidates.
    pg = array("l")
    sync: defaultdict[int, list[int]] = defaultdict(list)
    for lo in range(0, n, _SLICE):
        hi = min(n, lo + _SLICE)
        pg.extend(map(gid.__getitem__, parent[lo:hi]))
        for r in compress(range(lo, hi), map(ne, pg[lo:hi], gid[lo:hi])):
            if parent[r] >= 0 and kind[r] != KIND_CONSUMER:
                sync[pg[r] * ngroups + gid[r]].append(r)

    async_pairs: defaultdict[int, tuple[list[int], list[int]]] = defaultdict(lambda: ([], []))
    r = kind.find(KIND_CONSUMER, 0, n)
    while r >= 0:
        p = parent[r]
        if p >= 0:
            causes, effects = async_pairs[pg[r] * ngroups + gid[r]]
            causes.append(p)
            effects.append(r)
        r = kind.find(KIND_CONSUMER, r + 1, n)

    unresolved = [0] * ngroups
    for r, targets in index.link_target.items():
        if r >= n:
            continue
        g = gid[r]
        for t in targets:
            if t is None or t >= n:
                unresolved[g] += 1
            else:
                causes, effects = async_pairs[gid[t] * ngroups + g]
                causes.append(t)
                effects.append(r)

    errors = [0] * ngroups
    r = status.find(STATUS_ERROR, 0, n)
    while r >= 0:
        errors[gid[r]] += 1
        r = status.find(STATUS_ERROR, r + 1, n)

    group_names = list(names)
    services = []
    for name, g in sorted(names.items()):
        s = MapService(name)
        s.spans, s.errors, s.traces, s.unresolved_links = (
            spans[g], errors[g], len(traces[g]), unresolved[g])
        services.append(s)

    edges = []
    for k, effects in sync.items():
        causes = list(map(parent.__getitem__, effects))
        edges.append(_edge(index, group_names, ngroups, k, SYNC, causes, effects))
    for k, (causes, effects) in async_pairs.items():
        edges.append(_edge(index, group_names, ngroups, k, ASYNC, causes, effects))
    edges.sort(key=lambda e: (e.source, e.target, e.kind))
    return ServiceMap(index, by, services, edges)


def _edge(index: SpanIndex, names: list[str], ngroups: int, k: int, kind: str,
          causes: list[int], effects: list[int]) -> MapEdge:
    a, b = divmod(k, ngroups)
    e = MapEdge(names[a], names[b], kind, causes, effects)
    start, end = index.start, index.end
    e.errors = bytes(map(index.status.__getitem__, effects)).count(STATUS_ERROR)
    durations = _sorted_differences(end, effects, start, effects)
    e.duration_p50, e.duration_p95 = percentile(durations, 50), percentile(durations, 95)
    if kind == ASYNC:
        lags = _sorted_differences(start, effects, end, causes)
        e.lag_p50, e.lag_p95 = percentile(lags, 50), percentile(lags, 95)
    return e


def _sorted_differences(a: array[int], rows_a: list[int], b: array[int],
                        rows_b: list[int]) -> list[int]:
    """a[rows_a[i]] - b[rows_b[i]] for every i, ascending (made in slices: see _SLICE)."""
    out: list[int] = []
    for lo in range(0, len(rows_a), _SLICE):
        hi = lo + _SLICE
        out.extend(map(sub, map(a.__getitem__, rows_a[lo:hi]), map(b.__getitem__, rows_b[lo:hi])))
    out.sort()
    return out


def layers(service_map: ServiceMap) -> dict[str, int]:
    """Each service's call depth: 0 for services nothing calls (or, in a loop nothing
    enters, the first by name), then one more than the nearest caller (breadth first, over
    both kinds of edge; an edge to a service's own group does not count)."""
    succ: dict[str, list[str]] = defaultdict(list)
    has_caller: set[str] = set()
    for e in service_map.edges:
        if e.source != e.target:
            succ[e.source].append(e.target)
            has_caller.add(e.target)
    depth: dict[str, int] = {}
    names = [s.name for s in service_map.services]
    starts = [n for n in names if n not in has_caller]
    while True:
        frontier = [n for n in starts if n not in depth]
        for n in frontier:
            depth[n] = 0
        while frontier:
            nxt = []
            for n in frontier:
                for m in succ.get(n, ()):
                    if m not in depth:
                        depth[m] = depth[n] + 1
                        nxt.append(m)
            frontier = nxt
        rest = [n for n in names if n not in depth]
        if not rest:
            return depth
        starts = rest[:1]  # a loop no one enters from outside: start at its first name
