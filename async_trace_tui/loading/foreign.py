"""What the Jaeger and Zipkin loaders share: ids, times, status and kind words, and the
buckets that turn spans read in file order into blocks of one resource and scope.

Both formats interleave services span by span, while the index keeps a run of rows per
resource and scope (a block). Spans are read into per-(resource, scope) buckets, then each
bucket is appended as one block, column by column at C speed.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable, Collection
from datetime import UTC, datetime
from itertools import compress, count
from operator import itemgetter
from typing import Any

import msgspec

from ..index import IndexBuilder
from ..model import (
    KIND_CLIENT,
    KIND_CONSUMER,
    KIND_INTERNAL,
    KIND_PRODUCER,
    KIND_SERVER,
    STATUS_ERROR,
    STATUS_OK,
    STATUS_UNSET,
    LinkDetail,
    Resource,
    Scope,
    SpanDetail,
)
from .jsonlines import PLAIN, JsonInputLoader, short

ENCODE = msgspec.json.Encoder().encode
_FLUSH_AT = 1 << 16  # spans held in buckets before they are appended
_CHUNK = 4096  # spans decoded per call (progress, and one bad span costs only its chunk)

# Nanoseconds that fit the index's int64 columns; times are microseconds in both formats.
MAX_NS = (1 << 63) - 1
MAX_US = MAX_NS // 1000

KINDS = {
    "client": KIND_CLIENT, "server": KIND_SERVER, "producer": KIND_PRODUCER,
    "consumer": KIND_CONSUMER, "internal": KIND_INTERNAL,
}
STATUS_WORDS = {"OK": STATUS_OK, "ERROR": STATUS_ERROR, "UNSET": STATUS_UNSET}


def status_word(value: Any) -> int | None:
    """`otel.status_code` as the exporters write it: OK, ERROR (or STATUS_CODE_ERROR...)."""
    if not isinstance(value, str):
        return None
    return STATUS_WORDS.get(value.upper().removeprefix("STATUS_CODE_"))


def http_error(code: Any, kind: int) -> bool:
    """The Collector's fallback when no status is given: 5xx is an error, 4xx on a client."""
    try:
        n = int(code)
    except (TypeError, ValueError):
        return False
    return n >= 500 or (400 <= n < 500 and kind == KIND_CLIENT)


def padded_id(text: Any, size: int) -> bytes | None:
    """An id as Jaeger and Zipkin write it: hex, shorter ones left-padded (64-bit trace ids,
    ids printed without leading zeros), or base64 (Jaeger's api_v2 JSON). None if malformed
    or all zero."""
    if not isinstance(text, str) or not text:
        return None
    raw = None
    if len(text) <= 2 * size:
        try:
            raw = bytes.fromhex(text.rjust(2 * size, "0"))
        except ValueError:
            raw = None
    if raw is None:
        try:
            raw = base64.b64decode(text, validate=True)
        except (ValueError, binascii.Error):
            return None
        if len(raw) == 8 and size == 16:  # a 64-bit trace id in base64
            raw = bytes(8) + raw
    return raw if len(raw) == size and any(raw) else None


_ZERO8 = bytes(8)


def span_id(text: str) -> bytes | None:
    """padded_id(text, 8), quicker for the usual 16 hex digits (the hot loops' case)."""
    if len(text) == 16:
        try:
            raw = bytes.fromhex(text)
        except ValueError:
            raw = None
        if raw is not None:
            return raw if raw != _ZERO8 else None
    return padded_id(text, 8)


_RFC3339 = re.compile(
    r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?\d*(Z|z|[+-]\d\d:\d\d)?$")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def rfc3339_ns(text: str) -> int | None:
    """`2017-01-26T16:46:31.639875139-05:00` (protobuf JSON Timestamps) in ns."""
    m = _RFC3339.match(text.strip())
    if m is None:
        return None
    base, frac, tz = m.groups()
    if tz is None or tz in "Zz":
        tz = "+00:00"
    try:
        delta = datetime.fromisoformat(base + tz) - _EPOCH
    except ValueError:
        return None
    secs = delta.days * 86400 + delta.seconds
    return secs * 1_000_000_000 + int((frac or "0").ljust(9, "0"))


_DURATION_PART = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)")
_UNIT_NS = {"ns": 1, "us": 1_000, "µs": 1_000, "μs": 1_000, "ms": 1_000_000,
            "s": 1_000_000_000, "m": 60_000_000_000, "h": 3_600_000_000_000}


