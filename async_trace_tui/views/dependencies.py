"""The dependencies view model (SPEC §3): sync calls and async hand-offs as one lazy tree.

From a focus span, the tree starts at its trace's root span(s). A *downstream* node lists its
sync children, the spans that link to it (async-down, ⇢) and the spans it links to other than
the one the view arrived from (async-up, ⇠). An *upstream* node (reached by ⇠ or by walking up
to a caller) lists what led to it: its parent and the spans it links to. Siblings merge by the
group key; async children are capped per direction with one `+N more` node; a span already on
the path is a `cycle` leaf; a link to a span that is not loaded is a `missing` node.

Children are computed only when asked for, so the first screenful costs the same whatever the
trace's size. Shared by the TUI and the headless renderers, so the two never disagree.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from itertools import islice
from typing import Any

from ..index import SpanIndex
from ..model import KIND_CONSUMER, KIND_PRODUCER, SHAPE_GENERIC, SHAPE_PUBSUB
from ..words import counted
from .grouping import aggregate, group_key_fn, group_value, parse_group_by

# Node kinds and edges, as named in the JSON output.
TRACE, SPAN, MISSING, MORE, CYCLE = "trace", "span", "missing", "more", "cycle"
ROOT, SYNC, ASYNC_DOWN, ASYNC_UP, SYNC_UP = "root", "sync", "async-down", "async-up", "sync-up"
ASYNC_EDGES = (ASYNC_DOWN, ASYNC_UP)
_UPSTREAM = (ASYNC_UP, SYNC_UP)
_EDGE_ORDER = {SYNC: 0, SYNC_UP: 1, ASYNC_DOWN: 2, ASYNC_UP: 3}
_NEVER = 1 << 64
_PUBSUB_KINDS = (KIND_PRODUCER, KIND_CONSUMER)


class ViewOptions:
    __slots__ = ("group_by", "agg", "show_internal", "async_cap", "depth")

    def __init__(self, group_by: str = "operation", agg: str = "avg", show_internal: bool = True,
                 async_cap: int = 3, depth: int | None = None) -> None:
        parse_group_by(group_by)  # raises GroupSpecError on a bad spec
        aggregate([0], agg)  # likewise for the aggregation
        self.group_by = group_by
        self.agg = agg
        self.show_internal = show_internal
        self.async_cap = async_cap
        self.depth = depth  # async hops followed; None: no limit (the TUI expands lazily)

    def replace(self, **changes: Any) -> ViewOptions:
        values = {k: getattr(self, k) for k in self.__slots__}
        values.update(changes)
        return ViewOptions(**values)


# A candidate child span before grouping: (edge, row, via, lag, missing ids, (cause, effect)).
# `row` is -1 for a missing span; `via` is the span of the parent node it was reached from;
# the lag runs from the cause's end to the effect's start (None, None for a sync call);
# plain tuples, because a node with 10,000 links makes 10,000 of them.
_Cand = tuple


class DepNode:
    """One row of the dependencies tree: a span, or spans merged by the group key."""

    __slots__ = ("view", "kind", "edge", "rows", "vias", "lags", "pairs", "parent_node", "hops",
                 "missing", "hidden", "_children", "_has_children", "_rest", "_key", "_shape")

    def __init__(self, view: DependencyView, kind: str, edge: str, rows: list[int],
                 vias: list[int], lags: list[int], parent_node: DepNode | None, hops: int,
                 missing: tuple[bytes, bytes] | None = None, key: Any = None,
                 pairs: Sequence[tuple[int, int]] = ()) -> None:
        self.view = view
        self.kind = kind
        self.edge = edge
        self.rows = rows
        self.vias = vias
        self.lags = lags
        # (cause, effect) spans of each lag, in the same order: the spans the lag is
        # measured between (a hidden internal span may stand behind a row shown).
        self.pairs = pairs
        self.parent_node = parent_node
        self.hops = hops  # async edges between the view's root and this node
        self.missing = missing
        self.hidden = 0  # for a `more` node: the async calls it stands for
        self._children: list[DepNode] | None = None
        self._has_children: bool | None = None
        # The calls a `more` node stands for, ungrouped (one shared empty tuple for the others:
        # a view of 10,000 nodes is that many fewer objects for the garbage collector).
        self._rest: Sequence[_Cand] = ()
        self._key = key
        self._shape: str | None = None

    # -- what renderers show -------------------------------------------------------------

    @property
    def count(self) -> int:
        if self.kind == MORE:
            return self.hidden
        return len(self.vias) if self.kind == MISSING else len(self.rows)

    @property
    def upstream(self) -> bool:
        return self.edge in _UPSTREAM

    @property
    def is_async_edge(self) -> bool:
        return self.edge in ASYNC_EDGES

    @property
    def service(self) -> str:
        if self.kind == MORE or self.kind == MISSING:
            return ""
        return _one_or_count(self.view.index.service(r) for r in self.rows) or ""

    @property
    def operation(self) -> str:
        if self.kind == MORE:
            if self.cut:
                return f"+{counted(self.hidden, 'async call')} past --depth {self.view.options.depth}"
            return f"+{counted(self.hidden, 'more async call')}"
        if self.kind == MISSING:
            return "(span not loaded)"
        return _one_or_count((self.view.index.name[r] for r in self.rows), "operations") or ""

    @property
    def cut(self) -> bool:
        """A `more` node marking async calls that headless output's --depth did not follow."""
        depth = self.view.options.depth
        return (self.kind == MORE and depth is not None and self.parent_node is not None
                and self.parent_node.hops >= depth)

    @property
    def group_label(self) -> str | None:
        """`key=value` for attr:/resource: grouping, shown beside the operation."""
        if self.kind not in (SPAN, CYCLE) or not self.rows:
            return None
        return group_value(self.view.index, self.view.options.group_by, self.rows[0])

    @property
    def shape(self) -> str | None:
        """The shape its spans share, or generic when they differ (SPEC §3)."""
        if self.kind not in (SPAN, CYCLE) or not self.rows:
            return None
        if self._shape is None:
            idx = self.view.index
            rows = self.rows
            first = idx.shape(rows[0])
            kind = idx.kind
            if first == SHAPE_PUBSUB and all(kind[r] in _PUBSUB_KINDS for r in rows):
                self._shape = first  # by kind alone: no attributes to read
            else:
                shape = idx.shape
                self._shape = first if all(shape(r) == first for r in rows) else SHAPE_GENERIC
        return self._shape

    def in_other_traces(self) -> tuple[int, int]:
        """(spans reached from a span of another trace, spans) of this node: how many of
        its spans cross a link into another trace than their parent node's span."""
        if self.kind in (TRACE, MORE) or self.parent_node is None:
            return 0, self.count
        idx = self.view.index
        trace = idx.trace
        vias = self.vias
        if self.kind == MISSING:
            tid = self.missing[0] if self.missing else b""
            return sum(1 for v in vias if v >= 0 and idx.trace_ids[trace[v]] != tid), len(vias)
        rows = self.rows
        return sum(1 for r, v in zip(rows, vias) if v >= 0 and trace[r] != trace[v]), len(rows)

    @property
    def async_trace(self) -> bool:
        """Every span it stands for lives in another trace than its parent node's span
        (reached across a link): drawn with double lines."""
        other, total = self.in_other_traces()
        return total > 0 and other == total

    @property
    def duration_ns(self) -> int:
        idx = self.view.index
        if self.kind == TRACE:
            s = idx.traces[idx.trace[self.rows[0]]]
            return s.duration
        if self.kind in (MORE, MISSING):
            return 0
        value = aggregate([idx.end[r] - idx.start[r] for r in self.rows], self.view.options.agg)
        return value or 0

    @property
    def start_ns(self) -> int:
        start = self.view.index.start
        return min((start[r] for r in self.rows), default=_NEVER)

    @property
    def errors(self) -> int:
        idx = self.view.index
        if self.kind == TRACE:
            return idx.traces[idx.trace[self.rows[0]]].errors
        return sum(1 for r in self.rows if idx.is_error(r))

    @property
    def lag_ns(self) -> int | None:
        if not self.is_async_edge or self.kind == MORE:
            return None
        return aggregate(self.lags, self.view.options.agg)

    @property
    def trace_ids(self) -> list[str]:
        if self.kind == MISSING and self.missing:
            return [self.missing[0].hex()]
        idx = self.view.index
        seen: dict[int, None] = {}
        for r in self.rows:
            seen.setdefault(idx.trace[r])
        return [idx.trace_ids[t].hex() for t in seen]

    @property
    def span_ids(self) -> list[str]:
        if self.kind == MISSING and self.missing:
            return [self.missing[1].hex()]
        if self.kind == MORE:
            return []
        return [self.view.index.span_id[r].hex() for r in self.rows]

    @property
    def is_focus(self) -> bool:
        return self.kind == SPAN and self.view.focus in self.rows

    @property
    def key(self) -> Any:
        """Identifies the node among its siblings, stable across rebuilds of the view."""
        return self._key

    @property
    def group_key(self) -> Any:
        """The group-by value this node's spans share (a span, cycle or missing node)."""
        return self._key[-1] if isinstance(self._key, tuple) and self._key else None

    def hides_row(self, row: int) -> bool:
        """For a `+N more` node: whether that span is among the calls it stands for."""
        return any(c[1] == row for c in self._rest)

    def hides_missing(self, missing: tuple[bytes, bytes] | None) -> bool:
        """For a `+N more` node: whether that missing span is among its calls."""
        return any(c[1] < 0 and c[4] == missing for c in self._rest)

    def ancestors(self) -> Iterator[DepNode]:
        node = self.parent_node
        while node is not None:
            yield node
            node = node.parent_node

    # -- children ------------------------------------------------------------------------

    def children(self) -> list[DepNode]:
        if self._children is None:
            self._children = self.view.make_children(self)
        return self._children

    def adopt_children(self, kids: list[DepNode]) -> list[DepNode]:
        """Take `kids` (from `view.make_children`, maybe made in a thread) as the children,
        unless they are known by now; returns the children."""
        if self._children is None:
            self._children = kids
        return self._children

    @property
    def expandable(self) -> bool:
        if self.kind == MORE:
            return True
        if self._children is not None:
            return bool(self._children)
        if self._has_children is None:
            # Asked for every row on screen: grouping a producer's 10,000 consumers only
            # to draw its expand marker would cost more than drawing the screen.
            self._has_children = self.view.count_candidates(self, 1) > 0
        return self._has_children

    @property
    def children_known(self) -> bool:
        return self._children is not None


