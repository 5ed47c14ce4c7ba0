"""The rows on show in the dependencies tree: one flat list, spliced on expand and collapse.

Textual's `Tree` rebuilds every row on each expand (0.6–1.8 s at 100k nodes). Here expanding or
collapsing a node splices its subtree into (or out of) one flat list: the cost is the size of
what appears or disappears, whatever the size of the rest. The open nodes are remembered by id
(a node closed above them keeps them open for when it opens again), and the cursor stays on its
row through every splice. Textual-free: the tree widget draws these rows and asks for changes.
"""

from __future__ import annotations

from .dependencies import CYCLE, MISSING, MORE, DependencyView, DepNode
from .glyphs import Glyphs
from .tree_search import Finder


class Row:
    """One visible row: a node, its depth, the connector columns inherited from its
    ancestors (`prefix`), whether it is its parent's last child, and whether it is open."""

    __slots__ = ("node", "depth", "prefix", "last", "expanded")

    def __init__(self, node: DepNode, depth: int, prefix: str, last: bool) -> None:
        self.node = node
        self.depth = depth
        self.prefix = prefix
        self.last = last
        self.expanded = False


class TreeRows:
    """The visible rows of one view, top to bottom, the open nodes and the cursor's row."""

    def __init__(self, glyphs: Glyphs) -> None:
        self.glyphs = glyphs
        self.lines: list[Row] = []
        self.open: dict[int, DepNode] = {}  # id -> node: expanded (remembered when hidden)
        self.cursor = 0

    def __len__(self) -> int:
        return len(self.lines)

    def __getitem__(self, i: int) -> Row:
        return self.lines[i]

    def line_of(self, node: DepNode) -> int:
        for i, ln in enumerate(self.lines):
            if ln.node is node:
                return i
        return -1

    def clamp_cursor(self) -> None:
        self.cursor = max(0, min(self.cursor, len(self.lines) - 1))

    def show(self, view: DependencyView, opened: set[int], cursor_path: list[DepNode]) -> None:
        """Lay out `view` with the nodes of `opened` (ids) and the path to the cursor open,
        the cursor on the path's last node (or the root)."""
        opened = set(opened)
        opened.update(id(n) for n in cursor_path[:-1])
        # Nodes are reachable from the root only through opened nodes: collect them by id.
        self.open = {}
        lines: list[Row] = []
        stack: list[tuple[DepNode, int, str, bool]] = [(view.root, 0, "", True)]
        g = self.glyphs
        while stack:
            node, depth, prefix, last = stack.pop()
            line = Row(node, depth, prefix, last)
            lines.append(line)
            if id(node) in opened:
                self.open[id(node)] = node
                kids = node.children()
                if kids:
                    line.expanded = True
                    cp = (prefix + (g.blank if last else g.vertical)) if depth else ""
                    n = len(kids)
                    for i in range(n - 1, -1, -1):
                        stack.append((kids[i], depth + 1, cp, i == n - 1))
        self.lines = lines
        target = cursor_path[-1] if cursor_path else view.root
        self.cursor = max(self.line_of(target), 0)

    def child_rows(self, line: Row) -> list[Row]:
        """Rows for the children of `line` (and their remembered open descendants)."""
        g = self.glyphs
        out: list[Row] = []
        kids = line.node.children()
        cp = (line.prefix + (g.blank if line.last else g.vertical)) if line.depth else ""
        n = len(kids)
        stack = [(kids[i], line.depth + 1, cp, i == n - 1) for i in range(n - 1, -1, -1)]
        open_ = self.open
        while stack:
            node, depth, prefix, last = stack.pop()
            ln = Row(node, depth, prefix, last)
            out.append(ln)
            if id(node) in open_ and open_[id(node)] is node:
                sub = node.children()
                if sub:
                    ln.expanded = True
                    sp = prefix + (g.blank if last else g.vertical)
                    m = len(sub)
                    for i in range(m - 1, -1, -1):
                        stack.append((sub[i], depth + 1, sp, i == m - 1))
        return out

    def subtree_end(self, i: int) -> int:
        """The row after the last one below row `i`."""
        lines = self.lines
        depth = lines[i].depth
        j = i + 1
        n = len(lines)
        while j < n and lines[j].depth > depth:
            j += 1
        return j

    def parent_line(self, i: int) -> int:
        """The row of the parent of row `i`, or -1 (the root)."""
        depth = self.lines[i].depth
        j = i - 1
        while j >= 0 and self.lines[j].depth >= depth:
            j -= 1
        return j

    # -- splices ---------------------------------------------------------------------------

    def open_node(self, node: DepNode) -> int:
        """Show the children of `node` under its closed row: that row, or -1 (not shown,
        or open already)."""
        i = self.line_of(node)
        if i < 0 or self.lines[i].expanded:
            return -1
        line = self.lines[i]
        self.open[id(node)] = node
        new = self.child_rows(line)
        line.expanded = True
        self.lines[i + 1:i + 1] = new
        if self.cursor > i:
            self.cursor += len(new)
        return i

    def replace_more(self, i: int, made: list[DepNode]) -> None:
        """Rows of `made` in the place of the `+N more` row `i`."""
        line = self.lines[i]
        n = len(made)
        self.lines[i:i + 1] = [Row(node, line.depth, line.prefix, line.last and k == n - 1)
                               for k, node in enumerate(made)]
        if self.cursor > i:
            self.cursor += n - 1

    def collapse(self, i: int) -> bool:
        """Close row `i` (False: it was not open)."""
        line = self.lines[i]
        if not line.expanded:
            return False
        j = self.subtree_end(i)
        del self.lines[i + 1:j]
        line.expanded = False
        self.open.pop(id(line.node), None)
        if i < self.cursor < j:
            self.cursor = i
        elif self.cursor >= j:
            self.cursor -= j - i - 1
        return True

    def relayout(self, i: int) -> None:
        """Lay out the rows below row `i` again from the open nodes."""
        line = self.lines[i]
        end = self.subtree_end(i)
        new = self.child_rows(line) if id(line.node) in self.open else []
        line.expanded = bool(new)
        self.lines[i + 1:end] = new
        if self.cursor >= end:
            self.cursor += len(new) - (end - i - 1)
        elif self.cursor > i:
            self.cursor = i

    def reveal(self, i: int, path: list[DepNode]) -> int:
        """Open the closed row `i` and the nodes of `path` below it: the row of the last."""
        line = self.lines[i]
        for node in (line.node, *path[:-1]):
            self.open[id(node)] = node
        self.relayout(i)
        target = path[-1]
        return next((k for k in range(i + 1, self.subtree_end(i))
                     if self.lines[k].node is target), i)

    def expand_all(self, i: int, view: DependencyView, budget: int) -> tuple[int, int]:
        """Open every node below row `i`, up to `budget` new rows: a node whose children
        would pass that stays closed. The rows added and the nodes left closed."""
        added = 0
        skipped = 0
        top = self.lines[i].node
        stack = [top]
        while stack:
            node = stack.pop()
            if node.kind in (MORE, MISSING, CYCLE):
                continue
            room = budget - added
            if room <= 0:
                skipped += 1 + len(stack)
                break
            if node.children_known:
                kids = node.children()
                if len(kids) > room and node is not top and self.open.get(id(node)) is not node:
                    skipped += 1
                    continue
            else:
                count = view.count_candidates(node, room + 1)
                if not count:
                    continue
                if count > room:
                    skipped += 1
                    continue
                kids = node.children()
            if not kids:
                continue
            if self.open.get(id(node)) is not node:  # (rows shown already cost nothing)
                self.open[id(node)] = node
                added += len(kids)
            stack.extend(reversed(kids))
        self.relayout(i)
        return added, skipped

    def collapse_all(self, i: int) -> bool:
        """Close row `i` and everything open below it (False: no row changed)."""
        stack = [self.lines[i].node]
        while stack:
            node = stack.pop()
            self.open.pop(id(node), None)
            if node.children_known:
                stack.extend(node.children())
        if self.lines[i].expanded:
            self.relayout(i)
            return True
        return False

    # -- finding ---------------------------------------------------------------------------

    def find(self, finder: Finder, step: int,
             busy: set[DepNode]) -> tuple[int, list[DepNode] | None] | None:
        """The next (`step` 1) or previous (-1) match after the cursor, wrapping around: its
        row, or a closed row and the path below it to the match (rows under closed nodes
        count too; not under `busy` ones, whose rows are on their way); None: no match."""
        n = len(self.lines)
        if not n or not finder.active:
            return None
        # Each row, then what a closed row holds below it: positions 2*i and 2*i + 1.
        here = 2 * self.cursor
        for k in range(1, 2 * n + 1):
            pos = (here + step * k) % (2 * n)
            i, below = divmod(pos, 2)
            line = self.lines[i]
            if not below:
                if finder.node_matches(line.node):
                    return i, None
            elif not line.expanded and line.node not in busy:
                path = finder.below(line.node, last=step < 0)
                if path:
                    return i, path
        return None
