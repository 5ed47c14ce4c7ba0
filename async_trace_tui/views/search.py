"""The Traces table's full-text search: every span's service, operation and attributes.

Built once per index in a background thread (`build_search`), a pass over the spans in
row order. Attribute values stay undecoded in the loaders until asked for, so each span's
attributes are decoded here one at a time and only their text is kept: per trace, the
distinct `key=value` strings of its spans, with its services and operations, lower case, as
one UTF-8 `bytes` (a `str` holding one non-ASCII character takes two or four bytes for every
character). A trace's text is finished, and its set of strings let go, as soon as its last
span is seen: only the traces in progress hold sets.

Resource attributes (host, pod, process, SDK: often most of a span's text) are the same for
every span of a resource, so they are kept once per resource, with the traces that have a
span of it: a query that matches a resource's text matches those traces.

A key in the filter then costs one C-level pass over the table's rows (`RowFilter`:
map/compress over `bytes.__contains__`), not a Python test per trace.
"""

from __future__ import annotations

import gc
import time
from array import array
from collections.abc import Callable, Iterable
from itertools import compress, repeat
from operator import contains, or_
from typing import Any

from ..index import SpanIndex


class Cancelled(Exception):
    """The index the search was being built for went away."""


class SearchText:
    """Every trace's searchable text (lower case, UTF-8) by trace index, and every
    resource's with the traces that use it."""

    __slots__ = ("segs", "resources", "resource_traces")

    def __init__(self, traces: int) -> None:
        self.segs: list[bytes] = [b""] * traces
        self.resources: list[bytes] = []
        self.resource_traces: list[array[int]] = []

    def __len__(self) -> int:
        return len(self.segs)

    def add(self, t: int, terms: Iterable[str]) -> None:
        self.segs[t] = _text(terms)

    def add_resource(self, terms: Iterable[str]) -> int:
        self.resources.append(_text(terms))
        self.resource_traces.append(array("q"))
        return len(self.resources) - 1

    def text(self, t: int) -> str:
        """The trace's text, its resources' included (for tests and the curious)."""
        own = [self.segs[t].decode()]
        own += [r.decode() for r, ts in zip(self.resources, self.resource_traces, strict=True)
                if t in ts]
        return "\n".join(own)

    def resource_hits(self, needle: bytes) -> bytearray | None:
        """A flag per trace index (and one more, always 0, for traces it does not know):
        1 where a resource of the trace matches; None when no resource does."""
        hits = [k for k, text in enumerate(self.resources) if needle in text]
        if not hits:
            return None
        flags = bytearray(len(self.segs) + 1)
        for k in hits:
            for t in self.resource_traces[k]:
                flags[t] = 1
        return flags

    def matching(self, query: str) -> bytearray:
        """A flag per trace index: 1 where `query` (lower case) is in the trace's text."""
        needle = query.encode()
        flags = bytearray(map(contains, self.segs, repeat(needle)))
        hits = self.resource_hits(needle)
        return flags if hits is None else bytearray(map(or_, flags, hits))


def _text(terms: Iterable[str]) -> bytes:
    return "\n".join(terms).lower().encode(errors="replace")


def _attribute_terms(attributes: dict[str, Any]) -> Iterable[str]:
    return (f"{k}={v}" for k, v in attributes.items())


