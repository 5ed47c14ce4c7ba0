"""OTLP/JSON documents and JSON Lines into the span index.

Decoding is typed (msgspec Structs): only the fields the index needs become Python
objects; attributes and events stay as `Raw` slices of the input, decoded when a span's
details are shown. camelCase (the OTLP spec) and snake_case (protobuf's json_format with
preserving_proto_field_name) each get a family of Structs.
A line the typed decoder rejects is decoded again loosely, span by span, so one bad span
costs only itself.
"""


import base64
import binascii
from collections.abc import Callable
from typing import Annotated, Any

import msgspec
from msgspec import Raw

from ..index import IndexBuilder
from ..model import (
    LinkDetail,
    Resource,
    Scope,
    SpanDetail,
    SpanEvent,
    kind_from_any,
    status_from_any,
)
from .anyvalue import json_attributes
from .jsonlines import JsonInputLoader, short
from .report import FileReport, LoadError, LoadReport

_NO_RAW = Raw(b"")
_ZERO_SPAN_ID = bytes(8)
# OTLP times are uint64; the index keeps int64 (until 2262). Outside that: a malformed span.
_Nanos = Annotated[int, msgspec.Meta(ge=0, le=(1 << 63) - 1)]


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(w.title() for w in rest)


def _namer(primary: str) -> Callable[[str], str]:
    """Field names in the primary spelling; a field's `_alt` twin in the other one. Every
    field whose two spellings differ has a twin, so that a document that mixes key styles
    (camelCase at the top, snake_case below, as Grafana's Tempo datasource writes) decodes
    at C speed whichever spelling each level uses: the hot loop reads `x or x_alt`."""
    def name(field: str) -> str:
        alt = field.endswith("_alt")
        base = field[:-4] if alt else field
        return _camel(base) if (primary == "camel") != alt else base
    return name


