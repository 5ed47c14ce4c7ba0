"""Finding rows in the dependencies tree: `/` search, `e` errors (what Jaeger, k9s and lazygit
users reach for). Textual-free: the tree widget asks, row by row, whether a node matches, and
for a closed node, where below it (in its trace's own spans, not yet made into nodes) the next
match lies and which nodes lead there.

A closed node is searched through the index, not by making its subtree's nodes: a trace of
100,000 spans has 100,000 nodes to make (most of a second), but its names and services are
columns of the index. Async branches are not followed below a closed node: links may lead
anywhere (and back); the rows on show are searched whatever they are.
"""

from __future__ import annotations

from collections.abc import Callable

from .dependencies import CYCLE, MISSING, SPAN, TRACE, DependencyView, DepNode

RowTest = Callable[[int], bool]


class Finder:
    """What to find (text, or errors) in the nodes and spans of one view."""

    def __init__(self, view: DependencyView, query: str = "", errors: bool = False) -> None:
        self.view = view
        self.query = query.strip().lower()
        self.errors = errors
        self._names: dict[tuple[str, str], bool] = {}  # (service, operation) -> matches

    @property
    def active(self) -> bool:
        return self.errors or bool(self.query)

    def _text_matches(self, service: str, operation: str) -> bool:
        key = (service, operation)
        hit = self._names.get(key)
        if hit is None:
            q = self.query
            hit = self._names[key] = q in service.lower() or q in operation.lower()
        return hit

    def row_matches(self, row: int) -> bool:
        idx = self.view.index
        if self.errors:
            return idx.is_error(row)
        if self._text_matches(idx.service(row), idx.name[row]):
            return True
        return idx.span_id[row].hex().startswith(self.query)

    def node_matches(self, node: DepNode) -> bool:
        """Whether the row of `node` is a match (a merged node: any of its spans)."""
        kind = node.kind
        if self.errors:
            return kind in (SPAN, CYCLE) and node.errors > 0
        if kind == MISSING:
            return any(h.startswith(self.query) for h in (*node.span_ids, *node.trace_ids))
        if kind not in (SPAN, CYCLE, TRACE) or not node.rows:
            return False
        if kind == TRACE and node.trace_ids[0].startswith(self.query):
            return True
        if len(node.rows) == 1:
            return self.row_matches(node.rows[0])
        group = node.group_label or ""
        return (self._text_matches(node.service, node.operation) or self.query in group.lower()
                or any(self.row_matches(r) for r in node.rows[:1000]))

    def below(self, node: DepNode, last: bool = False) -> list[DepNode] | None:
        """For a closed node: the nodes leading from it (itself excluded) to the first (or
        `last`) matching span of its trace below it, in the tree's order; None if none."""
        if node.kind not in (SPAN, TRACE) or node.upstream:
            return None
        view = self.view
        idx = view.index
        children = idx.children
        hidden = view.is_hidden
        found = -1
        # Depth first, children by start, as the tree lists a span's sync calls; a hidden
        # internal span is not a row, its children are.
        stack = [c for r in reversed(node.rows) for c in reversed(children(r))] \
            if node.kind == SPAN else list(reversed(node.rows))
        while stack:
            row = stack.pop()
            if not hidden(row) and self.row_matches(row):
                found = row
                if not last:
                    break
            stack.extend(reversed(children(row)))
        if found < 0:
            return None
        return view.path_below(node, found)