def duration_ns(text: str) -> int | None:
    """`0.000005s` (protobuf JSON Duration) or Go's `5µs`, `1m30s`, `5000ns`, in ns."""
    text = text.strip()
    pos, total = 0, 0
    for m in _DURATION_PART.finditer(text):
        if m.start() != pos:
            return None
        number, unit = m.groups()
        whole, _, frac = number.partition(".")
        scale = _UNIT_NS[unit]
        total += int(whole or "0") * scale + int(frac.ljust(9, "0")[:9] or "0") * scale // 1_000_000_000
        pos = m.end()
    return total if pos == len(text) and pos else None


class RowSource:
    """One block's spans as a loader read them: each span's JSON stays an undecoded slice of
    the input, read again (`read`) when the span is shown; the few things the translation
    worked out that the JSON does not say plainly are kept beside it."""

    __slots__ = ("spans", "links", "messages", "trace_states", "extra")

    def __init__(self) -> None:
        self.spans: list[Any] = []  # msgspec.Raw of each span
        self.links: dict[int, list[tuple[bytes, bytes, dict[str, Any]]]] = {}
        self.messages: dict[int, str] = {}
        self.trace_states: dict[int, str] = {}
        # The tag keys a span's translation used up (kind, status...): not attributes.
        self.extra: dict[int, Collection[str]] = {}

    def read(self, offset: int) -> tuple[dict[str, Any], list[Any]]:
        """The span's attributes and events, from its JSON."""
        raise NotImplementedError

    def attribute_keys(self, offset: int) -> Collection[str]:
        return self.read(offset)[0].keys()

    def detail(self, offset: int) -> SpanDetail:
        attributes, events = self.read(offset)
        links = [LinkDetail(t, s, a) for t, s, a in self.links.get(offset, ())]
        return SpanDetail(attributes, events, links,
                          self.messages.get(offset, ""), self.trace_states.get(offset, ""))


# A span read, before it is appended: its columns, then what its RowSource keeps.
# (trace row, span id, parent id, name, kind, status, start, end,
#  span JSON, links [(tid, sid, attrs)], status message, trace state, used-up tag keys)
_COLUMNS = [itemgetter(i) for i in range(13)]


class Buckets:
    """Spans read in file order, grouped by (resource, scope) until `flush()`."""

    __slots__ = ("rows", "keys")

    def __init__(self) -> None:
        self.rows: dict[tuple[int, int], list[tuple[Any, ...]]] = {}
        self.keys: dict[tuple[int, int], tuple[Resource, Scope]] = {}

    def rows_for(self, resource: Resource, scope: Scope) -> list[tuple[Any, ...]]:
        """The bucket to append a span's row to (hot loops keep the last one at hand)."""
        key = (id(resource), id(scope))
        rows = self.rows.get(key)
        if rows is None:
            rows = self.rows[key] = []
            self.keys[key] = (resource, scope)
        return rows

    @property
    def size(self) -> int:
        return sum(map(len, self.rows.values()))

    def flush(self, b: IndexBuilder, make_source: type[RowSource]) -> int:
        """Append every bucket as one block; the number of spans appended."""
        g = _COLUMNS
        n = 0
        for key, rows in self.rows.items():
            resource, scope = self.keys[key]
            src = make_source()
            first = len(b.span_id)
            b.add_block(resource, scope, src)
            b.trace.extend(map(g[0], rows))
            b.span_id.extend(map(g[1], rows))
            b.parent_id.extend(map(g[2], rows))
            b.name.extend(map(b.intern_name, map(g[3], rows)))
            b.kind.extend(map(g[4], rows))
            b.status.extend(map(g[5], rows))
            b.start.extend(map(g[6], rows))
            b.end.extend(map(g[7], rows))
            src.spans = list(map(g[8], rows))
            for col, target in ((10, src.messages), (11, src.trace_states), (12, src.extra)):
                values = list(map(g[col], rows))
                for k in compress(count(), values):
                    target[k] = values[k]
            for k in compress(count(), map(g[9], rows)):
                links = rows[k][9]
                src.links[k] = links
                b.links[first + k] = [(t, s) for t, s, _ in links]
            n += len(rows)
        self.rows.clear()
        self.keys.clear()
        return n


