"""The dependencies view as JSON (SPEC §5), written iteratively: a trace 100,000 spans deep
nests 100,000 objects, deeper than any recursive encoder goes."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from ..textsafe import safe_json_dumps
from .dependencies import DependencyView, DepNode


def node_fields(node: DepNode) -> dict[str, Any]:
    """Every field of a NODE except its children."""
    return {
        "kind": node.kind,
        "edge": node.edge,
        "service": node.service,
        "operation": node.operation,
        "shape": node.shape,
        "async_trace": node.async_trace,
        "count": node.count,
        "duration_ns": node.duration_ns,
        "errors": node.errors,
        "lag_ns": node.lag_ns,
        "trace_ids": node.trace_ids,
        "span_ids": node.span_ids,
        "hidden": node.hidden,
    }


def view_header(view: DependencyView) -> dict[str, Any]:
    idx = view.index
    o = view.options
    return {
        "focus": {"trace_id": idx.trace_id_of(view.focus).hex(), "span_id": idx.span_id[view.focus].hex()},
        "group_by": o.group_by,
        "agg": o.agg,
        "show_internal": o.show_internal,
        "async_cap": o.async_cap,
    }


def json_chunks(view: DependencyView, ensure_ascii: bool = False) -> Iterator[str]:
    """The view's JSON in pieces, every string escaped by `textsafe` (C0, DEL, C1, bidi
    controls and other invisibles as \\uXXXX); `ensure_ascii` for a stream that cannot
    write UTF-8."""
    head = safe_json_dumps(view_header(view), ensure_ascii=ensure_ascii)
    yield head[:-1] + ', "root": '
    # Each stack entry is a node to open, or a closing string to emit.
    stack: list[DepNode | str] = [view.root]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            yield item
            continue
        fields = safe_json_dumps(node_fields(item), ensure_ascii=ensure_ascii)
        kids = item.children()
        if not kids:
            yield fields[:-1] + ', "children": []}'
            continue
        yield fields[:-1] + ', "children": ['
        stack.append("]}")
        for i in range(len(kids) - 1, -1, -1):
            stack.append(kids[i])
            if i:
                stack.append(", ")
    yield "}\n"


def to_json(view: DependencyView) -> str:
    return "".join(json_chunks(view))