def _same(row: int) -> int:
    return row


def _one_or_count(values: Iterator[str], what: str = "services") -> str:
    first: str | None = None
    others: set[str] = set()
    for v in values:
        if first is None:
            first = v
        elif v != first:
            others.add(v)
    if first is None:
        return ""
    return first if not others else f"{len(others) + 1} {what}"


class DependencyView:
    """The tree for one focus span under one set of options."""

    def __init__(self, index: SpanIndex, focus: int, options: ViewOptions | None = None) -> None:
        self.index = index
        self.focus = focus
        self.options = options or ViewOptions()
        # The group key of a span (memoised for attr: keys, which decode the span).
        self.key_of: Callable[[int], Any] = group_key_fn(index, self.options.group_by)
        trace = index.trace[focus]
        roots = index.roots(trace)
        self.root = DepNode(self, TRACE, ROOT, roots, [-1] * len(roots), [], None, 0,
                            key=("trace", index.trace_ids[trace]))

    def dispose(self) -> None:
        """Let go of the nodes made so far, once the view is off screen. Nodes and their
        parents refer to each other: left alone, thousands of them wait for a full garbage
        collection, which is long with a big index loaded. A node still held elsewhere keeps
        working (its children are made again if asked for)."""
        stack = [self.root]
        while stack:
            node = stack.pop()
            if node._children:
                stack.extend(node._children)
            node._children = None

    # -- visibility of internal spans ---------------------------------------------------

    def _hidden(self, row: int) -> bool:
        idx = self.index
        return (not self.options.show_internal and idx.is_internal(row)
                and idx.parent[row] >= 0 and row != self.focus)

    def is_hidden(self, row: int) -> bool:
        """Whether a span is hidden in this view (an internal span, internal spans off)."""
        return self._hidden(row)

    def visible(self, row: int) -> int:
        """The row itself, or its nearest visible ancestor when it is a hidden internal span."""
        parent = self.index.parent
        while self._hidden(row):
            row = parent[row]
        return row

    def _relations(self, row: int) -> tuple[list[int], list[tuple[int, int]], list[tuple[Any, ...]]]:
        """Sync children, (linking span, linked span) pairs in, (trace id, span id, target,
        linking span) out; hidden internal descendants are folded into the row."""
        idx = self.index
        if self.options.show_internal:
            lin = idx.links_in.get(row)
            lout = idx.links_out.get(row)
            return (idx.children(row), [(src, row) for src in lin] if lin else [],
                    [(t, s, target, row) for t, s, target in idx.links_of(row)] if lout else [])
        kids: list[int] = []
        lin: list[tuple[int, int]] = []
        lout: list[tuple[Any, ...]] = []
        stack = [row]
        while stack:
            x = stack.pop()
            lin.extend((src, x) for src in idx.linked_from(x))
            lout.extend((t, s, target, x) for t, s, target in idx.links_of(x))
            for c in idx.children(x):
                if self._hidden(c):
                    stack.append(c)
                else:
                    kids.append(c)
        kids.sort(key=idx.start.__getitem__)
        return kids, lin, lout

    # -- expansion -----------------------------------------------------------------------

    def make_children(self, node: DepNode) -> list[DepNode]:
        """The child nodes of `node` (`node.children()` keeps them); only reads the view, so
        a thread may make them."""
        if self._leaf(node):
            return []
        cands = list(self._candidates(node))
        return self._group(node, cands) if cands else []

    def _leaf(self, node: DepNode) -> bool:
        """Surely no children (most spans of a big trace: no children, no links either
        way), found without walking the candidates."""
        if node.kind != SPAN or node.upstream or not self.options.show_internal:
            return False
        idx = self.index
        lin, lout, children = idx.links_in, idx.links_out, idx.children
        return all(not children(r) and r not in lin and r not in lout for r in node.rows)

    def count_candidates(self, node: DepNode, limit: int) -> int:
        """How many spans (and missing ones) `node`'s children stand for, counted up to
        `limit`, without grouping them: is there any (a row's expand marker), are they many."""
        if self._leaf(node):
            return 0
        return sum(1 for _ in islice(self._candidates(node), limit))

    def _candidates(self, node: DepNode) -> Iterator[_Cand]:
        """The spans (and missing ones) `node` leads to, ungrouped, in no particular order."""
        if node.kind in (MORE, MISSING, CYCLE):
            return
        idx = self.index
        start, end, parent, kind = idx.start, idx.end, idx.parent, idx.kind
        visible = self.visible if not self.options.show_internal else _same
        if node.kind == TRACE:
            for r in node.rows:
                yield (SYNC, r, -1, None, None, None)
        elif not node.upstream:
            for r, via in zip(node.rows, node.vias, strict=True):
                kids, lin, lout = self._relations(r)
                for c in kids:
                    if kind[c] != KIND_CONSUMER:
                        yield (SYNC, c, r, None, None, None)
                    else:
                        yield (ASYNC_DOWN, c, r, start[c] - end[parent[c]], None, (parent[c], c))
                for effect, cause in lin:
                    yield (ASYNC_DOWN, visible(effect), r, start[effect] - end[cause], None,
                           (cause, effect))
                # The link the view arrived over is the way back, not a new call.
                came_over = via if node.edge == ASYNC_DOWN else -1
                for tid, sid, target, effect in lout:
                    if target is None:
                        yield (ASYNC_UP, -1, r, None, (tid, sid), None)
                    elif target == effect:
                        continue  # a self-link: one async edge, listed above as caused
                    elif (t := visible(target)) != came_over:
                        yield (ASYNC_UP, t, r, start[effect] - end[target], None, (target, effect))
        else:
            for r in node.rows:
                p = parent[r]
                while p >= 0 and self._hidden(p):
                    p = parent[p]
                consumer = kind[r] == KIND_CONSUMER
                edge = ASYNC_UP if consumer else SYNC_UP
                if p >= 0:
                    if consumer:
                        yield (edge, p, r, start[r] - end[p], None, (p, r))
                    else:
                        yield (edge, p, r, None, None, None)
                elif idx.parent_id[r]:
                    yield (edge, -1, r, None, (idx.trace_id_of(r), idx.parent_id[r]), None)
                for tid, sid, target, effect in self._relations(r)[2]:
                    if target is None:
                        yield (ASYNC_UP, -1, r, None, (tid, sid), None)
                    else:
                        yield (ASYNC_UP, visible(target), r, start[effect] - end[target], None,
                               (target, effect))

    def _group(self, node: DepNode, cands: list[_Cand]) -> list[DepNode]:
        """Merge candidates into child nodes: sync calls, then each async direction capped
        at the earliest `async_cap` groups plus one `+N more` node. Past headless output's
        --depth, each direction's async calls are one `more` node that says so (`cut`)."""
        key = self._keyer(node)
        out = self._make_groups(node, [c for c in cands if c[0] not in ASYNC_EDGES], key)
        cap = self.options.async_cap
        depth = self.options.depth
        for edge in ASYNC_EDGES:
            calls = [c for c in cands if c[0] == edge]
            if depth is not None and node.hops >= depth:
                if calls:  # not followed: no hop is crossed
                    out.append(self._more(node, edge, calls, node.hops))
                continue
            if not cap or len(calls) <= cap:
                out.extend(self._make_groups(node, calls, key))
                continue
            # Only the earliest `cap` groups are made now: walk the calls by start time and
            # keep what joins those groups; the rest waits, ungrouped, in the `more` node.
            calls.sort(key=self._when)
            keys: set[Any] = set()
            shown: list[_Cand] = []
            rest: list[_Cand] = []
            for c in calls:
                k = key(c)
                if k in keys:
                    shown.append(c)
                elif len(keys) < cap:
                    keys.add(k)
                    shown.append(c)
                else:
                    rest.append(c)
            out.extend(self._make_groups(node, shown, key))
            if rest:
                out.append(self._more(node, edge, rest, node.hops + 1))
        return out

    def _when(self, c: _Cand) -> tuple[int, bytes, bytes]:
        """A call's place in time: its span's start; spans that start together by span id,
        then trace id (a missing span last, by its ids), so that the order, and which calls
        the cap shows, never depend on the order the spans were loaded or fetched in."""
        row = c[1]
        if row < 0:
            return _NEVER, c[4][1], c[4][0]
        idx = self.index
        return idx.start[row], idx.span_id[row], idx.trace_id_of(row)

    def _more(self, node: DepNode, edge: str, rest: list[_Cand], hops: int) -> DepNode:
        more = DepNode(self, MORE, edge, [], [], [], node, hops, key=(edge, MORE))
        more.hidden = len(rest)
        more._rest = rest
        return more

    def _keyer(self, node: DepNode) -> Callable[[_Cand], Any]:
        key_of = self.key_of
        on_path: set[int] | None = None

        def key(c: _Cand) -> Any:
            nonlocal on_path
            edge, row = c[0], c[1]
            if edge == SYNC:
                return (SYNC, SPAN, key_of(row))
            if row < 0:
                return (edge, MISSING, c[4])
            # Sync calls form a tree; only a hop across a link (or up) can come back.
            if on_path is None:
                # The trace node folds every root of the trace: only the one on this path
                # (a row of its child below) is an ancestor, not the other roots.
                on_path = set(node.rows) if node.kind != TRACE else set()
                for a in node.ancestors():
                    if a.kind != TRACE:
                        on_path.update(a.rows)
            return (edge, CYCLE if row in on_path else SPAN, key_of(row))

        return key

    def _make_groups(self, node: DepNode, cands: list[_Cand],
                     key: Callable[[_Cand], Any]) -> list[DepNode]:
        groups: dict[Any, list[_Cand]] = {}
        for c in cands:
            k = key(c)
            g = groups.get(k)
            if g is None:
                groups[k] = [c]
            else:
                g.append(c)
        when = self._when

        def order(group: tuple[Any, list[_Cand]]) -> tuple[int, tuple[int, bytes, bytes]]:
            """By edge, then by the earliest span."""
            key, calls = group
            # (10,000 groups of one call each are common: the short way)
            first = when(calls[0]) if len(calls) == 1 else min(map(when, calls))
            return _EDGE_ORDER[key[0]], first

        return [self._node(node, k, g) for k, g in sorted(groups.items(), key=order)]

    def _node(self, parent: DepNode, key: Any, calls: list[_Cand]) -> DepNode:
        edge = key[0]
        hops = parent.hops + 1 if edge in ASYNC_EDGES else parent.hops
        _, row, via, lag, missing, pair = calls[0]
        if len(calls) == 1:
            return DepNode(self, key[1], edge, [row] if row >= 0 else [], [via],
                           [] if lag is None else [lag], parent, hops, missing, key,
                           () if pair is None else (pair,))
        rows: list[int] = []
        vias: list[int] = []
        lags: list[int] = []
        pairs: list[tuple[int, int]] = []
        seen: set[tuple[int, int]] = set()
        have: set[int] = set()
        # The merged spans in time order (ties by id), not in the order they were loaded.
        for _, row, via, lag, _, pair in sorted(calls, key=self._when):
            if row < 0:
                vias.append(via)
            elif row not in have:
                # A span reached from two spans of the parent node (the caller of two merged
                # producers) is still one span, counted and aggregated once.
                have.add(row)
                rows.append(row)
                vias.append(via)
            # Each hand-off keeps its own lag, the same one met twice (two links between the
            # same spans, a CONSUMER child that also links to its parent) once: which spans
            # were met first (load order) does not change the aggregate.
            if lag is not None and pair not in seen:
                seen.add(pair)
                lags.append(lag)
                pairs.append(pair)
        return DepNode(self, key[1], edge, rows, vias, lags, parent, hops, missing, key, pairs)

    def expand_more(self, more: DepNode) -> list[DepNode]:
        """Replace a `+N more` node by the nodes it stands for; returns them."""
        made = self.group_more(more)
        return made if made and self.replace_more(more, made) else []

    def group_more(self, more: DepNode) -> list[DepNode]:
        """The nodes a `+N more` node stands for, not yet in its place (`replace_more`): it
        only reads the view, so a thread may make them."""
        parent = more.parent_node
        if more.kind != MORE or parent is None:
            return []
        return self._make_groups(parent, more._rest, self._keyer(parent))

    def replace_more(self, more: DepNode, made: list[DepNode]) -> bool:
        """Put `made` (from `group_more`) in the place of `more` among its siblings."""
        parent = more.parent_node
        siblings = None if parent is None else parent._children
        if siblings is None or more not in siblings:
            return False
        at = siblings.index(more)
        siblings[at:at + 1] = made
        return True

    # -- opening the view ----------------------------------------------------------------

    def focus_path(self) -> list[DepNode]:
        """Nodes from the root to the one holding the focus span (expanding them)."""
        idx = self.index
        chain = [self.focus]
        row = self.focus
        while idx.parent[row] >= 0:
            row = idx.parent[row]
            if not self._hidden(row):
                chain.append(row)
        chain.reverse()
        path = [self.root]
        node = self.root
        for row in chain:
            nxt = next((c for c in node.children() if row in c.rows and c.kind == SPAN), None)
            if nxt is None:
                break
            path.append(nxt)
            node = nxt
        return path

    def path_below(self, node: DepNode, row: int) -> list[DepNode] | None:
        """The nodes from `node` (not included) down to one holding `row`, a span of its
        trace below it (through sync calls and consumed messages): made as needed, a `+N
        more` node on the way replaced by what it stands for. None when `row` is not there."""
        idx = self.index
        parent = idx.parent
        stop = set(node.rows) if node.kind != TRACE else set()
        chain: list[int] = []
        r = row
        while r >= 0 and r not in stop:
            if not self._hidden(r):
                chain.append(r)
            r = parent[r]
        if r < 0 and node.kind != TRACE:
            return None
        chain.reverse()
        path: list[DepNode] = []
        cur = node
        for q in chain:
            nxt = next((c for c in cur.children() if c.kind == SPAN and q in c.rows), None)
            if nxt is None:
                more = next((c for c in cur.children() if c.kind == MORE and c.hides_row(q)),
                            None)
                if more is None:
                    return None
                made = self.expand_more(more)
                nxt = next((c for c in made if c.kind == SPAN and q in c.rows), None)
                if nxt is None:
                    return None
            path.append(nxt)
            cur = nxt
        return path

    def initial_expansion(self, budget: int = 500) -> list[DepNode]:
        """Which nodes the TUI opens expanded: the focus trace's own spans, level by level,
        until about `budget` rows show, plus the path to the focus. Async branches show
        their first node, collapsed."""
        expanded: list[DepNode] = []
        shown = 1
        level = [self.root]
        while level and shown < budget:
            nxt: list[DepNode] = []
            for node in level:
                if shown >= budget:
                    break
                kids = node.children()
                expanded.append(node)
                shown += len(kids)
                nxt.extend(k for k in kids if k.edge == SYNC and k.kind == SPAN)
            level = nxt
        seen = {id(n) for n in expanded}
        for node in self.focus_path()[:-1]:
            if id(node) not in seen:
                expanded.append(node)
        return expanded


WARM_ROWS = 1000  # a merged node of this many spans works out its shape ahead (warm_shapes)


def warm_shapes(nodes: Iterable[DepNode]) -> None:
    """Work out the shape of the big merged nodes among `nodes` now (in the thread that made
    them): it reads every span's attribute keys, ~0.1 s for 100,000 spans, too long for the
    paint that first shows the row."""
    for node in nodes:
        if len(node.rows) >= WARM_ROWS:
            _ = node.shape


def walk(root: DepNode) -> Iterator[tuple[DepNode, int]]:
    """Every node (depth-first, children in order) with its depth; iterative, so a trace
    100,000 spans deep does not hit Python's recursion limit."""
    stack: list[tuple[DepNode, int]] = [(root, 0)]
    while stack:
        node, depth = stack.pop()
        yield node, depth
        kids = node.children()
        for child in reversed(kids):
            stack.append((child, depth + 1))
