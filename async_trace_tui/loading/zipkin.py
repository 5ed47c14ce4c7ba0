"""Zipkin v2 JSON into the span index, mapped as the OpenTelemetry Collector's zipkinv2
translator maps Zipkin to OTLP.

Shapes: an array of spans (what `/api/v2/trace/{id}` returns and what reporters POST), an
array of such arrays (`/api/v2/traces`), and JSON Lines of either.

Mapping: `traceId` hex, 64-bit ones left-padded; `timestamp`/`duration` in microseconds;
`kind` CLIENT/SERVER/PRODUCER/CONSUMER, absent = INTERNAL; `localEndpoint.serviceName` is
the resource's `service.name`, with the resource attributes an OpenTelemetry exporter puts
in the tags (`service.*`, `host.*`, `telemetry.*`...); `otel.scope.*`/`otel.library.*` tags
are the scope; `error` makes the status ERROR with its value as the message
(`otel.status_code`/`otel.status_description` likewise); other tags are attributes;
annotations are events. A `shared` SERVER span that carries its CLIENT's id (both halves
of one RPC, as Zipkin's B3 propagation makes them) is kept as the client's child under a
new span id, as Jaeger's span-id deduper does: the trace's highest span id plus one, and
the server's children follow it.
"""

from __future__ import annotations

from collections.abc import Collection
from itertools import compress
from typing import Any

import msgspec
from msgspec import Raw

from ..model import (
    KIND_CLIENT,
    KIND_CONSUMER,
    KIND_INTERNAL,
    KIND_PRODUCER,
    KIND_SERVER,
    STATUS_ERROR,
    STATUS_UNSET,
    Resource,
    Scope,
    SpanEvent,
)
from .foreign import (
    MAX_NS,
    MAX_US,
    ForeignLoader,
    RowSource,
    an_object,
    span_id,
    status_word,
)
from .jsonlines import PLAIN

_KINDS = {"CLIENT": KIND_CLIENT, "SERVER": KIND_SERVER, "PRODUCER": KIND_PRODUCER,
          "CONSUMER": KIND_CONSUMER}
# Tag keys of resource attributes (the OpenTelemetry Zipkin exporters copy the resource into
# every span's tags): they describe the process, so they go to the resource, as the
# Collector moves its resource semantic conventions there.
_RESOURCE_PREFIXES = ("service.", "telemetry.", "host.", "os.", "process.", "container.",
                      "k8s.", "cloud.", "deployment.", "device.", "faas.", "webengine.",
                      "gcp.", "heroku.", "aws.ecs.", "aws.eks.", "aws.log.")


class _Endpoint(msgspec.Struct, frozen=True, gc=False):
    """Hashable: spans of one endpoint share a resource, found by it."""
    serviceName: Any = None
    ipv4: Any = None
    ipv6: Any = None
    port: Any = None


class _Hot(msgspec.Struct, frozen=True, gc=False, rename={
        "status_code": "otel.status_code", "status_description": "otel.status_description",
        "scope_name": "otel.scope.name", "scope_version": "otel.scope.version",
        "library_name": "otel.library.name", "library_version": "otel.library.version",
        "span_kind": "span.kind", "trace_state": "w3c.tracestate"}):
    """The tags the translation consumes; the others are skipped unread. Hashable: what
    they translate to is cached by them."""
    error: Any = None
    status_code: Any = None
    status_description: Any = None
    scope_name: Any = None
    scope_version: Any = None
    library_name: Any = None
    library_version: Any = None
    span_kind: Any = None
    trace_state: Any = None




class _Span(msgspec.Struct, gc=False):
    traceId: str = ""
    id: str = ""
    parentId: str = ""
    name: str = ""
    kind: str | None = None
    timestamp: int = 0
    duration: int = 0
    localEndpoint: _Endpoint | None = None
    tags: _Hot | None = None  # annotations, the remote endpoint... are read when shown
    shared: bool | None = False