def _family(primary: str) -> dict[str, Any]:
    """The Struct types for one primary key spelling (the other one read as twins)."""
    rename = _namer(primary)

    class Status(msgspec.Struct, rename=rename, gc=False):
        code: int | str = 0
        message: str = ""

    class Link(msgspec.Struct, rename=rename, gc=False):
        trace_id: str = ""
        span_id: str = ""
        attributes: Raw = _NO_RAW
        trace_id_alt: str = ""
        span_id_alt: str = ""

    class Span(msgspec.Struct, rename=rename, gc=False):
        trace_id: str = ""
        span_id: str = ""
        parent_span_id: str = ""
        name: str = ""
        kind: int | str = 0
        start_time_unix_nano: _Nanos = 0
        end_time_unix_nano: _Nanos = 0
        attributes: Raw = _NO_RAW
        events: Raw = _NO_RAW
        links: list[Link] = []
        status: Status | None = None
        trace_state: str = ""
        trace_id_alt: str = ""
        span_id_alt: str = ""
        parent_span_id_alt: str = ""
        start_time_unix_nano_alt: _Nanos = 0
        end_time_unix_nano_alt: _Nanos = 0
        trace_state_alt: str = ""

    class ScopeSpans(msgspec.Struct, rename=rename, gc=False):
        scope: Raw = _NO_RAW
        instrumentation_library: Raw = _NO_RAW
        spans: list[Span] = []
        instrumentation_library_alt: Raw = _NO_RAW

    class ResourceSpans(msgspec.Struct, rename=rename, gc=False):
        resource: Raw = _NO_RAW
        scope_spans: list[ScopeSpans] | None = None
        instrumentation_library_spans: list[ScopeSpans] | None = None
        scope_spans_alt: list[ScopeSpans] | None = None
        instrumentation_library_spans_alt: list[ScopeSpans] | None = None

    class TracesData(msgspec.Struct, rename=rename, gc=False):
        resource_spans: list[ResourceSpans] = []
        batches: list[ResourceSpans] = []  # Tempo's JSON
        result: Raw = _NO_RAW  # Jaeger's api_v3: {"result": TracesData}
        resource_metrics: list[Raw] = []
        resource_logs: list[Raw] = []
        resource_profiles: list[Raw] = []
        resource_spans_alt: list[ResourceSpans] = []
        resource_metrics_alt: list[Raw] = []
        resource_logs_alt: list[Raw] = []
        resource_profiles_alt: list[Raw] = []

    # The same levels with their lists left undecoded: where the typed decoder rejects a
    # piece, its parts are decoded one at a time, so that a bad one costs only itself.
    # `None` allowed: `"scopeSpans": null` is written by some converters.
    class TracesDataSplit(msgspec.Struct, rename=rename, gc=False):
        resource_spans: list[Raw] | None = None
        batches: list[Raw] | None = None
        result: Raw = _NO_RAW
        resource_metrics: Raw = _NO_RAW
        resource_logs: Raw = _NO_RAW
        resource_profiles: Raw = _NO_RAW
        resource_spans_alt: list[Raw] | None = None
        resource_metrics_alt: Raw = _NO_RAW
        resource_logs_alt: Raw = _NO_RAW
        resource_profiles_alt: Raw = _NO_RAW

    class ResourceSpansSplit(msgspec.Struct, rename=rename, gc=False):
        resource: Raw = _NO_RAW
        scope_spans: list[Raw] | None = None
        instrumentation_library_spans: list[Raw] | None = None
        scope_spans_alt: list[Raw] | None = None
        instrumentation_library_spans_alt: list[Raw] | None = None

    class ScopeSpansSplit(msgspec.Struct, rename=rename, gc=False):
        scope: Raw = _NO_RAW
        instrumentation_library: Raw = _NO_RAW
        spans: list[Raw] | None = None
        instrumentation_library_alt: Raw = _NO_RAW

    strict = {"strict": False}  # int64 as strings, as the OTLP/JSON mapping writes them
    return {
        "doc": msgspec.json.Decoder(TracesData, **strict),
        "split": msgspec.json.Decoder(TracesDataSplit, **strict),
        "resource_spans": msgspec.json.Decoder(ResourceSpans, **strict),
        "resource_spans_split": msgspec.json.Decoder(ResourceSpansSplit, **strict),
        "scope_spans": msgspec.json.Decoder(ScopeSpans, **strict),
        "scope_spans_split": msgspec.json.Decoder(ScopeSpansSplit, **strict),
        "span": msgspec.json.Decoder(Span, **strict),
    }


_CAMEL = _family("camel")
_SNAKE = _family("snake")
_PLAIN = msgspec.json.Decoder()


class _Key(msgspec.Struct):
    key: str = ""


# Attribute keys only (a span's shape): values are skipped, not built.
_KEYS = msgspec.json.Decoder(list[_Key])
_ENCODE = msgspec.json.Encoder().encode

_LEVEL_NAMES = {"resource_spans": "resourceSpans", "scope_spans": "scopeSpans"}
_SIGNAL_KEYS = {"metrics": "resourceMetrics", "logs": "resourceLogs",
                "profiles": "resourceProfiles"}
_OTHER_SIGNALS = (
    (("resourceMetrics", "resource_metrics"), "metrics"),
    (("resourceLogs", "resource_logs"), "logs"),
    (("resourceProfiles", "resource_profiles"), "profiles"),
)
_SNAKE_MARKERS = (b'"resource_spans"', b'"scope_spans"', b'"trace_id"', b'"span_id"')


def parse_id(text: str, size: int) -> bytes | None:
    """A trace (16) or span (8) id from hex (the OTLP spec) or base64 (json_format)."""
    if not isinstance(text, str) or not text:
        return None
    try:
        raw = bytes.fromhex(text) if len(text) == size * 2 else base64.b64decode(text, validate=True)
    except (ValueError, binascii.Error):
        return None
    return raw if len(raw) == size and any(raw) else None


