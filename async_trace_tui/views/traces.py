"""The Traces table: one row per trace, shared by `--list`, `--list --json` and the TUI."""

from __future__ import annotations

from typing import Any

from ..index import SpanIndex, TraceSummary


class TraceRow:
    __slots__ = ("summary", "trace_id", "root_service", "root_operation", "start_ns",
                 "duration_ns", "spans", "errors", "links_in", "links_out")

    def __init__(self, index: SpanIndex, s: TraceSummary) -> None:
        self.summary = s
        self.trace_id = s.trace_id.hex()
        root = s.root
        self.root_service = index.service(root) if root >= 0 else ""
        self.root_operation = index.name[root] if root >= 0 else ""
        self.start_ns = s.start
        self.duration_ns = s.duration
        self.spans = s.spans
        self.errors = s.errors
        self.links_in = s.links_in
        self.links_out = s.links_out

    def as_json(self) -> dict[str, Any]:
        return {
            "trace_id": self.trace_id,
            "root_service": self.root_service,
            "root_operation": self.root_operation,
            "start_ns": self.start_ns,
            "duration_ns": self.duration_ns,
            "spans": self.spans,
            "errors": self.errors,
            "links_in": self.links_in,
            "links_out": self.links_out,
        }


SORT_KEYS = {
    "start": lambda r: r.start_ns,
    "duration": lambda r: r.duration_ns,
    "spans": lambda r: r.spans,
    "errors": lambda r: r.errors,
    "service": lambda r: (r.root_service, r.root_operation),
    "operation": lambda r: (r.root_operation, r.root_service),
    "links_in": lambda r: r.links_in,
    "links_out": lambda r: r.links_out,
    "trace_id": lambda r: r.trace_id,
}


def trace_rows(index: SpanIndex, sort: str = "start", reverse: bool = False) -> list[TraceRow]:
    rows = [TraceRow(index, s) for s in index.traces if s.spans]
    rows.sort(key=SORT_KEYS[sort], reverse=reverse)
    return rows