class ForeignLoader(JsonInputLoader):
    """What the Jaeger and Zipkin loaders share: spans decoded a chunk at a time (progress;
    one bad span costs only itself), buckets flushed as blocks, scopes and translations
    cached. Subclasses give the span decoder, the source type and `_spans`."""

    SPAN: Any = None  # msgspec Decoder of one span
    SOURCE: type[RowSource] = RowSource
    NAME_KEY = "name"  # the span's name, for messages
    # Fields a bad value of which is dropped (the span kept without them): field -> check.
    OPTIONAL: dict[str, Callable[[Any], bool]] = {}

    def __init__(self, *args: Any, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self._buckets = Buckets()
        self._scope_cache: dict[tuple[str, str], Scope] = {}
        self._translated: dict[Any, tuple[Any, ...]] = {}  # special tags -> translation
        self._traces: dict[str, tuple[int, bytes]] = {}  # trace id text -> (row, id)

    def _new_trace(self, text: str, name: str, where: str) -> tuple[int, bytes] | None:
        """A trace id not seen yet in this file: its row, or None (reported) if malformed."""
        tid = padded_id(text, 16)
        if tid is None:
            self.report.skip("spans with an empty or malformed id", where,
                             f"span {name!r}: trace id {text!r} is not 8 or 16 bytes of hex "
                             "or base64")
            return None
        tr = self._traces[text] = (self.b.trace_row(tid), tid)
        return tr

    def _span_list(self, raws: list[Any], where: str, size: int, *context: Any) -> None:
        for lo in range(0, len(raws), _CHUNK):
            chunk = raws[lo:lo + _CHUNK]
            try:
                spans = list(map(self.SPAN.decode, chunk))
            except msgspec.ValidationError:
                spans = list(map(self._loose_span, chunk, (where,) * len(chunk)))
            self._spans(spans, chunk, where, *context)
            if size and self.progress is not None and len(raws) > _CHUNK:
                self.progress(size * (lo + len(chunk)) // len(raws))
        if self._buckets.size >= _FLUSH_AT:
            self._flush()

    def _spans(self, spans: list[Any], raws: list[Any], where: str, *context: Any) -> None:
        raise NotImplementedError

    def _loose_span(self, raw: Any, where: str) -> Any:
        """A span the typed decoding rejected: nulls dropped and OPTIONAL fields of the
        wrong shape left out (the span kept without them), else skipped with the reason."""
        span = PLAIN.decode(raw)
        if not isinstance(span, dict):
            self.report.skip("malformed spans", where, "span is not a JSON object")
            return None
        clean = {k: v for k, v in span.items()
                 if v is not None and (k not in self.OPTIONAL or self.OPTIONAL[k](v))}
        try:
            return self.SPAN.decode(ENCODE(clean))
        except msgspec.ValidationError as e:
            self.report.skip("malformed spans", where,
                             f"span {span.get(self.NAME_KEY)!r}: {short(e)}")
            return None

    def _flush(self) -> None:
        if self._buckets.size:
            self.file.spans += self._buckets.flush(self.b, self.SOURCE)

    def _finish(self) -> None:
        self._flush()

    def _scope_of(self, name: Any, version: Any) -> Scope:
        key = (str(name or ""), str(version or ""))
        scope = self._scope_cache.get(key)
        if scope is None:
            scope = self._scope_cache[key] = Scope(key[0], key[1], {})
        return scope


def list_of_objects(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(x, dict) for x in value)


def an_object(value: Any) -> bool:
    return isinstance(value, dict)
