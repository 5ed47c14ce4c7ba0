"""What the details panel shows for a dependencies-tree node, as plain sections of fields.

Textual-free: the TUI's DetailsPanel only renders what `DetailsBuilder.build(node)` returns.
Values are plain `str` from span data, *not* escaped: the renderer puts them into
`rich.text.Text` through `format.safe_text` (a multi-line value, e.g. a stack trace, keeps its
newlines as separate lines: escape each line, not the whole).
"""

from __future__ import annotations

import json
from bisect import bisect_left, bisect_right
from typing import Any, NamedTuple

from ..index import SpanIndex
from ..model import KIND_NAMES, STATUS_ERROR, STATUS_NAMES
from ..words import counted
from .dependencies import (
    ASYNC_DOWN,
    ASYNC_UP,
    CYCLE,
    MISSING,
    MORE,
    ROOT,
    SYNC,
    SYNC_UP,
    TRACE,
    DepNode,
)
from .format import duration as _duration
from .format import timestamp
from .glyphs import UNICODE, Glyphs
from .grouping import aggregate
from .labels import lag_text
from .short_ids import short_trace_id

# Tones the renderer maps to theme colours.
PLAIN, ERROR, OK, DIM, HEADING = "", "error", "ok", "dim", "heading"

TRACES_CAP = 20  # merged traces listed for a grouped node before "+N more"
# Span data can be megabytes (a 1 MB attribute, a 1 MB span name): the panel shows the first
# VALUE_CHARS characters or VALUE_LINES lines of a value, says how long it is, and keeps it
# whole in `Field.full` (the panel's `v` pages it). Labels and titles are cut shorter.
VALUE_CHARS = 4000
VALUE_LINES = 100
LABEL_CHARS = 200
LINKED_FROM_CAP = 10
EVENTS_CAP = 50
LINKS_CAP = 50


class Field(NamedTuple):
    label: str
    value: str
    tone: str = PLAIN
    indent: int = 0  # nesting level: an event's or a link's attributes sit under it
    full: str | None = None  # the whole value, when `value` is cut for display


class Section(NamedTuple):
    title: str
    fields: list[Field]


class Details(NamedTuple):
    title: str  # one line naming the node
    tone: str
    sections: list[Section]


EDGE_TEXT = {
    ROOT: "the trace (its root spans)",
    SYNC: "sync call: a child of the node above",
    SYNC_UP: "sync caller: the parent of the node above",
    ASYNC_DOWN: "async, caused by the node above (links to it, or consumed its message)",
    ASYNC_UP: "async, led to the node above (the node above links to it)",
}
# A span right under a trace node: the trace node holds only spans without a parent in it.
ROOT_SPAN_TEXT = "a root of the trace above (no parent in it)"