class JsonBlockSource:
    """One ScopeSpans of a JSON input: attributes/events kept as undecoded slices."""

    __slots__ = ("attrs", "events", "messages", "links", "trace_states")

    def __init__(self) -> None:
        self.attrs: list[Raw] = []
        self.events: dict[int, Raw] = {}
        self.messages: dict[int, str] = {}
        self.links: dict[int, list[Any]] = {}
        self.trace_states: dict[int, str] = {}

    def attribute_keys(self, offset: int) -> set[str]:
        raw = self.attrs[offset]
        if raw is None or not len(raw):
            return set()
        try:
            return {kv.key for kv in _KEYS.decode(raw)}
        except msgspec.DecodeError:  # not a list of key/value objects: as `detail` reads it
            return set(self.detail(offset).attributes)

    def detail(self, offset: int) -> SpanDetail:
        attrs = _decode_raw(self.attrs[offset], [])
        events_raw = self.events.get(offset)
        events = []
        decoded = _decode_raw(events_raw, []) if events_raw is not None else []
        for ev in decoded if isinstance(decoded, list) else []:  # `"events": null` happens
            if isinstance(ev, dict):
                t = ev.get("timeUnixNano", ev.get("time_unix_nano", 0))
                try:
                    t = int(t)
                except (TypeError, ValueError):
                    t = 0
                events.append(SpanEvent(str(ev.get("name", "")), t, json_attributes(ev.get("attributes"))))
        links = [
            LinkDetail(
                parse_id(lk.trace_id or lk.trace_id_alt, 16) or b"",
                parse_id(lk.span_id or lk.span_id_alt, 8) or b"",
                json_attributes(_decode_raw(lk.attributes, [])),
            )
            for lk in self.links.get(offset, ())
        ]
        return SpanDetail(
            json_attributes(attrs), events, links,
            self.messages.get(offset, ""), self.trace_states.get(offset, ""),
        )


def _decode_raw(raw: Raw | None, default: Any) -> Any:
    if raw is None or not len(raw):
        return default
    try:
        return _PLAIN.decode(raw)
    except msgspec.DecodeError:
        return default


