"""OTLP protobuf (one message, or the Collector file exporter's length-prefixed stream).

A TracesData is split, without copying, into its top-level resourceSpans, and each is parsed
with a *lite* schema: the OTLP field numbers, but only the fields the index needs (reading a
field of an upb message costs ~150 ns a span, so every field counts). Attributes, events
and the rest are not kept: a span's details are read again from the resourceSpans' bytes,
parsed with the full schema, when shown. Status is declared as bytes (most spans have the
same few encodings); links as one *merged* message whose fields are repeated, so that every
link's ids of a span land in two lists and "has links" is one cheap HasField.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Iterator
from typing import Any

from google.protobuf import descriptor_pb2, descriptor_pool, message_factory
from google.protobuf.message import DecodeError
from opentelemetry.proto.common.v1 import common_pb2
from opentelemetry.proto.resource.v1 import resource_pb2
from opentelemetry.proto.trace.v1 import trace_pb2

from ..index import IndexBuilder
from ..model import STATUS_ERROR, LinkDetail, Resource, Scope, SpanDetail, SpanEvent
from ..words import counted
from .anyvalue import proto_attributes
from .base import LoaderBase
from .report import FileReport, LoadError, LoadReport
from .sniff import ZSTD_MAGIC, Budget, InputTooLarge, default_max_bytes, skip_zeros, zstd_decompress

# A stream whose length prefixes lie is out of step for good: this many unreadable messages
# in a row end its reading (each costs a loop; a bomb of them would cost minutes).
_MAX_BAD_IN_A_ROW = 1000
# A TracesData holds resourceSpans (field 1) only; a future field or two is skipped, a flood
# of them is corrupt data (each costs a loop).
_MAX_UNKNOWN_FIELDS = 10_000


def _lite_classes() -> dict[str, Any]:
    F = descriptor_pb2.FieldDescriptorProto
    fdp = descriptor_pb2.FileDescriptorProto(
        name="async_trace_tui_lite.proto", package="async_trace_tui_lite", syntax="proto3"
    )
    opt, rep = F.LABEL_OPTIONAL, F.LABEL_REPEATED

    def message(name: str, fields: list[tuple[str, int, int, int, str]]) -> None:
        m = fdp.message_type.add(name=name)
        for fname, number, ftype, label, type_name in fields:
            f = m.field.add(name=fname, number=number, type=ftype, label=label)
            if type_name:
                f.type_name = ".async_trace_tui_lite." + type_name

    message("LinkIds", [
        ("trace_id", 1, F.TYPE_BYTES, rep, ""),
        ("span_id", 2, F.TYPE_BYTES, rep, ""),
    ])
    message("Span", [
        ("trace_id", 1, F.TYPE_BYTES, opt, ""),
        ("span_id", 2, F.TYPE_BYTES, opt, ""),
        ("parent_span_id", 4, F.TYPE_BYTES, opt, ""),
        ("name", 5, F.TYPE_BYTES, opt, ""),  # bytes: a bad UTF-8 name must not fail the file
        ("kind", 6, F.TYPE_INT32, opt, ""),
        ("start_time_unix_nano", 7, F.TYPE_FIXED64, opt, ""),
        ("end_time_unix_nano", 8, F.TYPE_FIXED64, opt, ""),
        # Every Link of the span merges into one LinkIds: ids appended in order.
        ("links", 13, F.TYPE_MESSAGE, opt, "LinkIds"),
        ("status", 15, F.TYPE_BYTES, opt, ""),
    ])
    message("ScopeSpans", [
        ("scope", 1, F.TYPE_BYTES, opt, ""),
        ("spans", 2, F.TYPE_MESSAGE, rep, "Span"),
    ])
    message("ResourceSpans", [
        ("resource", 1, F.TYPE_BYTES, opt, ""),
        ("scope_spans", 2, F.TYPE_MESSAGE, rep, "ScopeSpans"),
        # OTLP before 0.15: InstrumentationLibrarySpans, same layout as ScopeSpans.
        ("instrumentation_library_spans", 1000, F.TYPE_MESSAGE, rep, "ScopeSpans"),
    ])
    message("TracesData", [("resource_spans", 1, F.TYPE_MESSAGE, rep, "ResourceSpans")])
    pool = descriptor_pool.DescriptorPool()
    pool.Add(fdp)
    return {
        name: message_factory.GetMessageClass(pool.FindMessageTypeByName(f"async_trace_tui_lite.{name}"))
        for name in ("TracesData", "ResourceSpans", "Span")
    }


_LITE = _lite_classes()
LiteTracesData = _LITE["TracesData"]
LiteResourceSpans = _LITE["ResourceSpans"]
_FullSpan = trace_pb2.Span
# The common encodings of a Status without a message: code UNSET, OK, ERROR.
_PLAIN_STATUS = {b"": 0, b"\x18\x00": 0, b"\x18\x01": 1, b"\x18\x02": 2}
_ERROR_STATUS = b"\x18\x02"
_ZERO_TRACE_ID = bytes(16)
_ZERO_SPAN_ID = bytes(8)
_MAX_NS = (1 << 63) - 1  # the index keeps int64 times (until 2262)


def _status_code(raw: bytes) -> tuple[int, str]:
    if raw == _ERROR_STATUS:
        return STATUS_ERROR, ""
    try:
        st = trace_pb2.Status.FromString(raw)
    except DecodeError:
        return 0, ""
    code = st.code if 0 <= st.code <= 2 else 0
    return code, st.message


class ResourceSpansBytes:
    """The undecoded bytes of one resourceSpans (a slice of the input, not a copy), parsed
    with the full schema when a span's details are wanted; the last few stay parsed.
    The lite schema reads fewer fields than the full one checks (a string with bad UTF-8,
    a corrupt event): when the whole does not parse, each span is parsed alone, so one bad
    span costs only its own details."""

    __slots__ = ("data", "_parsed", "_whole_fails")
    _recent: list[ResourceSpansBytes] = []

    def __init__(self, data: memoryview) -> None:
        self.data = data
        self._parsed: Any = None
        self._whole_fails = False

    def parsed(self) -> Any:
        if self._parsed is None:
            self._parsed = trace_pb2.ResourceSpans.FromString(self.data)
            recent = ResourceSpansBytes._recent
            recent.append(self)
            if len(recent) > 8:
                recent.pop(0)._parsed = None
        return self._parsed

    def span(self, scope: int, pos: int) -> Any:
        """The full Span message; raises DecodeError when its bytes cannot be read."""
        if not self._whole_fails:
            try:
                rs = self.parsed()
            except DecodeError:
                self._whole_fails = True
            else:
                groups = rs.scope_spans or rs.instrumentation_library_spans
                return groups[scope].spans[pos]
        try:
            scopes = _payloads(self.data, 2) or _payloads(self.data, 1000)
            return _FullSpan.FromString(_payloads(scopes[scope], 2)[pos])
        except (ValueError, IndexError) as e:
            raise DecodeError(str(e) or type(e).__name__) from None


class ProtoBlockSource:
    """One ScopeSpans of a protobuf input: where its spans' bytes are."""

    __slots__ = ("rs", "scope", "positions")

    def __init__(self, rs: ResourceSpansBytes, scope: int) -> None:
        self.rs = rs
        self.scope = scope
        self.positions: list[int] | None = None  # set once a span of the block was skipped

    def span(self, offset: int) -> Any:
        pos = offset if self.positions is None else self.positions[offset]
        return self.rs.span(self.scope, pos)

    def attribute_keys(self, offset: int) -> set[str]:
        try:
            return {kv.key for kv in self.span(offset).attributes}
        except (DecodeError, RecursionError):
            return set()  # the details say why

    def detail(self, offset: int) -> SpanDetail:
        try:
            span = self.span(offset)
        except (DecodeError, RecursionError) as e:
            why = str(e).splitlines()[0][:120] if str(e) else "corrupt protobuf"
            return SpanDetail.unreadable(f"the rest of this span cannot be read ({why})")
        return SpanDetail(
            proto_attributes(span.attributes),
            [SpanEvent(e.name, e.time_unix_nano, proto_attributes(e.attributes)) for e in span.events],
            [LinkDetail(lk.trace_id, lk.span_id, proto_attributes(lk.attributes)) for lk in span.links],
            span.status.message,
            span.trace_state,
        )


