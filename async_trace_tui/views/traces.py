"""The Traces table: one row per trace, shared by `--list`, `--list --json` and the TUI."""

from __future__ import annotations

from typing import Any

from ..gcpause import paused_gc
from ..index import SpanIndex, TraceSummary

# `--list --json`'s keys, in order (SPEC §5; async_from/async_to: see async_trace_counts).
JSON_FIELDS = ("trace_id", "root_service", "root_operation", "start_ns", "duration_ns", "spans",
               "errors", "links_in", "links_out", "async_from", "async_to")


class TraceRow:
    __slots__ = ("summary", "trace_id", "root_service", "root_operation", "start_ns",
                 "duration_ns", "spans", "errors", "links_in", "links_out", "async_from",
                 "async_to")

    def __init__(self, index: SpanIndex, s: TraceSummary, async_from: int = 0,
                 async_to: int = 0) -> None:
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
        # By the flow of work, in traces (not links): a batch consumer linking to five
        # producers continued the work of 5 traces; each producer's work went on in 1.
        self.async_from = async_from
        self.async_to = async_to

    def as_json(self) -> dict[str, Any]:
        # Spelled out (not a loop over JSON_FIELDS): --list --json makes one per trace.
        return {
            "trace_id": self.trace_id, "root_service": self.root_service,
            "root_operation": self.root_operation, "start_ns": self.start_ns,
            "duration_ns": self.duration_ns, "spans": self.spans, "errors": self.errors,
            "links_in": self.links_in, "links_out": self.links_out,
            "async_from": self.async_from, "async_to": self.async_to,
        }


def async_trace_counts(index: SpanIndex) -> tuple[dict[int, int], dict[int, int]]:
    """Per trace (its index), the other traces on each side of its async hand-offs:
    `async from`, the traces whose work it continued (its spans link to theirs; a trace that
    is not loaded counts too: the view shows it as a missing node), and `async to`, the loaded
    traces that continued its work (their spans link to its). Links inside one trace are
    not hand-offs between traces. One pass over the spans that carry links."""
    trace, trace_ids, trace_index = index.trace, index.trace_ids, index.trace_index
    came_from: dict[int, set[bytes]] = {}
    went_to: dict[int, set[int]] = {}
    for row, links in index.links_out.items():
        t = trace[row]
        own = trace_ids[t]
        for tid, _ in links:
            if tid == own:
                continue
            came_from.setdefault(t, set()).add(tid)
            u = trace_index.get(tid)
            if u is not None:
                went_to.setdefault(u, set()).add(t)
    return ({t: len(s) for t, s in came_from.items()}, {t: len(s) for t, s in went_to.items()})


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
    came_from, went_to = async_trace_counts(index)
    with paused_gc():  # 200,000 new objects: the collector's passes cost half as much again
        rows = [TraceRow(index, s, came_from.get(s.index, 0), went_to.get(s.index, 0))
                for s in index.traces if s.spans]
    rows.sort(key=SORT_KEYS[sort], reverse=reverse)
    return rows
