"""`trace-tui export FILE... --to chdb:DIR|clickhouse://...`: spans into `otel_traces`, as the
Collector's clickhouseexporter writes them (its current column mapping: kind `Server`,
status `Error`, Duration UInt64 ns, scope in ScopeName/ScopeVersion, attribute values as
strings the way pcommon's `AsString` writes them). Creates the exporter's tables when they
are not there (the DDL shipped next to this module)."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from decimal import Decimal
from importlib import resources
from typing import Any

import msgspec

from ...index import SpanIndex
from ...model import KIND_NAMES, STATUS_NAMES
from ..base import SourceError
from .backend import Backend, connect
from .target import Target

KIND_SPELLING = [n.capitalize() for n in KIND_NAMES]  # Unspecified, Internal, Server...
STATUS_SPELLING = [n.capitalize() for n in STATUS_NAMES]  # Unset, Ok, Error
BATCH = 5000
_DEFAULT_QUERY_SIZE = 262_144
_ROW_TYPES = ("ts Int64, TraceId String, SpanId String, ParentSpanId String, TraceState String, "
              "SpanName String, SpanKind String, ServiceName String, "
              "ResourceAttributes Map(String, String), ScopeName String, ScopeVersion String, "
              "SpanAttributes Map(String, String), Duration UInt64, StatusCode String, "
              "StatusMessage String, ev_ts Array(Int64), ev_name Array(String), "
              "ev_attrs Array(Map(String, String)), lk_trace Array(String), lk_span Array(String), "
              "lk_state Array(String), lk_attrs Array(Map(String, String))")
_COLUMNS = ("Timestamp, TraceId, SpanId, ParentSpanId, TraceState, SpanName, SpanKind, "
            "ServiceName, ResourceAttributes, ScopeName, ScopeVersion, SpanAttributes, Duration, "
            "StatusCode, StatusMessage, `Events.Timestamp`, `Events.Name`, `Events.Attributes`, "
            "`Links.TraceId`, `Links.SpanId`, `Links.TraceState`, `Links.Attributes`")
_SELECT = ("fromUnixTimestamp64Nano(ts), TraceId, SpanId, ParentSpanId, TraceState, SpanName, "
           "SpanKind, ServiceName, ResourceAttributes, ScopeName, ScopeVersion, SpanAttributes, "
           "Duration, StatusCode, StatusMessage, arrayMap(x -> fromUnixTimestamp64Nano(x), ev_ts), "
           "ev_name, ev_attrs, lk_trace, lk_span, lk_state, lk_attrs")
_encode = msgspec.json.Encoder().encode


def as_string(value: Any) -> str:
    """An attribute value as the exporter stores it (pcommon.Value.AsString)."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if value != value:
            return "NaN"
        if value in (float("inf"), float("-inf")):
            return "+Inf" if value > 0 else "-Inf"
        return format(Decimal(repr(value)), "f")
    if isinstance(value, bytes | bytearray):
        return base64.b64encode(value).decode()
    if value is None:
        return ""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, default=str)


def _attrs(attrs: dict[str, Any]) -> dict[str, str]:
    return {str(k): as_string(v) for k, v in attrs.items()}


def exporter_row(index: SpanIndex, row: int) -> dict[str, Any]:
    d = index.detail(row)
    res = index.resource(row)
    scope = index.scope(row)
    service = res.attributes.get("service.name")
    return {
        "ts": index.start[row],
        "TraceId": index.trace_id_of(row).hex(),
        "SpanId": index.span_id[row].hex(),
        "ParentSpanId": index.parent_id[row].hex(),
        "TraceState": d.trace_state or "",
        "SpanName": index.name[row],
        "SpanKind": KIND_SPELLING[index.kind[row]],
        "ServiceName": "" if service is None else as_string(service),
        "ResourceAttributes": _attrs(res.attributes),
        "ScopeName": scope.name or "",
        "ScopeVersion": scope.version or "",
        "SpanAttributes": _attrs(d.attributes),
        "Duration": max(0, index.end[row] - index.start[row]),
        "StatusCode": STATUS_SPELLING[index.status[row]],
        "StatusMessage": d.status_message or "",
        "ev_ts": [e.time_ns for e in d.events],
        "ev_name": [e.name for e in d.events],
        "ev_attrs": [_attrs(e.attributes) for e in d.events],
        "lk_trace": [lk.trace_id.hex() for lk in d.links],
        "lk_span": [lk.span_id.hex() for lk in d.links],
        "lk_state": ["" for _ in d.links],
        "lk_attrs": [_attrs(lk.attributes) for lk in d.links],
    }


def ddl(target: Target) -> list[str]:
    """The exporter's CREATE statements, for this target's database and table."""
    text = resources.files(__package__).joinpath("otel_traces.sql").read_text()
    text = "\n".join(line for line in text.splitlines() if not line.startswith("--"))
    text = text.replace("`otel`.`otel_traces", f"`{target.database}`.`{target.table}")
    text = text.replace("CREATE DATABASE IF NOT EXISTS otel",
                        f"CREATE DATABASE IF NOT EXISTS `{target.database}`")
    return [s.strip() for s in text.split(";") if s.strip()]


def insert_rows(backend: Backend, target: Target, rows: list[dict[str, Any]]) -> None:
    """Rows as `exporter_row` makes them, in one INSERT ... SELECT (the same SQL on chDB and
    on a server; the data travels inside the statement)."""
    if not rows:
        return
    data = b"\n".join(_encode(r) for r in rows).decode()
    fence = "$exp$"
    if fence in data:  # cannot happen with JSON-escaped text, but never break the quoting
        raise SourceError("span data holds the SQL quoting fence")
    sql = (f"INSERT INTO {target.qualified} ({_COLUMNS}) SELECT {_SELECT} "
           f"FROM format(JSONEachRow, '{_ROW_TYPES}', {fence}{data}{fence})")
    # The rows travel inside the statement: past the parser's default limit (256 KiB)
    # with a few hundred spans.
    size = max(_DEFAULT_QUERY_SIZE, len(sql.encode()) + 1024)
    backend.command(sql, settings={"max_query_size": size})


def export(index: SpanIndex, spec: str,
           progress: Callable[[int, int], None] | None = None) -> int:
    """Write every span of `index` to the store `spec`; returns the spans written."""
    from .target import parse_target

    target = parse_target(spec)
    backend = connect(target)
    try:
        for stmt in ddl(target):
            backend.command(stmt)
        n = len(index)
        for lo in range(0, n, BATCH):
            insert_rows(backend, target, [exporter_row(index, r) for r in range(lo, min(n, lo + BATCH))])
            if progress is not None:
                progress(min(n, lo + BATCH), n)
        return n
    finally:
        backend.close()
