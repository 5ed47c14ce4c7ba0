"""Jaeger JSON into the span index, mapped as the OpenTelemetry Collector's Jaeger
translator maps Jaeger to OTLP.

Shapes: the query API / UI "Download JSON" (`{"data": [TRACE, ...]}`, `{"data": TRACE}`),
a bare TRACE (`{"traceID", "spans", "processes"}`) or a list of them, a list of spans that
carry their `process` (the UI's own span model), api_v2's gRPC-gateway JSON (`{"result":
{"spans": [...]}}`: base64 ids, RFC 3339 times, `vStr`/`vInt64`... tags) and JSON Lines of
any of these.

Mapping: ids hex (left-padded) or base64; times in microseconds; a process becomes a
resource with `service.name`; tags become typed attributes, except the ones the translator
consumes: `span.kind` (kind), `error=true` / `otel.status_code` (status),
`otel.status_description` (its message), `otel.scope.*` / `otel.library.*` (scope),
`w3c.tracestate`. Logs become events (the `event` field names them). References: the first
CHILD_OF in the span's own trace is its parent; every other reference, and every
FOLLOWS_FROM, is a link (with `opentracing.ref_type`), so it is drawn as an async edge.

Tags and logs stay as undecoded slices of the input until a span is shown; the hot loop
decodes only the tags' keys and the few values the translation needs.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Collection
from itertools import compress
from operator import attrgetter
from typing import Any

import msgspec
from msgspec import Raw

from ..model import KIND_UNSPECIFIED, STATUS_ERROR, STATUS_UNSET, Resource, Scope, SpanEvent
from .foreign import (
    ENCODE,
    KINDS,
    MAX_NS,
    MAX_US,
    ForeignLoader,
    RowSource,
    duration_ns,
    http_error,
    list_of_objects,
    padded_id,
    rfc3339_ns,
    span_id,
    status_word,
)
from .jsonlines import PLAIN, short

_NO_RAW = Raw(b"")


class _Ref(msgspec.Struct, gc=False):
    refType: str | int | None = "CHILD_OF"
    traceID: str | None = ""
    spanID: str | None = ""
    traceId: str | None = ""  # api_v2
    spanId: str | None = ""


class _HotTag(msgspec.Struct, frozen=True, gc=False):
    """A tag as the hot loop reads it (hashable: the translation of a span's special tags
    is cached by them)."""
    key: str = ""
    value: Any = None
    vStr: Any = None  # api_v2
    vBool: Any = None
    vInt64: Any = None


class _Span(msgspec.Struct, gc=False):
    traceID: str = ""
    spanID: str = ""
    traceId: str = ""  # api_v2
    spanId: str = ""
    parentSpanID: str = ""  # the embedded-process span model
    operationName: str = ""
    references: list[_Ref] | None = None
    startTime: int | str = 0
    duration: int | str = 0
    tags: list[_HotTag] | None = None  # logs and the rest are read again when shown
    processID: str = ""
    processId: str = ""
    process: Raw = _NO_RAW


class _Top(msgspec.Struct):
    """A TRACE, or the envelopes around traces (`data`, api_v2's `result`)."""
    spans: list[Raw] | None = None
    processes: dict[str, Raw] | None = None
    data: Raw = _NO_RAW
    result: Raw = _NO_RAW


class _Key(msgspec.Struct):
    key: str = ""


_TOP = msgspec.json.Decoder(_Top | list[Raw])
_SPAN = msgspec.json.Decoder(_Span)
_KEY_OF = attrgetter("key")

_CHILD_OF = frozenset(("CHILD_OF", "child_of", "child-of", 0, None))
_SCOPE_KEYS = ("otel.scope.name", "otel.library.name")
_SCOPE_VERSION_KEYS = ("otel.scope.version", "otel.library.version")
_SPECIAL = frozenset(("span.kind", "error", "otel.status_code", "otel.status_description",
                      "w3c.tracestate", "http.status_code", *_SCOPE_KEYS, *_SCOPE_VERSION_KEYS))
_IS_SPECIAL = _SPECIAL.__contains__
_API_V2_TYPES = {0: "string", 1: "bool", 2: "int64", 3: "float64", 4: "binary"}
_V2_FIELDS = {"string": "vStr", "bool": "vBool", "int64": "vInt64", "float64": "vFloat64",
              "binary": "vBinary"}
_V2_NAMES = frozenset(("vType", *_V2_FIELDS.values()))


def tag_value(tag: dict[str, Any]) -> Any:
    """One Jaeger tag's value, typed: UI JSON (`type` + `value`; no `type` as Grafana writes
    them: the JSON value as it is), api_v2 JSON (`vType` + `vStr`/`vBool`/`vInt64`/
    `vFloat64`/`vBinary`; an absent `vType` is STRING, protobuf's default)."""
    if "value" in tag or _V2_NAMES.isdisjoint(tag):
        kind, value = tag.get("type"), tag.get("value")
    else:
        vt = tag.get("vType", 0)
        kind = _API_V2_TYPES.get(vt) if isinstance(vt, int) else vt
        value = tag.get(_V2_FIELDS.get(str(kind).lower(), "vStr"))
    kind = str(kind).lower() if kind is not None else ""
    try:
        if kind == "bool":
            return value if isinstance(value, bool) else str(value).lower() == "true"
        if kind == "int64":
            return int(value) if value is not None else 0
        if kind == "float64":
            return float(value) if value is not None else 0.0
        if kind == "binary" and isinstance(value, str):
            return base64.b64decode(value)
        if kind == "string":
            return value if isinstance(value, str) else ("" if value is None else str(value))
    except (TypeError, ValueError, binascii.Error):
        pass
    return value


def tag_dict(tags: Any) -> dict[str, Any]:
    """A decoded tag list as attributes (later duplicates win, as in the Collector)."""
    out: dict[str, Any] = {}
    if isinstance(tags, list):
        for t in tags:
            if isinstance(t, dict) and isinstance(t.get("key"), str):
                out[t["key"]] = tag_value(t)
    return out


def _hot_value(tag: _HotTag) -> Any:
    for value in (tag.value, tag.vStr, tag.vBool, tag.vInt64):
        if value is not None:
            return value
    return None


def time_ns(value: Any) -> int | None:
    """A log or span time: microseconds (UI JSON) or RFC 3339 (api_v2)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value * 1000 if 0 <= value <= MAX_US else None
    if isinstance(value, str):
        return rfc3339_ns(value)
    return None


class _Detail(msgspec.Struct):
    tags: Any = None
    logs: Any = None


class _Keys(msgspec.Struct):
    tags: list[_Key] = []


_DETAIL = msgspec.json.Decoder(_Detail)
_TAG_KEYS = msgspec.json.Decoder(_Keys)


class JaegerSource(RowSource):
    __slots__ = ()

    def read(self, offset: int) -> tuple[dict[str, Any], list[SpanEvent]]:
        span = _DETAIL.decode(self.spans[offset])
        attrs = tag_dict(span.tags)
        for key in self.extra.get(offset, ()):
            attrs.pop(key, None)
        events = []
        for log in span.logs if isinstance(span.logs, list) else ():
            if not isinstance(log, dict):
                continue
            fields = tag_dict(log.get("fields"))
            name = fields.pop("event", "")
            events.append(SpanEvent(name if isinstance(name, str) else str(name),
                                    time_ns(log.get("timestamp")) or 0, fields))
        return attrs, events

    def attribute_keys(self, offset: int) -> Collection[str]:
        try:
            keys = {t.key for t in _TAG_KEYS.decode(self.spans[offset]).tags}
        except msgspec.ValidationError:  # tags of another shape: as `read` takes them
            return self.read(offset)[0].keys()
        return keys.difference(self.extra.get(offset, ()))


class JaegerLoader(ForeignLoader):
    FORMAT = "Jaeger JSON"
    SOURCE = JaegerSource
    NAME_KEY = "operationName"
    SPAN = _SPAN
    OPTIONAL = {"tags": list_of_objects, "references": list_of_objects}

    def __init__(self, *args: Any, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self._no_process = Resource({})

    # -- records and envelopes -----------------------------------------------------------

    def _record(self, buf: Any, where: str, whole: bool) -> None:
        size = buf.nbytes if whole else 0
        try:
            top = _TOP.decode(buf)
        except msgspec.ValidationError as e:
            top = self._loose_top(PLAIN.decode(buf), where, e)
        found = self._value(top, where, 0, size)
        self._flush()
        if not found:
            self.report.skip("records that are not Jaeger traces", where,
                             "no Jaeger spans here (expected {\"data\": [...]}, a trace with "
                             "\"spans\", or a list of spans)")

    def _value(self, top: Any, where: str, depth: int, size: int) -> bool:
        """Whether `top` held Jaeger spans (traces, envelopes or spans), reading them."""
        if isinstance(top, list):
            if not top:
                return False
            first = self._decode_top(top[0], where)
            if isinstance(first, _Top) and (first.spans is not None or first.data or first.result):
                for done, raw in enumerate(top, 1):
                    self._value(first if done == 1 else self._decode_top(raw, where),
                                where, depth + 1, 0)
                    if size and self.progress is not None and done % 16 == 0:
                        self.progress(size * done // len(top))
                return True
            self._span_list(top, where, size, {}, {})  # a list of spans
            return True
        if top is None or depth > 3:
            return False
        if top.data:
            return self._value(self._decode_top(top.data, where), where, depth + 1, size)
        if top.result:
            return self._value(self._decode_top(top.result, where), where, depth + 1, size)
        if top.spans is None:
            return False
        self._span_list(top.spans, where, size, top.processes or {}, {})
        return True

    def _decode_top(self, raw: Raw, where: str) -> Any:
        try:
            return _TOP.decode(raw)
        except msgspec.ValidationError as e:
            return self._loose_top(PLAIN.decode(raw), where, e)

    def _loose_top(self, doc: Any, where: str, error: Exception) -> Any:
        """An envelope or trace with a wrongly typed field: keep what is usable."""
        if not isinstance(doc, dict):
            return None
        fixed = {k: doc[k] for k in ("data", "result") if k in doc and doc[k] is not None}
        if isinstance(doc.get("spans"), list):
            fixed["spans"] = doc["spans"]
        if isinstance(doc.get("processes"), dict):
            fixed["processes"] = doc["processes"]
        if len(fixed) < len([k for k in ("data", "result", "spans", "processes") if k in doc]):
            self.report.skip("malformed Jaeger traces", where, f"trace: {short(error)}")
        return _TOP.decode(ENCODE(fixed))

    # -- resources and scopes --------------------------------------------------------------

    def _process(self, raw: Raw) -> Resource:
        key = bytes(raw)
        res = self._resources.get(key)
        if res is None:
            try:
                proc = PLAIN.decode(raw)
            except msgspec.DecodeError:
                proc = None
            attrs: dict[str, Any] = {}
            if isinstance(proc, dict):
                name = proc.get("serviceName")
                if isinstance(name, str) and name:
                    attrs["service.name"] = name
                attrs.update(tag_dict(proc.get("tags")))
                # The Collector's translations of two Jaeger client process tags.
                if "hostname" in attrs and "host.name" not in attrs:
                    attrs["host.name"] = attrs.pop("hostname")
                if "jaeger.version" in attrs and "opencensus.exporterversion" not in attrs:
                    attrs["opencensus.exporterversion"] = f"Jaeger-{attrs.pop('jaeger.version')}"
            res = self._resources[key] = Resource(attrs)
        return res

    # -- the hot loop ------------------------------------------------------------------------

    def _spans(self, spans: list[_Span | None], raws: list[Raw], where: str,
               processes: dict[str, Raw], resources: dict[str, Resource]) -> None:
        """`resources`: processID -> resource, in this trace."""
        report = self.report
        traces = self._traces
        rows_for = self._buckets.rows_for
        translated = self._translated
        no_scope = self._scope_of("", "")
        last_res = last_scope = rows = None
        for sp, raw_span in zip(spans, raws):
            if sp is None:
                continue
            s = sp.spanID or sp.spanId
            sid = span_id(s)
            if sid is None:
                report.skip("spans with an empty or malformed id", where,
                            f"span {sp.operationName!r}: span id {s!r} is not 8 bytes of "
                            "hex or base64")
                continue
            tid_text = sp.traceID or sp.traceId
            tr = traces.get(tid_text)
            if tr is None:
                tr = self._new_trace(tid_text, sp.operationName, where)
                if tr is None:
                    continue
            t, tid = tr

            st, du = sp.startTime, sp.duration
            if st.__class__ is int and du.__class__ is int and 0 <= st <= MAX_US and du >= 0:
                start = st * 1000
                end = min(start + du * 1000, MAX_NS)
            else:
                times = self._slow_times(sp, where)
                if times is None:
                    continue
                start, end = times

            # Process -> resource: by processID in the trace's map, else the span's own.
            pid_key = sp.processID or sp.processId
            res = resources.get(pid_key) if pid_key else None
            if res is None:
                raw = processes.get(pid_key) if pid_key else None
                if raw is None and sp.process:
                    raw = sp.process
                if raw is None:
                    report.warn("spans whose process is not in the file (service unknown)",
                                where, f"span {sp.operationName!r}: process {pid_key!r} is not "
                                "in the trace's processes")
                    res = self._no_process
                else:
                    res = self._process(raw)
                    if pid_key and not sp.process:
                        resources[pid_key] = res

            # Tags the translation consumes (their translation cached: spans repeat them).
            kind = KIND_UNSPECIFIED
            code = STATUS_UNSET
            message = state = ""
            scope = no_scope
            drop = None
            hot = sp.tags
            if hot:
                special = tuple(compress(hot, map(_IS_SPECIAL, map(_KEY_OF, hot))))
                if special:
                    try:
                        done = translated.get(special)
                    except TypeError:  # a list or object value: not hashable
                        special, done = None, None
                    if done is None:
                        done = self._translate(special or
                                               tuple(t for t in hot if t.key in _SPECIAL))
                        if special is not None:
                            translated[special] = done
                    kind, code, message, state, scope, drop = done

            # References: the first CHILD_OF in this trace is the parent, the rest links.
            parent = b""
            links = None
            refs = sp.references
            if refs:
                for r in refs:
                    rsid = span_id(r.spanID or r.spanId or "")
                    rt = r.traceID or r.traceId
                    rtid = tid if rt == tid_text else padded_id(rt, 16)
                    if rsid is None or rtid is None:
                        report.skip("references with an empty or malformed id", where,
                                    f"span {sp.operationName!r} has a reference with an empty "
                                    "or malformed id")
                        continue
                    child = r.refType in _CHILD_OF
                    if child and rtid == tid:
                        if not parent:
                            parent = rsid
                            continue
                        if rsid == parent:
                            continue  # the parent, named twice
                    if links is None:
                        links = []
                    links.append((rtid, rsid, {
                        "opentracing.ref_type": "child_of" if child else "follows_from"}))
            if not parent and sp.parentSpanID:
                parent = padded_id(sp.parentSpanID, 8) or b""
                if parent == sid:
                    parent = b""

            if res is not last_res or scope is not last_scope:
                last_res, last_scope = res, scope
                rows = rows_for(res, scope)
            rows.append((t, sid, parent, sp.operationName, kind, code, start, end, raw_span,
                         links, message, state, drop))

    def _translate(self, special: tuple[_HotTag, ...]
                   ) -> tuple[int, int, str, str, Scope, tuple[str, ...]]:
        """The Collector's jaegerproto_to_traces: kind, status, scope and trace state from
        tags, and which tags that used up."""
        d = {t.key: t for t in special}  # later duplicates win
        drop: list[str] = []
        kind = KIND_UNSPECIFIED
        if "span.kind" in d:
            kind = KINDS.get(str(_hot_value(d["span.kind"])).lower(), KIND_UNSPECIFIED)
            drop.append("span.kind")
        code = STATUS_UNSET
        message = ""
        found = False
        if "error" in d and _hot_value(d["error"]) in (True, "true"):
            code, found = STATUS_ERROR, True
            drop.append("error")
        if "otel.status_code" in d:
            if not found:
                code, found = status_word(_hot_value(d["otel.status_code"])) or STATUS_UNSET, True
            drop.append("otel.status_code")
        if "otel.status_description" in d and found:
            message = str(_hot_value(d["otel.status_description"]) or "")
            drop.append("otel.status_description")
        if not found and "http.status_code" in d:
            if http_error(_hot_value(d["http.status_code"]), kind):
                code = STATUS_ERROR
        state = ""
        if "w3c.tracestate" in d:
            state = str(_hot_value(d["w3c.tracestate"]) or "")
            drop.append("w3c.tracestate")
        name = version = ""
        for key in _SCOPE_KEYS:
            if key in d:
                name = name or _hot_value(d[key])
                drop.append(key)
        for key in _SCOPE_VERSION_KEYS:
            if key in d:
                version = version or _hot_value(d[key])
                drop.append(key)
        return kind, code, message, state, self._scope_of(name, version), tuple(drop)

    def _slow_times(self, sp: _Span, where: str) -> tuple[int, int] | None:
        """api_v2's RFC 3339 start and protobuf Duration, or a bad time (the span skipped)."""
        st, du = sp.startTime, sp.duration
        start = time_ns(st)
        dur = du * 1000 if isinstance(du, int) else duration_ns(du)
        if start is None or dur is None or start > MAX_NS:
            self.report.skip("spans with a malformed or out-of-range time", where,
                             f"span {sp.operationName!r}: start {st!r} / duration {du!r} is "
                             "not a time")
            return None
        if dur < 0:
            self.report.warn("spans ending before they start (duration shown as 0)", where,
                             f"span {sp.operationName!r} has a negative duration (clock skew?)")
            dur = 0
        return start, min(start + dur, MAX_NS)