def format_value(value: Any) -> str:
    """An attribute value as a user reads it (OTLP AnyValue decoded to Python)."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, bytes | bytearray):
        return value.hex()
    if isinstance(value, list | tuple | dict):
        try:
            return json.dumps(value, ensure_ascii=False, default=str)
        except (TypeError, ValueError):
            return str(value)
    return str(value)


class DetailsBuilder:
    """Builds `Details` for nodes of views over one index; caches per-trace facts."""

    def __init__(self, index: SpanIndex, glyphs: Glyphs = UNICODE) -> None:
        self.index = index
        self.g = glyphs
        self._services: dict[int, list[str]] = {}

    def duration(self, ns: int | None) -> str:
        return _duration(ns, self.g.micro)

    def lag(self, ns: int | None) -> str:
        """A lag, or `overlap 25.6 ms` when negative."""
        return "-" if ns is None else lag_text(ns, "", self.g.micro).removeprefix("lag ")

    def short_id(self, hex_id: str) -> str:
        return short_trace_id(self.index, hex_id, self.g.ellipsis)

    def op(self, row: int) -> str:
        """`service · operation` of a span."""
        idx = self.index
        return f"{idx.service(row)}{self.g.sep}{idx.name[row]}"

    # -- per trace -------------------------------------------------------------------------

    def trace_services(self, t: int) -> list[str]:
        """Services of a trace's spans, by first appearance (cached: a trace may be huge)."""
        got = self._services.get(t)
        if got is None:
            idx = self.index
            rows = idx.spans_of(t)  # ascending
            seen: dict[str, None] = {}
            # Rows come in blocks sharing a resource: one lookup per block the trace
            # touches, not one per span (a trace may hold a million spans).
            firsts = getattr(idx, "_block_first", None)
            i, n = 0, len(rows)
            while i < n:
                row = rows[i]
                seen.setdefault(idx.service(row))
                if firsts is None:
                    i += 1
                    continue
                b = bisect_right(firsts, row)
                if b >= len(firsts):
                    break
                i = bisect_left(rows, firsts[b], i + 1)
            got = self._services[t] = list(seen)
        return got

    def trace_section(self, t: int, title: str | None = None) -> Section:
        idx = self.index
        s = idx.traces[t]
        f: list[Field] = [Field("trace id", idx.trace_ids[t].hex())]
        if s.root >= 0:
            f.append(Field("root", self.op(s.root)))
        f.append(Field("duration", self.duration(s.duration)))
        f.append(Field("start", timestamp(s.start)))
        f.append(Field("spans", f"{s.spans:,}"))
        services = self.trace_services(t)
        f.append(Field("services", f"{len(services)}: " + ", ".join(services[:12])
                       + (f", +{len(services) - 12} more" if len(services) > 12 else "")))
        f.append(Field("errors", str(s.errors), ERROR if s.errors else PLAIN))
        # By the flow of work, not by link direction: a consumer's links point back to the
        # producers whose work it continued.
        f.append(Field("async from", f"{counted(s.links_out, 'link')} "
                                     "to work this trace continued"))
        f.append(Field("async to", f"{counted(s.links_in, 'link')} "
                                   "from work that continued this trace"))
        return Section(title or f"trace {self.short_id(idx.trace_ids[t].hex())}", f)

    # -- per span --------------------------------------------------------------------------

    def span_sections(self, row: int, title: str = "span") -> list[Section]:
        idx = self.index
        detail = idx.detail(row)
        kind = idx.kind[row]
        status = idx.status[row]
        f: list[Field] = [
            Field("service", idx.service(row)),
            Field("operation", idx.name[row]),
            Field("kind", KIND_NAMES[kind] if kind < len(KIND_NAMES) else str(kind)),
            Field("shape", idx.shape(row)),
        ]
        status_text = STATUS_NAMES[status] if status < len(STATUS_NAMES) else str(status)
        if detail.status_message:
            status_text += f": {detail.status_message}"
        f.append(Field("status", status_text, ERROR if status == STATUS_ERROR else PLAIN))
        f.append(Field("duration", self.duration(idx.duration(row))))
        f.append(Field("start", timestamp(idx.start[row])))
        f.append(Field("trace id", idx.trace_id_of(row).hex()))
        f.append(Field("span id", idx.span_id[row].hex()))
        pid = idx.parent_id[row]
        if pid:
            parent = idx.parent[row]
            f.append(Field("parent id", pid.hex() + ("" if parent >= 0 else "  (not loaded)"),
                           PLAIN if parent >= 0 else DIM))
        scope = idx.scope(row)
        if scope.name:
            f.append(Field("scope", scope.name + (f" {scope.version}" if scope.version else "")))
        if detail.error:  # what the index holds is above; attributes, events, links are not
            f.append(Field("unreadable", detail.error, ERROR))
        sections = [Section(title, f)]

        if detail.attributes:
            sections.append(Section(f"attributes ({len(detail.attributes)})", [
                Field(k, format_value(v)) for k, v in detail.attributes.items()]))
        res = idx.resource(row).attributes
        if res:
            sections.append(Section("resource", [Field(k, format_value(v)) for k, v in res.items()]))
        if detail.events:
            sections.append(self._events(row, detail.events))
        if detail.links:
            sections.append(self._links(detail.links))
        sources = idx.linked_from(row)
        if sources:
            ff = [Field(f"{self.short_id(idx.trace_id_of(s).hex())}",
                        self.op(s)) for s in sources[:LINKED_FROM_CAP]]
            if len(sources) > LINKED_FROM_CAP:
                ff.append(Field("", f"+{len(sources) - LINKED_FROM_CAP} more", DIM))
            sections.append(Section(f"linked from ({len(sources)})", ff))
        return sections

    def _events(self, row: int, events: list[Any]) -> Section:
        start = self.index.start[row]
        f: list[Field] = []
        for ev in events[:EVENTS_CAP]:
            at = f"+{self.duration(ev.time_ns - start)}" if ev.time_ns else ""
            attrs = ev.attributes
            if ev.name == "exception":
                kind = format_value(attrs.get("exception.type", "exception"))
                f.append(Field(at or "exception", f"exception {kind}", ERROR))
                msg = attrs.get("exception.message")
                if msg is not None:
                    f.append(Field("message", format_value(msg), ERROR, 1))
                trace = attrs.get("exception.stacktrace")
                if trace is not None:
                    f.append(Field("stacktrace", format_value(trace), PLAIN, 1))
                rest = {k: v for k, v in attrs.items()
                        if k not in ("exception.type", "exception.message", "exception.stacktrace")}
            else:
                f.append(Field(at or "event", ev.name, HEADING))
                rest = attrs
            f.extend(Field(k, format_value(v), PLAIN, 1) for k, v in rest.items())
        if len(events) > EVENTS_CAP:
            f.append(Field("", f"+{len(events) - EVENTS_CAP} more events", DIM))
        return Section(f"events ({len(events)})", f)

    def _links(self, links: list[Any]) -> Section:
        idx = self.index
        f: list[Field] = []
        for i, lk in enumerate(links[:LINKS_CAP], 1):
            target = idx.find(lk.trace_id, lk.span_id)
            ids = f"trace {lk.trace_id.hex()} span {lk.span_id.hex()}"
            if target is None:
                f.append(Field(f"link {i}", f"{ids}  (not loaded)", DIM))
            else:
                f.append(Field(f"link {i}", self.op(target), HEADING))
                f.append(Field("target", f"{ids}  (loaded)", PLAIN, 1))
            f.extend(Field(k, format_value(v), PLAIN, 1) for k, v in lk.attributes.items())
        if len(links) > LINKS_CAP:
            f.append(Field("", f"+{len(links) - LINKS_CAP} more links", DIM))
        return Section(f"links ({len(links)})", f)

    # -- per node --------------------------------------------------------------------------

    def build(self, node: DepNode) -> Details:
        """What the panel shows for `node`, long values cut (see VALUE_CHARS)."""
        return cut_long(self._build(node), self.g.ellipsis)

    def _build(self, node: DepNode) -> Details:
        idx = self.index
        kind = node.kind
        if kind == MORE:
            direction = "caused by" if node.edge == ASYNC_DOWN else "leading to"
            return Details(f"+{node.hidden} more async calls", DIM, [Section("hidden by the cap", [
                Field("what", f"{counted(node.hidden, 'more async call')} "
                              f"{direction} the node above"),
                Field("why", f"at most {node.view.options.async_cap} async calls are listed "
                             "per level and direction"),
                Field("show", "press enter (or click) to list them all"),
            ])])
        if kind == MISSING:
            tid, sid = (node.missing or (b"", b""))
            what = ("the parent of the span above" if node.edge in (SYNC_UP, ASYNC_UP) and
                    node.vias and idx.parent_id[node.vias[0]] == sid else
                    "a span linked to by the span above")
            f = [Field("what", f"{what}, not in the loaded data"),
                 Field("trace id", tid.hex()), Field("span id", sid.hex()),
                 Field("edge", EDGE_TEXT.get(node.edge, node.edge))]
            t = idx.trace_index.get(tid)
            f.append(Field("trace", "loaded (the span is not in it)" if t is not None
                           else "not loaded", DIM))
            vias = [v for v in node.vias if v >= 0]
            if vias:
                f.append(Field("referred by", ", ".join(
                    self.op(v) for v in vias[:5])
                    + (f", +{len(vias) - 5} more" if len(vias) > 5 else "")))
            return Details(f"{self.g.missing} span not loaded", DIM, [Section("missing span", f)])
        if kind == TRACE:
            t = idx.trace[node.rows[0]]
            sections = [self.trace_section(t, "trace")]
            if len(node.rows) > 1:
                sections[0].fields.append(Field("root spans", f"{len(node.rows)} (orphans: parents not loaded)", DIM))
            sections.extend(self.span_sections(node.rows[0], "root span"))
            title = f"trace {self.short_id(idx.trace_ids[t].hex())}"
            return Details(title, ERROR if node.errors else HEADING, sections)

        # span or cycle
        rows = node.rows
        first = rows[0]
        title = f"{node.service}{self.g.sep}{node.operation}"
        sections: list[Section] = []
        parent = node.parent_node
        root_span = node.edge == SYNC and parent is not None and parent.kind == TRACE
        reached = [Field("edge", ROOT_SPAN_TEXT if root_span else EDGE_TEXT.get(node.edge, node.edge))]
        other, total = node.in_other_traces()
        if other and total == 1:
            reached.append(Field("async trace", "yes: reached across a link from another trace"))
        elif other:
            reached.append(Field("async trace", f"{'yes' if other == total else 'no'}: {other} of "
                                 f"{total} spans reached across a link from another trace"))
        reached.extend(self._lag_fields(node))
        if kind == CYCLE:
            reached.append(Field("cycle", "this span is already on the path above; not expanded", DIM))
        if node.is_focus:
            reached.append(Field("focus", "this node holds the focus span", HEADING))
        in_view = Section("in this view", reached)

        if len(rows) > 1:
            sections.append(self._group(node))
            sections.append(self._merged_traces(node))
            spans = self.span_sections(first, f"span (first of {len(rows)})")
        else:
            spans = self.span_sections(first)
        sections += [spans[0], in_view, *spans[1:]]
        sections.append(self.trace_section(idx.trace[first]))
        return Details(title, ERROR if node.errors else PLAIN, sections)

    def _lag_fields(self, node: DepNode) -> list[Field]:
        """The lag (or overlap) of an async node, and the two spans it is measured between."""
        lag = node.lag_ns
        if lag is None:
            return []
        agg = "" if len(node.lags) <= 1 else f"{node.view.options.agg} "
        if lag < 0:
            f = [Field("overlap", f"{agg}{self.duration(-lag)}  (the effect started before its "
                                  "cause ended: a link to a span still running, or clocks that "
                                  "differ)", HEADING)]
        else:
            f = [Field("lag", f"{agg}{self.duration(lag)}  (effect start - cause end)")]
        if node.pairs:
            cause, effect = node.pairs[0]
            which = "" if len(node.pairs) == 1 else f" (first of {len(node.pairs)})"
            idx = self.index
            for label, row in (("cause", cause), ("effect", effect)):
                f.append(Field(label + which, self.op(row)))
                f.append(Field("start", timestamp(idx.start[row], 6), PLAIN, 1))
                f.append(Field("end", timestamp(idx.end[row], 6), PLAIN, 1))
        return f

    def _group(self, node: DepNode) -> Section:
        idx = self.index
        rows = node.rows
        agg = node.view.options.agg
        durs = [idx.end[r] - idx.start[r] for r in rows]
        f = [Field("spans", f"{len(rows)}"),
             Field("grouped by", node.view.options.group_by
                   + (f" ({node.group_label})" if node.group_label else "")),
             Field(f"duration {agg}", self.duration(aggregate(durs, agg)), HEADING)]
        for method in ("min", "max", "avg", "sum"):
            if method != agg:
                f.append(Field(f"duration {method}", self.duration(aggregate(durs, method))))
        if node.lags:
            f.append(Field(f"lag {agg}", self.lag(aggregate(node.lags, agg))))
            f.append(Field("lag min/max", f"{self.lag(min(node.lags))} / {self.lag(max(node.lags))}"))
        errors = node.errors
        f.append(Field("errors", f"{errors} of {len(rows)}", ERROR if errors else PLAIN))
        services = {idx.service(r) for r in rows[:1000]}
        if len(services) > 1:
            f.append(Field("services", ", ".join(sorted(services)[:8])))
        return Section("group", f)

    def _merged_traces(self, node: DepNode) -> Section:
        idx = self.index
        by_trace: dict[int, list[int]] = {}
        for r in node.rows:
            by_trace.setdefault(idx.trace[r], []).append(r)
        f: list[Field] = []
        for t, rows in list(by_trace.items())[:TRACES_CAP]:
            s = idx.traces[t]
            root = (self.op(s.root) + "  " if s.root >= 0 else "")
            spans = f"  ({len(rows)} spans)" if len(rows) > 1 else ""
            f.append(Field(self.short_id(idx.trace_ids[t].hex()),
                           f"{root}{self.duration(s.duration)}{spans}",
                           ERROR if any(idx.is_error(r) for r in rows) else PLAIN))
        if len(by_trace) > TRACES_CAP:
            f.append(Field("", f"+{len(by_trace) - TRACES_CAP} more traces", DIM))
        return Section(f"traces merged ({len(by_trace)})", f)


