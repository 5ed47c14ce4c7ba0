"""Rows of `otel_traces` into the span index, as the loaders put file records there.

The columns are read by name in the order of `SPAN_COLUMNS`; a table of an older exporter
(no ScopeName/ScopeVersion, scope in the span attributes, `SPAN_KIND_SERVER`, Duration
Int64) reads the same. Attributes, events and links stay as fetched, per block, until a
span's details are shown.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from typing import Any

from ...index import IndexBuilder
from ...loading import DUPLICATES
from ...loading.report import LoadReport
from ...model import (
    LinkDetail,
    Resource,
    Scope,
    SpanDetail,
    SpanEvent,
    kind_from_any,
    status_from_any,
)

# (name in the SELECT list, expression, default when the table lacks the column)
SPAN_COLUMNS: list[tuple[str, str, str]] = [
    ("TraceId", "TraceId", ""),
    ("SpanId", "SpanId", ""),
    ("ParentSpanId", "ParentSpanId", ""),
    ("TraceState", "TraceState", "''"),
    ("SpanName", "SpanName", ""),
    ("SpanKind", "toString(SpanKind)", ""),
    ("ServiceName", "toString(ServiceName)", ""),
    ("ResourceAttributes", "ResourceAttributes", "map()"),
    ("ScopeName", "ScopeName", "''"),
    ("ScopeVersion", "ScopeVersion", "''"),
    ("SpanAttributes", "SpanAttributes", "map()"),
    ("Timestamp", "toUnixTimestamp64Nano(Timestamp)", ""),
    ("Duration", "toInt64(Duration)", ""),
    ("StatusCode", "toString(StatusCode)", ""),
    ("StatusMessage", "StatusMessage", "''"),
    ("Events.Timestamp", "arrayMap(x -> toUnixTimestamp64Nano(x), `Events.Timestamp`)", "[]"),
    ("Events.Name", "`Events.Name`", "[]"),
    ("Events.Attributes", "`Events.Attributes`", "[]"),
    ("Links.TraceId", "`Links.TraceId`", ""),
    ("Links.SpanId", "`Links.SpanId`", ""),
    ("Links.TraceState", "`Links.TraceState`", "[]"),
    ("Links.Attributes", "`Links.Attributes`", "[]"),
]
REQUIRED = [name for name, _, default in SPAN_COLUMNS if not default]

_ZERO_SPAN = bytes(8)
_ZERO_TRACE = bytes(16)
_SCOPE_KEYS = ("otel.scope.name", "otel.scope.version")  # where older exporters put the scope


def select_list(columns: Collection[str]) -> str:
    """The SELECT list for a table with these columns (missing optional ones as defaults)."""
    return ", ".join(expr if name in columns else default for name, expr, default in SPAN_COLUMNS)


def hex_id(text: Any, size: int) -> bytes | None:
    if not isinstance(text, str) or len(text) != size * 2:
        return None
    try:
        raw = bytes.fromhex(text)
    except ValueError:
        return None
    return raw if any(raw) else None


class RowDetails:
    """The details of one block's spans, as fetched (read when a span is shown)."""

    __slots__ = ("rows",)

    def __init__(self) -> None:
        self.rows: list[list[Any]] = []

    def attribute_keys(self, offset: int) -> Collection[str]:
        return self.rows[offset][10].keys()

    def detail(self, offset: int) -> SpanDetail:
        r = self.rows[offset]
        events = [SpanEvent(name, ts, dict(attrs)) for ts, name, attrs in zip(r[15], r[16], r[17])]
        links = []
        states = r[20] or [""] * len(r[18])
        attrs_list = r[21] or [{}] * len(r[18])
        for tid, sid, _state, attrs in zip(r[18], r[19], states, attrs_list):
            links.append(LinkDetail(hex_id(tid, 16) or b"", hex_id(sid, 8) or b"", dict(attrs)))
        return SpanDetail(dict(r[10]), events, links, r[14] or "", r[3] or "")