class ProtoLoader(LoaderBase):
    def __init__(self, builder: IndexBuilder, report: LoadReport, file: FileReport,
                 progress: Callable[[int], None] | None = None, budget: Budget | None = None) -> None:
        super().__init__(builder, report, file, progress)
        self._trace_cache: dict[bytes, int] = {}
        self.budget = budget or Budget(default_max_bytes())

    def load_message(self, data: bytes) -> None:
        """One TracesData, parsed one ResourceSpans at a time: a 200 MB message parsed whole
        holds the interpreter for over a second (the TUI would freeze) and says nothing of
        its progress; and a file cut short still gives every ResourceSpans before the cut."""
        self.file.format = "OTLP protobuf"
        loaded, problems = self._traces_data(data, self.file.name, self.progress)
        if not loaded:
            detail = f": {problems[0][1]}" if problems else ""
            raise LoadError(f"truncated or corrupt protobuf (not a TracesData message){detail}")
        for where, error in problems:
            self.report.skip("truncated or corrupt resourceSpans", where, error)

    def load_stream(self, data: bytes | bytearray) -> None:
        """[4-byte big-endian length][TracesData or zstd frame of one]..., as the Collector writes."""
        self.file.format = "OTLP protobuf stream (Collector file exporter)"
        pos, n, record = 0, len(data), 0
        view = memoryview(data)
        bad_in_a_row = 0
        while pos < n:
            record += 1
            where = f"{self.file.name}: message {record}"
            if bad_in_a_row >= _MAX_BAD_IN_A_ROW:
                self.report.skip("truncated messages", where,
                                 f"reading stopped after {bad_in_a_row:,} unreadable messages in a "
                                 "row (the stream is out of step: its length prefixes are wrong)")
                break
            if pos + 4 > n:
                self.report.skip("truncated messages", where, "the file ends inside its length prefix")
                break
            (size,) = struct.unpack_from(">I", data, pos)
            if size == 0:
                # Zero-length records (zero padding, or a bomb of zeros): the run is one bad
                # record, crossed at memcmp speed, not one loop each.
                words = max(1, (skip_zeros(data, pos) - pos) // 4)
                pos += 4 * words
                record += words - 1
                self.report.skip("empty messages", where,
                                 counted(words, "empty (zero-length) message"))
                bad_in_a_row += 1
                continue
            body: Any = view[pos + 4:pos + 4 + size]
            pos += 4 + size
            if len(body) < size:
                self.report.skip("truncated messages", where,
                                 f"cut short ({len(body)} of {size} bytes)")
                break
            if body[:4] == ZSTD_MAGIC:
                try:
                    body = zstd_decompress(body, self.budget)
                except InputTooLarge:
                    raise
                except LoadError as e:
                    self.report.skip("corrupt messages", where, str(e))
                    bad_in_a_row += 1
                    continue
                self.file.format = "OTLP protobuf stream, zstd per message (Collector file exporter)"
            loaded, problems = self._traces_data(body, where, None)
            if problems:
                self.report.skip("corrupt messages", where, "not a valid TracesData message")
            bad_in_a_row = bad_in_a_row + 1 if problems and not loaded else 0
            if self.progress is not None:
                self.progress(pos)
        if record and not self.file.spans and self.file.skipped:
            raise LoadError("no readable message in this protobuf stream")

    # -- shared -------------------------------------------------------------------------

    def _traces_data(self, data: Any, where: str, progress: Callable[[int], None] | None
                     ) -> tuple[int, list[tuple[str, str]]]:
        """Every resourceSpans of one TracesData's bytes; (how many loaded, problems)."""
        loaded = 0
        problems: list[tuple[str, str]] = []
        for number, chunk, end, error in _top_level_fields(data):
            at = f"{where}: resourceSpans {number}"
            if error:
                problems.append((at, error))
                break
            rs = LiteResourceSpans()
            try:
                rs.ParseFromString(chunk)
            except DecodeError:
                problems.append((at, f"resourceSpans {number} is not valid protobuf"))
                continue
            self._resource_spans(rs, ResourceSpansBytes(chunk), where)
            loaded += 1
            if progress is not None:
                progress(end)
        return loaded, problems

    def _resource_spans(self, rs: Any, raw: ResourceSpansBytes, where: str) -> None:
        resource = self._resource(rs.resource)
        for number, ss in enumerate(rs.scope_spans or rs.instrumentation_library_spans):
            if len(ss.spans):
                src = ProtoBlockSource(raw, number)
                self._spans(ss, src, resource, self._scope(ss.scope), where)

    def _resource(self, raw: bytes) -> Resource:
        res = self._resources.get(raw)
        if res is None:
            try:
                attrs = proto_attributes(resource_pb2.Resource.FromString(raw).attributes)
            except DecodeError:
                attrs = {}
            res = self._resources[raw] = Resource(attrs)
        return res

    def _scope(self, raw: bytes) -> Scope:
        scope = self._scopes.get(raw)
        if scope is None:
            try:
                s = common_pb2.InstrumentationScope.FromString(raw)
                scope = Scope(s.name, s.version, proto_attributes(s.attributes))
            except DecodeError:
                scope = Scope("", "", {})
            self._scopes[raw] = scope
        return scope

    def _spans(self, ss: Any, src: ProtoBlockSource, resource: Resource, scope: Scope,
               where: str) -> None:
        b = self.b
        b.add_block(resource, scope, src)
        report = self.report
        tcache = self._trace_cache
        trace_row = b.trace_row
        names = b._names
        a_trace, a_sid, a_pid = b.trace.append, b.span_id.append, b.parent_id.append
        a_name, a_kind, a_status = b.name.append, b.kind.append, b.status.append
        a_start, a_end = b.start.append, b.end.append
        plain_status = _PLAIN_STATUS
        kept = 0
        for pos, sp in enumerate(ss.spans):
            sid = sp.span_id
            if len(sid) != 8 or sid == _ZERO_SPAN_ID:
                self._skip_span(src, pos, kept, where, sp, f"span id {sid.hex()!r} is not 8 bytes")
                continue
            start = sp.start_time_unix_nano
            end = sp.end_time_unix_nano
            if start > _MAX_NS or end > _MAX_NS:
                self._skip_span(src, pos, kept, where, sp, "start or end time out of range",
                                "spans with a time out of range")
                continue
            tid = sp.trace_id
            t = tcache.get(tid)
            if t is None:
                if len(tid) != 16 or tid == _ZERO_TRACE_ID:
                    self._skip_span(src, pos, kept, where, sp, f"trace id {tid.hex()!r} is not 16 bytes")
                    continue
                t = tcache[tid] = trace_row(tid)
            pid = sp.parent_span_id
            if pid and len(pid) != 8:
                report.warn("parent ids malformed (span kept as a root)", where,
                            f"span {_name(sp)!r}: parent id {pid.hex()!r} is malformed; kept as a root")
                pid = b""
            elif pid == _ZERO_SPAN_ID:
                pid = b""  # the all-zero (invalid) id, as some converters write: no parent
            kind = sp.kind
            if not 0 <= kind <= 5:
                kind = 0
            st = sp.status
            code = plain_status.get(st)
            if code is None:
                code = _status_code(st)[0]
            if end < start:
                report.warn("spans ending before they start (duration shown as 0)", where,
                            f"span {_name(sp)!r} ends before it starts (clock skew?)")
                end = start
            raw_name = sp.name
            name = names.get(raw_name)
            if name is None:
                name = names[raw_name] = raw_name.decode("utf-8", "replace")
            a_trace(t)
            a_sid(sid)
            a_pid(pid)
            a_name(name)
            a_kind(kind)
            a_status(code)
            a_start(start)
            a_end(end)
            if src.positions is not None:
                src.positions.append(pos)
            if sp.HasField("links"):
                self._links(sp, src, kept, len(b.span_id) - 1, where)
            kept += 1
        self.file.spans += kept

    def _skip_span(self, src: ProtoBlockSource, pos: int, kept: int, where: str, sp: Any, why: str,
                   reason: str = "spans with an empty or malformed id") -> None:
        self.report.skip(reason, where, f"span {_name(sp)!r}: {why}")
        if src.positions is None:
            src.positions = list(range(kept))

    def _links(self, sp: Any, src: ProtoBlockSource, offset: int, row: int, where: str) -> None:
        ids = sp.links
        tids, sids = list(ids.trace_id), list(ids.span_id)
        if len(tids) != len(sids):
            # A link without one of its ids: the merged lists no longer pair up; read the
            # span's links one by one from its bytes.
            try:
                links = src.span(offset).links
            except (DecodeError, RecursionError):
                self.report.skip("links with an empty or malformed id", where,
                                 f"span {_name(sp)!r}: its links cannot be read",
                                 count=max(len(tids), len(sids)))
                return
            tids, sids = [lk.trace_id for lk in links], [lk.span_id for lk in links]
        good = []
        for tid, sid in zip(tids, sids, strict=True):
            if len(tid) != 16 or len(sid) != 8 or tid == _ZERO_TRACE_ID or sid == _ZERO_SPAN_ID:
                self.report.skip("links with an empty or malformed id", where,
                                 f"span {_name(sp)!r} has a link with an empty or malformed id")
                continue
            good.append((tid, sid))
        if good:
            self.b.links[row] = good


def _varint(data: bytes, pos: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        byte = data[pos]  # IndexError past the end: the caller reports a cut
        pos += 1
        value |= (byte & 0x7F) << shift
        if byte < 0x80:
            return value, pos
        shift += 7
        if shift > 63:
            raise ValueError("varint too long")


def _top_level_fields(data: bytes) -> Iterator[tuple[int, memoryview, int, str]]:
    """The `resource_spans` (field 1) payloads of a TracesData, in order, without copying:
    (number, payload, end offset, "") each, or a last (number, empty, offset, what is wrong)
    when the data is cut or corrupt. Other top-level fields are skipped, as protobuf does."""
    view = memoryview(data)
    pos, n, number = 0, len(data), 0
    unknown = 0
    while pos < n:
        number += 1
        try:
            tag, pos = _varint(data, pos)
            field, wire = tag >> 3, tag & 7
            if field == 0:
                raise ValueError("field number 0")
            if field != 1:
                unknown += 1
                if unknown > _MAX_UNKNOWN_FIELDS:
                    raise ValueError(f"over {_MAX_UNKNOWN_FIELDS:,} fields that are not resourceSpans")
            if wire == 2:
                size, pos = _varint(data, pos)
                if pos + size > n:
                    yield number, view[:0], n, (f"the file ends inside resourceSpans {number} "
                                                f"({n - pos} of {size} bytes)")
                    return
                if field == 1:
                    yield number, view[pos:pos + size], pos + size, ""
                else:
                    number -= 1
                pos += size
            elif wire == 0:
                number -= 1
                _, pos = _varint(data, pos)
            elif wire in (1, 5):
                number -= 1
                pos += 8 if wire == 1 else 4
            else:
                raise ValueError(f"wire type {wire}")
        except (IndexError, ValueError) as e:
            what = "the file ends" if isinstance(e, IndexError) else f"corrupt data ({e})"
            yield number, view[:0], n, f"{what} at byte {pos} of {n}"
            return


def _payloads(data: Any, field: int) -> list[memoryview]:
    """The payloads of one length-delimited field of a message's bytes, in order; raises
    ValueError (or IndexError) when the bytes are not a message."""
    view = memoryview(data)
    pos, n = 0, len(view)
    out = []
    while pos < n:
        tag, pos = _varint(view, pos)
        number, wire = tag >> 3, tag & 7
        if number == 0:
            raise ValueError("field number 0")
        if wire == 2:
            size, pos = _varint(view, pos)
            if pos + size > n:
                raise ValueError("a field runs past the end of its message")
            if number == field:
                out.append(view[pos:pos + size])
            pos += size
        elif wire == 0:
            _, pos = _varint(view, pos)
        elif wire in (1, 5):
            pos += 8 if wire == 1 else 4
        else:
            raise ValueError(f"wire type {wire}")
    return out


def _name(sp: Any) -> str:
    return sp.name.decode("utf-8", "replace")