def _cut_at(value: str) -> int | None:
    """Where to cut a value for display; None when it is short enough to show whole."""
    cut = min(len(value), VALUE_CHARS)
    pos = -1
    for _ in range(VALUE_LINES):  # bounded: a value of a million lines costs 100 finds
        pos = value.find("\n", pos + 1, cut)
        if pos < 0:
            break
    else:
        cut = pos
    return cut if cut < len(value) else None


def _short(text: str, limit: int, ellipsis: str) -> str:
    return text if len(text) <= limit else text[:limit] + ellipsis


def cut_long(details: Details, ellipsis: str = "…") -> Details:
    """`details` with every long value cut for display (its whole in `Field.full`, and a
    line after it saying how long it is), labels and the title cut short."""
    sections = []
    for section in details.sections:
        fields: list[Field] = []
        for f in section.fields:
            label = _short(f.label, LABEL_CHARS, ellipsis)
            cut = _cut_at(f.value)
            if cut is None:
                fields.append(f if label is f.label else f._replace(label=label))
                continue
            lines = f.value.count("\n") + 1
            fields.append(Field(label, f.value[:cut], f.tone, f.indent, full=f.value))
            fields.append(Field("", f"{ellipsis} {len(f.value):,} characters"
                                + (f", {lines:,} lines" if lines > 1 else "")
                                + " in all: v shows the whole value", DIM, f.indent))
        sections.append(Section(_short(section.title, LABEL_CHARS, ellipsis), fields))
    return Details(_short(details.title, 2 * LABEL_CHARS, ellipsis), details.tone, sections)