class _Detail(msgspec.Struct):
    tags: Any = None
    annotations: Any = None
    localEndpoint: Any = None
    remoteEndpoint: Any = None


_TOP = msgspec.json.Decoder(list[Raw] | dict[str, Raw])
_SPAN = msgspec.json.Decoder(_Span)
_DETAIL = msgspec.json.Decoder(_Detail)


def _annotation(value: Any) -> tuple[str, dict[str, Any]]:
    """An annotation's event name and attributes. OpenTelemetry's Python exporter writes
    `{"name": {attributes}}`, the Collector `name|{attributes}|dropped`; others plain text."""
    if not isinstance(value, str):
        return str(value), {}
    text = value.strip()
    if text.startswith("{"):
        try:
            d = PLAIN.decode(text)
        except msgspec.DecodeError:
            d = None
        if isinstance(d, dict) and len(d) == 1:
            [(name, attrs)] = d.items()
            if isinstance(attrs, dict):
                return name, attrs
    parts = value.split("|")
    if len(parts) >= 3 and parts[-1].isdigit():
        try:
            attrs = PLAIN.decode("|".join(parts[1:-1]))
        except msgspec.DecodeError:
            attrs = None
        if isinstance(attrs, dict):
            return parts[0], attrs
    return value, {}


def _text(value: Any) -> str:
    return value if isinstance(value, str) else "" if value is None else str(value)


class ZipkinSource(RowSource):
    __slots__ = ()

    def read(self, offset: int) -> tuple[dict[str, Any], list[SpanEvent]]:
        span = _DETAIL.decode(self.spans[offset])
        attrs = dict(span.tags) if isinstance(span.tags, dict) else {}
        drop = self.extra.get(offset, ())
        for key in [k for k in attrs if k in drop or k.startswith(_RESOURCE_PREFIXES)]:
            del attrs[key]
        # Endpoints as the Collector maps them (tags of the same name win).
        loc, rem = span.localEndpoint, span.remoteEndpoint
        if isinstance(loc, dict):
            if loc.get("ipv4") or loc.get("ipv6"):
                attrs.setdefault("net.host.ip", loc.get("ipv4") or loc.get("ipv6"))
            if loc.get("port"):
                attrs.setdefault("net.host.port", loc["port"])
        if isinstance(rem, dict):
            if rem.get("serviceName"):
                attrs.setdefault("peer.service", rem["serviceName"])
            if rem.get("ipv4") or rem.get("ipv6"):
                attrs.setdefault("net.peer.ip", rem.get("ipv4") or rem.get("ipv6"))
            if rem.get("port"):
                attrs.setdefault("net.peer.port", rem["port"])
        events = []
        for a in span.annotations if isinstance(span.annotations, list) else ():
            if not isinstance(a, dict):
                continue
            ts = a.get("timestamp")
            ns = ts * 1000 if isinstance(ts, int) and 0 <= ts <= MAX_US else 0
            name, event_attrs = _annotation(a.get("value", ""))
            events.append(SpanEvent(name, ns, event_attrs))
        return attrs, events