class SpanRows:
    """Adds fetched rows to an IndexBuilder, once per (trace, span), and remembers per trace
    what the store source needs to follow it: its span ids, time bounds and link targets."""

    def __init__(self, builder: IndexBuilder, report: LoadReport) -> None:
        self.b = builder
        self.report = report
        self.have: set[tuple[bytes, bytes]] = set()
        self.span_ids: dict[bytes, list[str]] = {}
        self.bounds: dict[bytes, tuple[int, int]] = {}
        self.targets: dict[bytes, set[bytes]] = {}
        self._resources: dict[Any, Resource] = {}
        self._scopes: dict[tuple[str, str], Scope] = {}

    def add(self, rows: Iterable[list[Any]]) -> int:
        """Add rows (SPAN_COLUMNS order); returns how many were new. A span twice in one
        answer is twice in the table (an exporter's retry): kept once, counted as a file
        load counts it; one fetched earlier is simply known."""
        groups: dict[tuple[int, int], tuple[Resource, Scope, list[list[Any]]]] = {}
        fresh: set[tuple[bytes, bytes]] = set()
        for r in rows:
            tid = hex_id(r[0], 16)
            sid = hex_id(r[1], 8)
            if tid is None or sid is None:
                self.report.skip("spans with an empty or malformed id", "store",
                                 f"span {r[4]!r}: ids {r[0]!r}/{r[1]!r} are not hex of 16/8 bytes")
                continue
            if (tid, sid) in self.have:
                if (tid, sid) in fresh:
                    self.report.skip(DUPLICATES, "store",
                                     f"span {r[4]!r} {r[1]} is in the table more than once")
                continue
            self.have.add((tid, sid))
            fresh.add((tid, sid))
            attrs = r[10]
            scope_name, scope_version = r[8], r[9]
            if not scope_name and any(k in attrs for k in _SCOPE_KEYS):
                attrs = dict(attrs)
                scope_name = attrs.pop("otel.scope.name", "")
                scope_version = attrs.pop("otel.scope.version", "")
                r[10] = attrs
            resource = self._resource(r[6], r[7])
            scope = self._scope(scope_name, scope_version)
            key = (id(resource), id(scope))
            g = groups.get(key)
            if g is None:
                g = groups[key] = (resource, scope, [])
            r[0], r[1] = tid, sid
            g[2].append(r)
        added = 0
        for resource, scope, members in groups.values():
            details = RowDetails()
            self.b.add_block(resource, scope, details)
            for r in members:
                self._append(r, details)
                added += 1
        return added

    def _resource(self, service: str, attrs: dict[str, str]) -> Resource:
        key = (service, tuple(sorted(attrs.items())))
        res = self._resources.get(key)
        if res is None:
            full = dict(attrs)
            if service and "service.name" not in full:
                full["service.name"] = service
            res = self._resources[key] = Resource(full)
        return res

    def _scope(self, name: str, version: str) -> Scope:
        key = (name or "", version or "")
        sc = self._scopes.get(key)
        if sc is None:
            sc = self._scopes[key] = Scope(key[0], key[1], {})
        return sc

    def _append(self, r: list[Any], details: RowDetails) -> None:
        b = self.b
        tid, sid = r[0], r[1]
        pid = hex_id(r[2], 8) or b""
        start = int(r[11])
        duration = int(r[12])
        if duration < 0:
            self.report.warn("spans ending before they start (duration shown as 0)", "store",
                             f"span {r[4]!r} ends before it starts (clock skew?)")
            duration = 0
        end = start + duration
        b.trace.append(b.trace_row(tid))
        b.span_id.append(sid)
        b.parent_id.append(pid if pid != _ZERO_SPAN else b"")
        b.name.append(b.intern_name(r[4]))
        b.kind.append(kind_from_any(r[5]) or 0)
        b.status.append(status_from_any(r[13]) or 0)
        b.start.append(start)
        b.end.append(end)
        row = len(b.span_id) - 1
        links = []
        for lt, ls in zip(r[18], r[19]):
            ltid, lsid = hex_id(lt, 16), hex_id(ls, 8)
            if ltid is None or lsid is None:
                self.report.skip("links with an empty or malformed id", "store",
                                 f"span {r[4]!r} has a link with an empty or malformed id")
                continue
            links.append((ltid, lsid))
            self.targets.setdefault(tid, set()).add(ltid)
        if links:
            b.links[row] = links
        details.rows.append(r)
        self.span_ids.setdefault(tid, []).append(sid.hex())
        lo, hi = self.bounds.get(tid, (start, end))
        self.bounds[tid] = (min(lo, start), max(hi, end))