class JsonLoader(JsonInputLoader):
    """Feeds one JSON input (document or lines) into an IndexBuilder."""

    FORMAT = "OTLP/JSON"

    def __init__(self, builder: IndexBuilder, report: LoadReport, file: FileReport,
                 progress: Callable[[int], None] | None = None) -> None:
        super().__init__(builder, report, file, progress)
        self._trace_cache: dict[str, int] = {}
        self._groups_seen = 0  # resourceSpans read, in any record
        self._signals: set[str] = set()  # other signals' records seen (metrics, logs...)

    def _record(self, buf: Any, where: str, whole: bool) -> None:
        if not whole:
            self._envelope(buf, where)
            return
        # A whole document, one resourceSpans at a time: decoding 500 MB in one call would
        # hold the interpreter (and the TUI) for seconds and give no progress.
        family = _family_of(buf)
        groups = self._groups(buf, family, where)
        for done, raw in enumerate(groups or (), 1):
            self._resource_spans_raw(raw, family, where, done - 1)
            if self.progress is not None and done % 16 == 0:
                self.progress(buf.nbytes * done // len(groups))

    def _finish(self) -> None:
        """A file of other signals only (OTLP logs or metrics alone): name what it is."""
        if not self.file.spans and not self._groups_seen and self._signals:
            kinds = sorted(self._signals)
            raise LoadError(f"no trace data: this is OTLP {' and '.join(kinds)} data "
                            f"({', '.join(_SIGNAL_KEYS[k] for k in kinds)})")

    # -- envelopes ---------------------------------------------------------------------

    def _envelope(self, buf: Any, where: str) -> None:
        """One TracesData (a JSON line). Raises msgspec.DecodeError only when `buf` is not
        JSON at all; anything else wrong is skipped and counted here."""
        family = _family_of(buf)
        try:
            doc = family["doc"].decode(buf)
        except msgspec.DecodeError:
            doc = None  # some piece is off: down the levels, one piece at a time
        if doc is not None and not len(doc.result):
            groups = doc.resource_spans or doc.resource_spans_alt or doc.batches
            for i, rs in enumerate(groups):
                self._resource_spans(rs, where, i)
            if not groups:
                self._not_traces([name for name, items in (
                    ("metrics", doc.resource_metrics or doc.resource_metrics_alt),
                    ("logs", doc.resource_logs or doc.resource_logs_alt),
                    ("profiles", doc.resource_profiles or doc.resource_profiles_alt)) if items],
                    where)
            return
        for i, raw in enumerate(self._groups(buf, family, where) or ()):
            self._resource_spans_raw(raw, family, where, i)

    def _groups(self, buf: Any, family: dict[str, Any], where: str) -> list[Raw] | None:
        """The resourceSpans of a TracesData, undecoded; None when it holds none (reported
        here). Raises msgspec.DecodeError when `buf` is not JSON at all."""
        split = family["split"].decode
        try:
            doc = split(buf)
            while len(doc.result):  # Jaeger's api_v3: {"result": TracesData}
                buf = doc.result
                doc = split(buf)
        except msgspec.ValidationError:
            self._not_traces_json(buf, where)  # JSON, but not a TracesData
            return None
        groups = doc.resource_spans or doc.resource_spans_alt or doc.batches
        if not groups:
            self._not_traces([name for name, raws in (
                ("metrics", (doc.resource_metrics, doc.resource_metrics_alt)),
                ("logs", (doc.resource_logs, doc.resource_logs_alt)),
                ("profiles", (doc.resource_profiles, doc.resource_profiles_alt)))
                if any(map(_non_empty, raws))], where)
            return None
        return groups

    def _not_traces_json(self, buf: Any, where: str) -> None:
        """Raises msgspec.DecodeError when `buf` is not JSON at all (truncated, bad UTF-8)."""
        try:
            doc = _PLAIN.decode(buf)
        except msgspec.ValidationError as e:  # a number out of range
            self.report.skip("records that are not OTLP traces", where,
                             f"JSON that is not OTLP trace data ({short(e)})")
            return
        if not isinstance(doc, dict):
            self.report.skip("records that are not OTLP traces", where,
                             f"JSON value is a {type(doc).__name__}, not an object (not OTLP trace data)")
            return
        if isinstance(doc.get("result"), dict):
            doc = doc["result"]
        if any(key in doc for key in ("resourceSpans", "resource_spans", "batches")):
            self.report.skip("records that are not OTLP traces", where,
                             "resourceSpans is not a list (not OTLP trace data)")
            return
        self._not_traces([name for keys, name in _OTHER_SIGNALS if any(key in doc for key in keys)],
                         where)

    def _not_traces(self, signals: list[str], where: str) -> None:
        """A record without spans: another signal's (not an error), or not OTLP at all."""
        if signals:
            self._signals.update(signals)
            self.report.ignore(f"{signals[0]} records (not traces)")
        else:
            self.report.skip("records that are not OTLP traces", where,
                             "no resourceSpans in this JSON (not OTLP trace data)")

    def _resource_spans(self, rs: Any, where: str, i: int) -> None:
        self._groups_seen += 1
        resource = self._resource(rs.resource)
        scope_spans = (rs.scope_spans or rs.scope_spans_alt or rs.instrumentation_library_spans
                       or rs.instrumentation_library_spans_alt)
        if scope_spans is None and rs.scope_spans is None and rs.scope_spans_alt is None:
            self._no_span_list(where, i)
        for ss in scope_spans or ():
            if ss.spans:
                self._spans(ss.spans, resource, self._scope_of(ss), where)

    def _no_span_list(self, where: str, i: int) -> None:
        """A resourceSpans without any list of spans under a name this reader knows."""
        self.report.skip("resourceSpans without a list of spans", where,
                         f"resourceSpans[{i}] has no scopeSpans/scope_spans/"
                         "instrumentationLibrarySpans")

    def _scope_of(self, ss: Any) -> Scope:
        for raw in (ss.scope, ss.instrumentation_library, ss.instrumentation_library_alt):
            if len(raw):
                return self._scope(raw)
        return self._scope(_NO_RAW)

    # -- one piece at a time: a bad piece costs only itself -----------------------------

    def _piece(self, raw: Raw, family: dict[str, Any], level: str, where: str) -> tuple[Any, bool]:
        """One resourceSpans or scopeSpans: typed (fast), else with its list left undecoded
        (split: True), else None, skipped and counted."""
        try:
            return family[level].decode(raw), False
        except msgspec.DecodeError:
            pass
        try:
            return family[level + "_split"].decode(raw), True
        except msgspec.DecodeError as e:
            name = _LEVEL_NAMES[level]
            self.report.skip(f"malformed {name}", where, f"{name}: {short(e)}")
            return None, False

    def _resource_spans_raw(self, raw: Raw, family: dict[str, Any], where: str, i: int) -> None:
        rs, split = self._piece(raw, family, "resource_spans", where)
        if rs is None:
            return
        if not split:
            self._resource_spans(rs, where, i)
            return
        self._groups_seen += 1
        resource = self._resource(rs.resource)
        scope_spans = (rs.scope_spans or rs.scope_spans_alt or rs.instrumentation_library_spans
                       or rs.instrumentation_library_spans_alt)
        if scope_spans is None and rs.scope_spans is None and rs.scope_spans_alt is None:
            self._no_span_list(where, i)
        for ss_raw in scope_spans or ():
            self._scope_spans_raw(ss_raw, resource, family, where)

    def _scope_spans_raw(self, raw: Raw, resource: Resource, family: dict[str, Any],
                         where: str) -> None:
        ss, split = self._piece(raw, family, "scope_spans", where)
        if ss is None:
            return
        spans = ss.spans if not split else [
            sp for sp in (self._span_raw(r, family, where) for r in ss.spans or ()) if sp is not None]
        if spans:
            self._spans(spans, resource, self._scope_of(ss), where)

    def _span_raw(self, raw: Raw, family: dict[str, Any], where: str) -> Any:
        """One span, typed; null fields dropped (as if absent) when that is what is wrong."""
        decode = family["span"].decode
        try:
            return decode(raw)
        except msgspec.DecodeError:
            pass
        try:
            span = _PLAIN.decode(raw)
        except msgspec.DecodeError as e:  # bad UTF-8, a number out of range...
            self.report.skip("malformed spans", where, f"span: {short(e)}")
            return None
        if not isinstance(span, dict):
            self.report.skip("malformed spans", where,
                             f"span entry is a JSON {type(span).__name__}, not an object")
            return None
        try:
            return decode(_ENCODE({k: v for k, v in span.items() if v is not None}))
        except msgspec.DecodeError as e:
            self.report.skip("malformed spans", where, f"span {span.get('name')!r}: {short(e)}")
            return None

    def _resource(self, raw: Raw) -> Resource:
        key = bytes(raw)
        res = self._resources.get(key)
        if res is None:
            d = _decode_raw(raw, {})
            attrs = json_attributes(d.get("attributes")) if isinstance(d, dict) else {}
            res = self._resources[key] = Resource(attrs)
        return res

    def _scope(self, raw: Raw) -> Scope:
        key = bytes(raw)
        scope = self._scopes.get(key)
        if scope is None:
            d = _decode_raw(raw, {})
            if not isinstance(d, dict):
                d = {}
            scope = self._scopes[key] = Scope(
                str(d.get("name", "") or ""), str(d.get("version", "") or ""),
                json_attributes(d.get("attributes")),
            )
        return scope

    # -- the hot loop ------------------------------------------------------------------

    def _spans(self, spans: list[Any], resource: Resource, scope: Scope, where: str) -> None:
        b = self.b
        src = JsonBlockSource()
        b.add_block(resource, scope, src)
        report = self.report
        tcache = self._trace_cache
        trace_row = b.trace_row
        names = b._names
        a_trace, a_sid, a_pid = b.trace.append, b.span_id.append, b.parent_id.append
        a_name, a_kind, a_status = b.name.append, b.kind.append, b.status.append
        a_start, a_end, a_attrs = b.start.append, b.end.append, src.attrs.append
        fromhex = bytes.fromhex
        links_map = b.links
        k = 0
        for sp in spans:
            s = sp.span_id or sp.span_id_alt
            try:
                sid = fromhex(s) if len(s) == 16 else parse_id(s, 8)
            except ValueError:
                sid = None
            if not sid or len(sid) != 8 or sid == _ZERO_SPAN_ID:
                report.skip("spans with an empty or malformed id", where,
                            f"span {sp.name!r}: span id {s!r} is not 8 bytes of hex or base64")
                continue
            tid_text = sp.trace_id or sp.trace_id_alt
            t = tcache.get(tid_text)
            if t is None:
                tid = parse_id(tid_text, 16)
                if tid is None:
                    report.skip("spans with an empty or malformed id", where,
                                f"span {sp.name!r}: trace id {tid_text!r} is not 16 bytes of hex or base64")
                    continue
                t = tcache[tid_text] = trace_row(tid)
            p = sp.parent_span_id or sp.parent_span_id_alt
            if p:
                try:
                    pid = fromhex(p) if len(p) == 16 else base64.b64decode(p, validate=True)
                except ValueError:  # binascii.Error is a ValueError
                    pid = None
                if not pid or len(pid) != 8:
                    report.warn("parent ids malformed (span kept as a root)", where,
                                f"span {sp.name!r}: parent id {p!r} is malformed; kept as a root")
                    pid = b""
                elif pid == _ZERO_SPAN_ID:
                    pid = b""  # the all-zero (invalid) id, as some converters write: no parent
            else:
                pid = b""
            kind = sp.kind
            if kind.__class__ is not int or not 0 <= kind <= 5:
                kind = kind_from_any(kind) or 0
            st = sp.status
            code = 0
            if st is not None:
                code = st.code
                if code.__class__ is not int or not 0 <= code <= 2:
                    code = status_from_any(code) or 0
                if st.message:
                    src.messages[k] = st.message
            start = sp.start_time_unix_nano or sp.start_time_unix_nano_alt
            end = sp.end_time_unix_nano or sp.end_time_unix_nano_alt
            if end < start:
                report.warn("spans ending before they start (duration shown as 0)", where,
                            f"span {sp.name!r} ends before it starts (clock skew?)")
                end = start
            name = sp.name
            a_trace(t)
            a_sid(sid)
            a_pid(pid)
            a_name(names.setdefault(name, name))
            a_kind(kind)
            a_status(code)
            a_start(start)
            a_end(end)
            a_attrs(sp.attributes)
            if len(sp.events):
                src.events[k] = sp.events
            state = sp.trace_state or sp.trace_state_alt
            if state:
                src.trace_states[k] = state
            if sp.links:
                self._links(sp, len(b.span_id) - 1, k, src, links_map, where)
            k += 1
        self.file.spans += k

    def _links(self, sp: Any, row: int, k: int, src: JsonBlockSource,
               links_map: dict[int, list[tuple[bytes, bytes]]], where: str) -> None:
        good = []
        for lk in sp.links:
            tid = parse_id(lk.trace_id or lk.trace_id_alt, 16)
            sid = parse_id(lk.span_id or lk.span_id_alt, 8)
            if tid is None or sid is None:
                self.report.skip("links with an empty or malformed id", where,
                                 f"span {sp.name!r} has a link with an empty or malformed id")
                continue
            good.append((tid, sid))
        if good:
            links_map[row] = good
        src.links[k] = list(sp.links)


def _family_of(buf: Any) -> dict[str, Any]:
    head = bytes(buf[:4096])
    snake = b'"resourceSpans"' not in head and any(m in head for m in _SNAKE_MARKERS)
    return _SNAKE if snake else _CAMEL


def _non_empty(raw: Raw) -> bool:
    """A list given and not empty (`[]`, `null`, absent and other types are empty)."""
    head = bytes(memoryview(raw)[:64])
    return head.startswith(b"[") and head[1:].lstrip()[:1] != b"]"