def build_search(index: SpanIndex, cancelled: Callable[[], bool] = lambda: False
                 ) -> tuple[SearchText, list[str], list[str]]:
    """Per trace index: the search text, the trace's services as "\\x00a\\x00b\\x00", and
    every service, sorted. For a background thread: a pass over every span, handing the
    interpreter to the UI thread every thousand spans."""
    n = len(index.trace_ids)
    search = SearchText(n)
    left = [s.spans for s in index.traces]  # spans of each trace not seen yet
    # The traces in progress: their terms, and the resources (numbers) of their spans.
    parts: dict[int, tuple[set[str], set[int]]] = {}
    services: list[set[str] | None] = [None] * n
    numbers: dict[int, int] = {}  # id(resource) -> its number in `search`
    trace, name = index.trace, index.name
    step = 0

    def finish(t: int) -> None:
        terms, resources = parts.pop(t)
        search.add(t, terms)
        for k in resources:
            search.resource_traces[k].append(t)

    for first, end, block in index.block_runs():
        resource = block.resource
        k = numbers.get(id(resource))
        if k is None:
            k = numbers[id(resource)] = search.add_resource(_attribute_terms(resource.attributes))
        service = resource.service
        source = block.source
        for row in range(first, end):
            step += 1
            if not step & 0x3FF:
                if cancelled():
                    raise Cancelled
                time.sleep(0)  # hand the GIL to the UI thread: keys stay quick meanwhile
            t = trace[row]
            part = parts.get(t)
            if part is None:
                part = parts[t] = (set(), set())
            terms, resources = part
            if k not in resources:
                resources.add(k)
                terms.add(service)
                svc = services[t]
                if svc is None:
                    svc = services[t] = set()
                svc.add(service)
            terms.add(name[row])
            try:
                attributes = source.detail(row - first).attributes
            except Exception:  # a span whose details cannot be read again: its name stands
                attributes = {}
            terms.update(_attribute_terms(attributes))
            left[t] -= 1
            if not left[t]:
                finish(t)
    for t in list(parts):  # (an index whose counts disagree with its rows: never lose text)
        finish(t)
    svc_text = [("\x00" + "\x00".join(s).lower() + "\x00") if s else "\x00\x00"
                for s in services]
    every = sorted(set().union(*(s for s in services if s)))
    gc.freeze()  # long-lived, like the index
    return search, svc_text, every


class RowFilter:
    """The filter over one list of table rows: what each row is searched by, made once
    (rows or search text changed), so that a key costs one pass in C over the rows kept
    in order. `trace_of[i]` is row i's trace index; `quick[i]` its root service and operation
    ("service\\noperation", lower case), known from the start. Until the search text is
    built, and for rows of traces newer than it (live mode), rows match on `quick`."""

    __slots__ = ("quick", "search", "text", "services", "trace_of")

    def __init__(self, trace_of: list[int], quick: list[str], search: SearchText | None = None,
                 services_text: list[str] | None = None) -> None:
        self.quick = quick
        self.search = search
        self.text: list[bytes] | None = None
        self.services: list[str] | None = None
        self.trace_of: list[int] = []
        if search is not None:
            segs, n = search.segs, len(search)
            # (a trace's text holds its root service and operation among the rest)
            self.text = [segs[t] if t < n else quick[i].encode()
                         for i, t in enumerate(trace_of)]
            self.trace_of = [t if t < n else n for t in trace_of]  # n: a trace it does not know
        if services_text is not None:
            n = len(services_text)
            self.services = [services_text[t] if t < n
                             else "\x00" + quick[i].partition("\n")[0] + "\x00"
                             for i, t in enumerate(trace_of)]

    def apply(self, order: list[int], query: str) -> list[int]:
        """The rows of `order` that `query` keeps, in that order: a substring of the
        trace's text, or `service:NAME`, traces with a span of that service."""
        q = query.strip().lower()
        if not q:
            return order
        if q.startswith("service:"):
            name = q[len("service:"):].strip()
            if self.services is None:
                quick = self.quick
                return [i for i in order if quick[i].partition("\n")[0] == name]
            return _kept(order, self.services, f"\x00{name}\x00")
        if self.text is None or self.search is None:
            return _kept(order, self.quick, q)
        needle = q.encode()
        hits = self.search.resource_hits(needle)
        if hits is None:
            return _kept(order, self.text, needle)
        own = map(contains, map(self.text.__getitem__, order), repeat(needle))
        by_resource = map(hits.__getitem__, map(self.trace_of.__getitem__, order))
        return list(compress(order, map(or_, own, by_resource)))


def _kept(order: list[int], texts: list[Any], needle: Any) -> list[int]:
    return list(compress(order, map(contains, map(texts.__getitem__, order), repeat(needle))))