class ZipkinLoader(ForeignLoader):
    FORMAT = "Zipkin v2 JSON"
    SPAN = _SPAN
    SOURCE = ZipkinSource
    OPTIONAL = {"tags": an_object, "localEndpoint": an_object}

    def __init__(self, *args: Any, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self._by_service: dict[str, Resource] = {}
        self._by_endpoint: dict[_Endpoint | None, Resource] = {}
        self._shared: list[tuple[Resource, Scope, tuple[Any, ...]]] = []
        self._first_row = len(self.b)

    # -- records -----------------------------------------------------------------------------

    def _record(self, buf: Any, where: str, whole: bool) -> None:
        try:
            top = _TOP.decode(buf)
        except msgspec.ValidationError:
            top = None
        if isinstance(top, dict):
            top = [buf]  # one span on its own (a line of JSON Lines)
        if not isinstance(top, list):
            self.report.skip("records that are not Zipkin spans", where,
                             "not a Zipkin v2 span list (expected a JSON array of spans)")
            return
        size = buf.nbytes if whole else 0
        if top and memoryview(top[0])[:1] == b"[":  # a list of traces, each a list of spans
            for done, raw in enumerate(top, 1):
                try:
                    spans = _TOP.decode(raw)
                except msgspec.ValidationError:
                    spans = None
                if not isinstance(spans, list):
                    self.report.skip("records that are not Zipkin spans", where,
                                     f"trace {done}: not a JSON array of spans")
                    continue
                self._span_list(spans, where, 0)
                if size and self.progress is not None and done % 16 == 0:
                    self.progress(size * done // len(top))
        else:
            self._span_list(top, where, size)
        self._flush()

    # -- resources and scopes ----------------------------------------------------------------

    def _resource(self, endpoint: _Endpoint | None, span: Raw) -> Resource:
        """By service name: the first span of a service gives the resource's attributes, as
        the Collector builds one resource per service."""
        service = _text(endpoint.serviceName) if endpoint is not None else ""
        res = self._by_service.get(service)
        if res is None:
            tags = _DETAIL.decode(span).tags
            attrs = {k: v for k, v in tags.items() if k.startswith(_RESOURCE_PREFIXES)} \
                if isinstance(tags, dict) else {}
            if service:
                attrs["service.name"] = service
            res = self._by_service[service] = Resource(attrs)
        return res

    # -- the hot loop --------------------------------------------------------------------------

    def _spans(self, spans: list[_Span | None], raws: list[Raw], where: str) -> None:
        report = self.report
        traces = self._traces
        rows_for = self._buckets.rows_for
        translated = self._translated
        no_scope = self._scope_of("", "")
        services = self._by_endpoint
        last_res = last_scope = rows = None
        for sp, raw_span in zip(spans, raws):
            if sp is None:
                continue
            s = sp.id
            sid = span_id(s)
            if sid is None:
                report.skip("spans with an empty or malformed id", where,
                            f"span {sp.name!r}: span id {s!r} is not 8 bytes of hex")
                continue
            tid_text = sp.traceId
            tr = traces.get(tid_text)
            if tr is None:
                tr = self._new_trace(tid_text, sp.name, where)
                if tr is None:
                    continue
            t = tr[0]
            parent = b""
            if sp.parentId:
                parent = span_id(sp.parentId) or b""
                if not parent:
                    report.warn("parent ids malformed (span kept as a root)", where,
                                f"span {sp.name!r}: parent id {sp.parentId!r} is malformed; "
                                "kept as a root")
                elif parent == sid:
                    parent = b""
            ts, du = sp.timestamp, sp.duration
            if not 0 <= ts <= MAX_US:
                report.skip("spans with a malformed or out-of-range time", where,
                            f"span {sp.name!r}: timestamp {ts!r} is out of range")
                continue
            start = ts * 1000
            if du < 0:
                report.warn("spans ending before they start (duration shown as 0)", where,
                            f"span {sp.name!r} has a negative duration (clock skew?)")
                du = 0
            end = min(start + du * 1000, MAX_NS)

            local = sp.localEndpoint
            res = services.get(local)
            if res is None:
                res = services[local] = self._resource(local, raw_span)

            kind = _KINDS.get(sp.kind, KIND_INTERNAL) if sp.kind else KIND_INTERNAL
            code = STATUS_UNSET
            message = state = ""
            scope = no_scope
            drop: Collection[str] = ()
            hot = sp.tags
            if hot is not None and hot != _NO_HOT:
                try:
                    done = translated.get(hot)
                except TypeError:  # a list or object value: not hashable
                    done = self._translate(hot)
                if done is None:
                    done = translated[hot] = self._translate(hot)
                code, message, state, scope, drop = done
            row = (t, sid, parent, sp.name, kind, code, start, end, raw_span, None, message,
                   state, drop)
            if sp.shared and kind == KIND_SERVER:
                self._shared.append((res, scope, row))
                continue
            if res is not last_res or scope is not last_scope:
                last_res, last_scope = res, scope
                rows = rows_for(res, scope)
            rows.append(row)

    def _translate(self, hot: _Hot) -> tuple[int, str, str, Scope, tuple[str, ...]]:
        drop: list[str] = []
        code = STATUS_UNSET
        message = ""
        if hot.status_code is not None:
            code = status_word(hot.status_code) or STATUS_UNSET
            drop.append("otel.status_code")
            if hot.status_description is not None:
                message = str(hot.status_description)
                drop.append("otel.status_description")
        if hot.error is not None and hot.error not in (False, "false"):
            code = STATUS_ERROR
            drop.append("error")
            if hot.error not in (True, "true", "") and not message:
                message = str(hot.error)  # Zipkin's convention: the error tag is the message
        state = ""
        if hot.trace_state is not None:
            state = str(hot.trace_state)
            drop.append("w3c.tracestate")
        name = hot.scope_name or hot.library_name
        version = hot.scope_version or hot.library_version
        drop.extend(("otel.scope.name", "otel.scope.version", "otel.library.name",
                     "otel.library.version", "span.kind"))
        return code, message, state, self._scope_of(name, version), tuple(drop)

    # -- shared spans (after the whole file: the client half may come later) --------------------

    def _finish(self) -> None:
        super()._finish()
        if self._shared:
            self._dedupe_shared()
            self._flush()

    def _dedupe_shared(self) -> None:
        """Jaeger's SpanIDDeduper: a SERVER span that shares its id with a CLIENT span of the
        same trace gets the trace's highest id + 1; the client becomes its parent, and the
        spans whose parent was the shared id follow the server."""
        b = self.b
        lo, hi = self._first_row, len(b)
        trace, span_id, parent_id = b.trace, b.span_id, b.parent_id
        clients = {(trace[r], span_id[r])
                   for r in compress(range(lo, hi), map(KIND_CLIENT.__eq__, b.kind[lo:hi]))}
        shared = self._shared
        self._shared = []
        matched = [i for i, (_, _, row) in enumerate(shared) if (row[0], row[1]) in clients]
        if matched:
            affected = {shared[i][2][0] for i in matched}
            used: dict[int, set[int]] = {t: set() for t in affected}
            rows_of: dict[int, list[int]] = {t: [] for t in affected}
            for r in range(lo, hi):
                t = trace[r]
                if t in used:
                    used[t].add(int.from_bytes(span_id[r], "big"))
                    rows_of[t].append(r)
            for _, _, row in shared:
                if row[0] in used:
                    used[row[0]].add(int.from_bytes(row[1], "big"))
            top = {t: max(ids) for t, ids in used.items()}
            renamed: dict[tuple[int, bytes], bytes] = {}
            for i in matched:
                res, scope, row = shared[i]
                t, old = row[0], row[1]
                n = top[t] + 1
                while n in used[t]:
                    n += 1
                if n >= 1 << 64:
                    continue  # no id left above the highest: keep it as it came
                top[t] = n
                used[t].add(n)
                new = n.to_bytes(8, "big")
                renamed[(t, old)] = new
                shared[i] = (res, scope, (t, new, old, *row[3:]))
            for t, rows in rows_of.items():
                for r in rows:
                    new = renamed.get((t, parent_id[r]))
                    if new is not None and span_id[r] != new:
                        parent_id[r] = new
            for i, (res, scope, row) in enumerate(shared):
                new = renamed.get((row[0], row[2]))
                if new is not None and row[1] != new:
                    shared[i] = (res, scope, (*row[:2], new, *row[3:]))
        for res, scope, row in shared:
            self._buckets.rows_for(res, scope).append(row)


_NO_HOT = _Hot()
