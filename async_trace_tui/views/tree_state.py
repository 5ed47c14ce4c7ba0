"""Carry a tree's state (expanded nodes, the cursor) from one DependencyView to a rebuilt one.

When the user changes the grouping, the aggregation or the internal-span toggle, the view is
rebuilt and its nodes are new objects, possibly merged or split differently. A node of the old
view is found again in the new one by its spans: walking down from the root, each old node
becomes the new child holding its first span (for the cursor) or each new child holding one of
its spans (for the open nodes: a merged node opened stays open when split apart); a span hidden in the new view (an internal span)
folds into its nearest visible ancestor; a span that became visible again (internal spans
shown) is reached through the spans now shown between it and its old parent. A node hidden
behind a `+N more` node is reached by expanding that node. Textual-free.
"""

from __future__ import annotations

from typing import Any

from .dependencies import (
    ASYNC_UP,
    CYCLE,
    MISSING,
    MORE,
    SPAN,
    SYNC,
    SYNC_UP,
    DependencyView,
    DepNode,
)

EXACT, FOLDED, STUCK = "exact", "folded", "stuck"
_MAX_CHAIN = 10_000
CLOSED_CAP = 20_000


class NodeMapper:
    """Maps nodes of an old view (same focus trace) onto `view`, memoised."""

    def __init__(self, view: DependencyView) -> None:
        self.view = view
        # id(old node) -> (old node, new path from the root, state): by the first span
        self._memo: dict[int, tuple[DepNode, list[DepNode], str]] = {}
        # id(old node) -> (old node, [(path, state)]): by every span (capped)
        self._memo_all: dict[int, tuple[DepNode, list[tuple[list[DepNode], str]]]] = {}
        self._key_of = view.key_of
        # id(parent) -> (parent, children by group key, small children by span row)
        self._by_parent: dict[int, tuple[DepNode, dict[Any, list[DepNode]],
                                         dict[int, list[DepNode]]]] = {}
        self._row_sets: dict[int, frozenset[int]] = {}  # id(new node) -> its rows

    def map(self, old: DepNode) -> tuple[list[DepNode], str]:
        """The path (root first) to the node standing for `old` (by its first span), and how
        it was matched: EXACT (the path ends at its counterpart), FOLDED (its span is hidden
        now: the path ends at its nearest visible ancestor) or STUCK (only an ancestor could
        be found)."""
        chain = self._unmapped(old, self._memo)
        if chain and chain[-1].parent_node is None:
            root = chain.pop()
            self._memo[id(root)] = (root, [self.view.root], EXACT)
        for step in reversed(chain):
            _, path, state = self._memo[id(step.parent_node)]
            if state != STUCK:
                row = step.rows[0] if step.rows else -1
                found = self._step(path[-1], step, row)
                if found is None:
                    state = STUCK
                elif not found:
                    state = FOLDED
                else:
                    path = path + found
                    state = EXACT
            self._memo[id(step)] = (step, path, state)
        return self._memo[id(old)][1], self._memo[id(old)][2]

    def map_all(self, old: DepNode, rows_cap: int = 64) -> list[tuple[list[DepNode], str]]:
        """Like `map`, for each of the old node's spans (up to `rows_cap`): a node merging
        spans that the new view shows apart maps to all of them."""
        chain = self._unmapped(old, self._memo_all)
        if chain and chain[-1].parent_node is None:
            root = chain.pop()
            self._memo_all[id(root)] = (root, [([self.view.root], EXACT)])
        for step in reversed(chain):
            out: list[tuple[list[DepNode], str]] = []
            seen: set[int] = set()
            for path, state in self._memo_all[id(step.parent_node)][1]:
                if state != STUCK:
                    cur = path[-1]
                    hits = []
                    folded = False
                    for k, row in enumerate(step.rows[:rows_cap] or [-1]):
                        # Only the first span may open a `+N more` node: a merged node
                        # split apart shows its spans as the cap allows, not all of them.
                        found = self._step(cur, step, row, more=k == 0)
                        if found:
                            hits.append(found)
                        elif found is not None:
                            folded = True
                    for found in hits:
                        if id(found[-1]) not in seen:
                            seen.add(id(found[-1]))
                            out.append((path + found, EXACT))
                    if hits:
                        continue
                    state = FOLDED if folded else STUCK
                if id(path[-1]) not in seen:
                    seen.add(id(path[-1]))
                    out.append((path, state))
            self._memo_all[id(step)] = (step, out)
        return self._memo_all[id(old)][1]

    @staticmethod
    def _unmapped(old: DepNode, memo: dict[int, object]) -> list[DepNode]:
        """`old` and its ancestors up to the first one already mapped (or the root)."""
        chain: list[DepNode] = []
        node: DepNode | None = old
        while node is not None and id(node) not in memo:
            chain.append(node)
            node = node.parent_node
        return chain

    # -- one step down ---------------------------------------------------------------------

    def _step(self, cur: DepNode, old: DepNode, row: int,
              more: bool = True) -> list[DepNode] | None:
        """New nodes from `cur` down to the counterpart of `old` (a child of cur's
        counterpart) holding `row`; [] when that span is folded into cur (hidden now);
        None when not found."""
        kids = cur.children()
        if old.kind == MORE:
            hit = next((k for k in kids if k.kind == MORE and k.edge == old.edge), None)
            return None if hit is None else [hit]
        if old.kind == MISSING:
            hit = self._find_missing(cur, old)
            return None if hit is None else [hit]
        if row < 0:
            return None
        hit = self._child_with(cur, row, old.edge, more)
        if hit is not None:
            return [hit]
        view = self.view
        if view.visible(row) != row and view.visible(row) in cur.rows:
            return []
        return self._through(cur, row, old.edge, more)

    def _through(self, cur: DepNode, row: int, edge: str,
                 more: bool = True) -> list[DepNode] | None:
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
        last = self._child_with(node, row, edge, more)
        if last is None:
            return None
        out.append(last)
        return out

    def _child_with(self, cur: DepNode, row: int, edge: str | None,
                    more: bool = True) -> DepNode | None:
        """The child of `cur` holding span `row` (preferably over `edge`)."""
        by_key, by_row = self._tables(cur)
        # A child's key ends with its group key: a merged child of 100,000 spans is found
        # without a table of its rows.
        hits = [k for k in by_key.get(self._key_of(row), ()) if self._holds(k, row)]
        if not hits:
            hits = by_row.get(row, [])
        if hits:
            return next((k for k in hits if k.edge == edge), hits[0])
        if not more:
            return None
        # Behind a `+N more` node?
        for m in [k for k in cur.children() if k.kind == MORE]:
            if m.hides_row(row):
                self._expand(cur, m)
                return self._child_with(cur, row, edge)
        return None

    def _holds(self, node: DepNode, row: int) -> bool:
        """Whether `node` merges span `row`: a set for a node of many spans, looked up once
        per span of a merged node (a list scan each time would be quadratic)."""
        if len(node.rows) <= 64:
            return row in node.rows
        rows = self._row_sets.get(id(node))
        if rows is None:
            rows = self._row_sets[id(node)] = frozenset(node.rows)
        return row in rows

    def _tables(self, cur: DepNode) -> tuple[dict[Any, list[DepNode]], dict[int, list[DepNode]]]:
        got = self._by_parent.get(id(cur))
        if got is None:
            by_key: dict[Any, list[DepNode]] = {}
            by_row: dict[int, list[DepNode]] = {}
            for k in cur.children():
                if k.kind not in (SPAN, CYCLE):
                    continue
                key = k.group_key
                try:
                    by_key.setdefault(key, []).append(k)
                except TypeError:  # an unhashable key: find it by its rows instead
                    pass
                if len(k.rows) <= 64:  # small nodes by row too, should keys ever differ
                    for r in k.rows:
                        by_row.setdefault(r, []).append(k)
            got = self._by_parent[id(cur)] = (cur, by_key, by_row)
        return got[1], got[2]

    def _expand(self, cur: DepNode, more: DepNode) -> None:
        self.view.expand_more(more)
        self._by_parent.pop(id(cur), None)

    def _find_missing(self, cur: DepNode, old: DepNode) -> DepNode | None:
        def same(k: DepNode) -> bool:
            return k.kind == MISSING and k.missing == old.missing and k.edge == old.edge

        hit = next((k for k in cur.children() if same(k)), None)
        if hit is not None:
            return hit
        for more in [k for k in cur.children() if k.kind == MORE and k.edge == old.edge]:
            if more.hides_missing(old.missing):
                self._expand(cur, more)
                return next((k for k in cur.children() if same(k)), None)
        return None


