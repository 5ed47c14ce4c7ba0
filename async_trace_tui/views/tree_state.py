"""Carry a tree's state (expanded nodes, the cursor) from one DependencyView to a rebuilt one.

When the user changes the grouping, the aggregation or the internal-span toggle, the view is
rebuilt and its nodes are new objects, possibly merged or split differently. A node of the old
view is found again in the new one by its spans: walking down from the root, each old node
becomes the new child holding its first span; a span hidden in the new view (an internal span)
folds into its nearest visible ancestor; a span that became visible again (internal spans
shown) is reached through the spans now shown between it and its old parent. A node hidden
behind a `+N more` node is reached by expanding that node. Textual-free.
"""

from __future__ import annotations

from .dependencies import ASYNC_UP, CYCLE, MISSING, MORE, SPAN, SYNC_UP, DependencyView, DepNode

EXACT, FOLDED, STUCK = "exact", "folded", "stuck"
_MAX_CHAIN = 10_000


class NodeMapper:
    """Maps nodes of an old view (same focus trace) onto `view`, memoised."""

    def __init__(self, view: DependencyView) -> None:
        self.view = view
        # id(old node) -> (old node, new path from the root, state)
        self._memo: dict[int, tuple[DepNode, list[DepNode], str]] = {}
        self._by_row: dict[int, dict[int, list[DepNode]]] = {}

    def map(self, old: DepNode) -> tuple[list[DepNode], str]:
        """The path (root first) to the node standing for `old`, and how it was matched:
        EXACT (the path ends at its counterpart), FOLDED (its span is hidden now: the path
        ends at its nearest visible ancestor) or STUCK (only an ancestor could be found)."""
        chain: list[DepNode] = []
        node: DepNode | None = old
        while node is not None and id(node) not in self._memo:
            chain.append(node)
            node = node.parent_node
        if node is None:
            # `chain[-1]` is the old root: it stands for the new root.
            root = chain.pop()
            self._memo[id(root)] = (root, [self.view.root], EXACT)
            node = root
        path, state = self._memo[id(node)][1:]
        for step in reversed(chain):
            if state == STUCK:
                self._memo[id(step)] = (step, path, STUCK)
                continue
            found = self._step(path[-1], step)
            if found is None:
                state = STUCK
            elif not found:
                state = FOLDED
            else:
                path = path + found
                state = EXACT
            self._memo[id(step)] = (step, path, state)
        return self._memo[id(old)][1], self._memo[id(old)][2]

    # -- one step down ---------------------------------------------------------------------

    def _step(self, cur: DepNode, old: DepNode) -> list[DepNode] | None:
        """New nodes from `cur` down to the counterpart of `old` (a child of cur's
        counterpart); [] when old's span is folded into cur; None when not found."""
        kids = cur.children()
        if old.kind == MORE:
            hit = next((k for k in kids if k.kind == MORE and k.edge == old.edge), None)
            return None if hit is None else [hit]
        if old.kind == MISSING:
            hit = self._find(cur, lambda k: k.kind == MISSING and k.missing == old.missing
                             and k.edge == old.edge)
            return None if hit is None else [hit]
        if not old.rows:
            return None
        row = old.rows[0]
        hit = self._child_with(cur, row, old.edge)
        if hit is not None:
            return [hit]
        view = self.view
        if view.visible(row) != row and view.visible(row) in cur.rows:
            return []
        return self._through(cur, row, old.edge)

    def _through(self, cur: DepNode, row: int, edge: str) -> list[DepNode] | None:
        """Spans shown again between cur and `row` (internal spans turned back on)."""
        idx = self.view.index
        parent = idx.parent
        chain: list[int] = []
        if edge in (SYNC_UP, ASYNC_UP):
            # Walking up: row is an ancestor of one of cur's spans.
            if not cur.rows:
                return None
            p = parent[cur.rows[0]]
            while p >= 0 and p != row and len(chain) < _MAX_CHAIN:
                chain.append(p)
                p = parent[p]
            if p != row:
                return None
        else:
            rows = set(cur.rows)
            p = parent[row]
            while p >= 0 and p not in rows and len(chain) < _MAX_CHAIN:
                chain.append(p)
                p = parent[p]
            if p < 0 or p not in rows:
                return None
            chain.reverse()
        if not chain:
            return None
        out: list[DepNode] = []
        node = cur
        for q in chain:
            nxt = self._child_with(node, q, None)
            if nxt is None:
                return None
            out.append(nxt)
            node = nxt
        last = self._child_with(node, row, edge)
        if last is None:
            return None
        out.append(last)
        return out

    def _child_with(self, cur: DepNode, row: int, edge: str | None) -> DepNode | None:
        table = self._by_row.get(id(cur))
        if table is None:
            table = {}
            for k in cur.children():
                if k.kind in (SPAN, CYCLE):
                    for r in k.rows:
                        table.setdefault(r, []).append(k)
            self._by_row[id(cur)] = table
        hits = table.get(row)
        if hits:
            return next((k for k in hits if k.edge == edge), hits[0])
        # Behind a `+N more` node?
        for more in [k for k in cur.children() if k.kind == MORE]:
            for k in more._rest:
                if k.kind in (SPAN, CYCLE) and row in k.rows:
                    self.view.expand_more(more)
                    del self._by_row[id(cur)]
                    return k
        return None

    def _find(self, cur: DepNode, test) -> DepNode | None:  # type: ignore[no-untyped-def]
        for k in cur.children():
            if test(k):
                return k
        for more in [k for k in cur.children() if k.kind == MORE]:
            for k in more._rest:
                if test(k):
                    self.view.expand_more(more)
                    self._by_row.pop(id(cur), None)
                    return k
        return None


def carry_over(new_view: DependencyView, expanded: list[DepNode],
               cursor: DepNode | None) -> tuple[set[int], list[DepNode]]:
    """The nodes of `new_view` to expand (by id) and the path to the new cursor node, from
    the old view's *visible* expanded nodes and cursor."""
    mapper = NodeMapper(new_view)
    opened: set[int] = set()
    for old in expanded:
        path, _state = mapper.map(old)
        # EXACT: its counterpart; FOLDED/STUCK: the nearest ancestor found (open already).
        for n in path:
            opened.add(id(n))
    cursor_path = [new_view.root]
    if cursor is not None:
        cursor_path, _ = mapper.map(cursor)
    for n in cursor_path[:-1]:
        opened.add(id(n))
    return opened, cursor_path