def carry_over(new_view: DependencyView, shown: list[tuple[DepNode, bool]],
               cursor: DepNode | None) -> tuple[set[int], list[DepNode]]:
    """The nodes of `new_view` to open (by id) and the path to the new cursor node, from the
    old view's visible rows, (node, open), top to bottom, and its cursor node.

    What was visible stays visible: the new counterparts of every shown node get their
    ancestors opened (spans shown again between them included), and the counterparts of the
    open ones are opened."""
    mapper = NodeMapper(new_view)
    opened: set[int] = set()
    # Past CLOSED_CAP rows, closed nodes are not looked up (their parents still are): a
    # rebuild stays quick when a node with 100,000 children is open.
    closed_ok = len(shown) <= CLOSED_CAP
    resurfacing = bool(shown) and new_view.options.show_internal \
        and not shown[0][0].view.options.show_internal
    for old, was_open in shown:
        if not (was_open or (closed_ok and _may_lie_deeper(old, resurfacing))):
            continue
        # An open node: each of its counterparts; a closed one: the one of its first span.
        for path, state in mapper.map_all(old) if was_open else [mapper.map(old)]:
            # EXACT: its counterpart; FOLDED/STUCK: the nearest ancestor found (open already).
            last = len(path) if (was_open or state != EXACT) else len(path) - 1
            for n in path[:last]:
                opened.add(id(n))
    cursor_path = [new_view.root]
    if cursor is not None:
        cursor_path, _ = mapper.map(cursor)
    for n in cursor_path[:-1]:
        opened.add(id(n))
    return opened, cursor_path


def _may_lie_deeper(old: DepNode, resurfacing: bool) -> bool:
    """Whether the counterpart of a closed node shown under an open one may lie deeper than a
    child of its parent's counterparts (which the parent's own lookup opens): an async call
    may hide behind a `+N more` node now; a sync call only when internal spans come back
    between it and its parent's span. Thousands of sync children cost no lookups."""
    if old.edge not in (SYNC, SYNC_UP) or not old.rows:
        return True
    if not resurfacing:
        return False
    parent = old.view.index.parent
    row, via = old.rows[0], old.vias[0]
    return parent[via] != row if old.edge == SYNC_UP else parent[row] != via
