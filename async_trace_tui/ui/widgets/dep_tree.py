"""The dependencies tree as a Line-API widget over a flat list of visible rows.

Textual's `Tree` rebuilds every row on each expand (0.6–1.8 s at 100k nodes). Here the rows on
screen are the only ones rendered, and expanding or collapsing a node splices its subtree into
(or out of) one flat list: the cost is the size of what appears or disappears, whatever the size
of the rest. Rows draw exactly what `--print` draws (the same connector pieces and node labels),
with an expand marker between the connector and the label.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import ClassVar, NamedTuple

from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style
from textual import events, work
from textual.binding import Binding, BindingType
from textual.cache import LRUCache
from textual.geometry import Region, Size
from textual.message import Message
from textual.strip import Strip
from textual.timer import Timer

from ...gcpause import CollectorHold
from ...views.dependencies import (
    CYCLE,
    MISSING,
    MORE,
    ROOT,
    SPAN,
    SYNC,
    TRACE,
    DependencyView,
    DepNode,
    warm_shapes,
)
from ...views.glyphs import ASCII, Glyphs, glyphs
from ...views.labels import DEFAULT_STYLES, Parts, fit_parts, label_parts, styled
from ...views.render_text import elide_prefix
from ...views.tree_search import Finder
from .paint import SteadyScrollView, after_paint, set_virtual_size, text_segments

# Seconds without bulk row edits before the garbage collection they put off runs, and the
# longest it is put off while they keep coming (memory grows meanwhile).
GC_QUIET = 0.5
GC_HOLD_MAX = 3.0

# `+` opens at most this many rows at once (a node's links may lead on and on).
EXPAND_ALL_ROWS = 5000

# A row whose children stand for this many spans (a producer with thousands of consumers, a
# `+N more` node standing for thousands of calls) is expanded in a thread.
BACKGROUND_ROWS = 1000

# A row's new nodes, made now or in a thread: make(node) -> nodes; put(view, node, nodes)
# shows them if that row is still there.
_Make = Callable[[DepNode], list[DepNode]]
_Put = Callable[[DependencyView, DepNode, list[DepNode]], bool]

FETCHING = {False: "  fetching…", True: "  fetching..."}

# Expand markers (the legend glyphs have none): expanded, collapsed, leaf, on its way.
MARKERS = {False: ("▾", "▸", " ", "⋯"), True: ("[-]", "[+]", "   ", "[.]")}


def _foreground(style: Style) -> Style:
    """`style` without its background colour."""
    return Style(color=style.color, bold=style.bold, dim=style.dim, italic=style.italic,
                 underline=style.underline, reverse=style.reverse, strike=style.strike)


# Cells of a label a row keeps when the tree is too narrow for its connector columns (a
# deep row): the tree scrolls sideways that far.
MIN_LABEL = 30


class _Parts(NamedTuple):
    """A node's label as pieces, made once, fitted to each width it is drawn at."""

    parts: Parts
    names: list[int]  # the pieces that may be shortened
    cells: int
    op: int  # the piece of the operation name, or -1


class _Label(NamedTuple):
    """A node's label fitted to a width, rendered once for every row and repaint that
    shows it."""

    segments: list[Segment]
    cells: int
    op: tuple[int, int] | None  # the cells of the operation name: a click opens the trace
    plain: str


class _Line:
    """One visible row: a node, its depth, the connector columns inherited from its
    ancestors (`prefix`), whether it is its parent's last child, and whether it is open."""

    __slots__ = ("node", "depth", "prefix", "last", "expanded")

    def __init__(self, node: DepNode, depth: int, prefix: str, last: bool) -> None:
        self.node = node
        self.depth = depth
        self.prefix = prefix
        self.last = last
        self.expanded = False


class DependencyTree(SteadyScrollView, can_focus=True):
    """Keyboard-first tree of a DependencyView; renders only the rows on screen."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up,k", "cursor_up", "Up", show=False),
        Binding("down,j", "cursor_down", "Down", show=False),
        Binding("pageup", "cursor_page_up", "Page up", show=False),
        Binding("pagedown", "cursor_page_down", "Page down", show=False),
        Binding("home", "cursor_home", "First", show=False),
        Binding("end", "cursor_end", "Last", show=False),
        Binding("left,h", "collapse", "Collapse", show=False),
        Binding("right,l", "expand", "Expand", show=False),
        Binding("enter", "toggle", "Expand"),
        Binding("f", "refocus", "Focus span"),
        Binding("o", "open_trace", "Open trace"),
        Binding("slash", "search", "Search the tree"),
        Binding("n", "next_match", "Next match", show=False),
        Binding("N", "previous_match", "Previous match", show=False),
        Binding("e", "next_error", "Next error", show=False),
        Binding("E", "previous_error", "Previous error", show=False),
        Binding("plus", "expand_all", "Expand all below", show=False),
        Binding("minus", "collapse_all", "Collapse all below", show=False),
        Binding("backspace", "back", "Back to the previous focus", show=False),
    ]

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "dep-tree--cursor", "dep-tree--hover", "dep-tree--guide", "dep-tree--async",
        "dep-tree--marker", "dep-tree--glyph", "dep-tree--service", "dep-tree--operation",
        "dep-tree--duration", "dep-tree--count", "dep-tree--error", "dep-tree--lag",
        "dep-tree--dim", "dep-tree--focus", "dep-tree--missing",
    }

    # Widget-intrinsic look, from the theme's variables (layout lives in dependencies.tcss).
    DEFAULT_CSS = """
    DependencyTree {
        background: $surface;
        color: $foreground;
        & > .dep-tree--cursor {
            background: $block-cursor-blurred-background;
            text-style: $block-cursor-blurred-text-style;
        }
        &:focus > .dep-tree--cursor {
            color: $block-cursor-foreground;
            background: $block-cursor-background;
            text-style: $block-cursor-text-style;
        }
        & > .dep-tree--hover { background: $block-hover-background; }
        & > .dep-tree--guide { color: $foreground-muted; }
        & > .dep-tree--async { color: $warning; }
        & > .dep-tree--marker { color: $accent; text-style: bold; }
        & > .dep-tree--glyph { text-style: bold; }
        & > .dep-tree--service { color: $text-primary; }
        & > .dep-tree--operation { text-style: bold; }
        & > .dep-tree--duration { color: $foreground; }
        & > .dep-tree--count { color: $text-secondary; text-style: bold; }
        & > .dep-tree--error { color: $text-error; text-style: bold; }
        & > .dep-tree--lag { color: $text-warning; }
        & > .dep-tree--dim { color: $foreground-muted; }
        & > .dep-tree--focus { color: $text-accent; text-style: bold reverse; }
        & > .dep-tree--missing { color: $foreground-muted; text-style: italic; }
    }
    """

    class NodeHighlighted(Message):
        """The cursor moved to another node."""

        def __init__(self, tree: DependencyTree, node: DepNode) -> None:
            self.tree = tree
            self.node = node
            super().__init__()

        @property
        def control(self) -> DependencyTree:
            return self.tree

    class OpenTrace(Message):
        """Open this trace (its waterfall) in a new tab; `row` is the span to show, or -1."""

        def __init__(self, trace_index: int, row: int) -> None:
            self.trace_index = trace_index
            self.row = row
            super().__init__()

    class FetchNeeded(Message):
        """Expanding this node needs spans the source has not fetched yet (a store): the
        row says `fetching…` until `fetch_done` or a rebuilt view."""

        def __init__(self, node: DepNode) -> None:
            self.node = node
            super().__init__()

    class Refocus(Message):
        """Rebuild the view with this span as its focus (`f`)."""

        def __init__(self, row: int) -> None:
            self.row = row
            super().__init__()

    class SearchRequested(Message):
        """`/`: ask the user what to search for (then `search(text)`)."""

    class Back(Message):
        """`backspace`: back to the focus before the last refocus."""

    class Said(Message):
        """Something to tell the user (no match, a limit reached)."""

        def __init__(self, text: str) -> None:
            self.text = text
            super().__init__()

    def __init__(self, ascii: bool = False, *, name: str | None = None, id: str | None = None,
                 classes: str | None = None) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.glyphs: Glyphs = glyphs(ascii)
        self._markers = MARKERS[self.glyphs is ASCII]
        self.view: DependencyView | None = None
        self._lines: list[_Line] = []
        self._open: dict[int, DepNode] = {}  # id -> node: expanded (remembered when hidden)
        self.cursor_line = 0
        self.hover_line = -1
        self._highlighted: DepNode | None = None
        self._parts: dict[int, tuple[DepNode, _Parts]] = {}  # id -> (node, its label)
        # (id, cells) -> (node, its label in that many cells)
        self._labels: dict[tuple[int, int], tuple[DepNode, _Label]] = {}
        self._styles: dict[str, Style] | None = None
        self._max_width = 0
        self._width_pending = False
        self._base_style = Style()
        # scroll x, scroll y, width, width inside the scrollbars: for the lines of one paint
        self._paint_at = (0, 0, 0, 0)
        self._paint_focus = False  # (the cursor row's colours follow the focus)
        self._strips: LRUCache[tuple[object, ...], Strip] = LRUCache(1024)
        self._gc = CollectorHold()
        self._gc_timer: Timer | None = None
        self._gc_since = 0.0
        self._pending: set[DepNode] = set()  # nodes whose rows are being made in a thread
        # Whether expanding a node needs a fetch first (set by the pane over a store), and the
        # nodes whose fetch is on its way.
        self.needs_fetch: Callable[[DepNode], bool] | None = None
        self._fetching: set[DepNode] = set()
        self.search_text = ""  # what `n`/`N` look for

    # -- public API ------------------------------------------------------------------------

    @property
    def line_count(self) -> int:
        return len(self._lines)

    @property
    def cursor_node(self) -> DepNode | None:
        if 0 <= self.cursor_line < len(self._lines):
            return self._lines[self.cursor_line].node
        return None

    def rows(self) -> list[tuple[DepNode, int, bool]]:
        """The visible rows: (node, depth, expanded)."""
        return [(ln.node, ln.depth, ln.expanded) for ln in self._lines]

    def node_at(self, i: int) -> DepNode:
        return self._lines[i].node

    def is_expanded(self, i: int) -> bool:
        return self._lines[i].expanded

    def line_text(self, i: int) -> str:
        """Row `i` as plain text, as drawn (connector, marker, label)."""
        line = self._lines[i]
        note = self._note(line)
        lead, marker = self._lead(line), self._marker(line)
        room = self._room(lead, marker, self.scroll_offset.x, self._fit_width()) - cell_len(note)
        return f"{lead}{marker} {self._label(line.node, room).plain}{note}"

    def iter_nodes(self) -> Iterator[DepNode]:
        """The nodes of the visible rows, top to bottom."""
        return (ln.node for ln in self._lines)

    def screen_nodes(self) -> list[DepNode]:
        """The nodes of the rows on screen, top to bottom."""
        top = self.scroll_offset.y
        return [ln.node for ln in self._lines[top:top + self.scrollable_content_region.height]]

    def line_of(self, node: DepNode) -> int:
        for i, ln in enumerate(self._lines):
            if ln.node is node:
                return i
        return -1

    def expanded_nodes(self) -> list[DepNode]:
        """The visible rows that are open, top to bottom."""
        return [ln.node for ln in self._lines if ln.expanded]

    def shown_nodes(self) -> list[tuple[DepNode, bool]]:
        """The visible rows, top to bottom: (node, open)."""
        return [(ln.node, ln.expanded) for ln in self._lines]

    def show(self, view: DependencyView, opened: set[int] | None = None,
             cursor_path: list[DepNode] | None = None, center: bool = True) -> None:
        """Display `view`: open `opened` (node ids; default: the view's initial expansion),
        and the path to the cursor (default: to the focus), cursor on the path's last node."""
        self.hold_gc()
        self.view = view
        self._fetching.clear()  # (a fetch still on its way lands in the next view)
        self._labels.clear()
        self._parts.clear()
        self._strips.clear()
        if opened is None:
            opened = {id(n) for n in view.initial_expansion()}
        if cursor_path is None:
            cursor_path = view.focus_path()
        opened = set(opened)
        opened.update(id(n) for n in cursor_path[:-1])
        # Nodes are reachable from the root only through opened nodes: collect them by id.
        self._open = {}
        lines: list[_Line] = []
        stack: list[tuple[DepNode, int, str, bool]] = [(view.root, 0, "", True)]
        g = self.glyphs
        while stack:
            node, depth, prefix, last = stack.pop()
            line = _Line(node, depth, prefix, last)
            lines.append(line)
            if id(node) in opened:
                self._open[id(node)] = node
                kids = node.children()
                if kids:
                    line.expanded = True
                    cp = (prefix + (g.blank if last else g.vertical)) if depth else ""
                    n = len(kids)
                    for i in range(n - 1, -1, -1):
                        stack.append((kids[i], depth + 1, cp, i == n - 1))
        self._lines = lines
        self._max_width = 0
        target = cursor_path[-1] if cursor_path else view.root
        at = self.line_of(target)
        self.cursor_line = max(at, 0)
        self._highlighted = None
        self._update_size()
        self.refresh()
        self._after_cursor_move(center=center)

    def relabel(self) -> None:
        """Draw the labels again (the view's options changed in place, e.g. aggregation)."""
        self._labels.clear()
        self._parts.clear()
        self._strips.clear()
        self._max_width = 0
        self.refresh()

    def hold_gc(self) -> None:
        """Thousands of rows are about to be made: the cyclic collector waits until the
        user pauses (see CollectorHold), not in the middle of answering a key."""
        if self._gc.hold():
            self._gc_since = time.monotonic()
            self._gc_timer = self.set_timer(GC_QUIET, self._release_gc)
        elif self._gc_timer is not None and time.monotonic() - self._gc_since < GC_HOLD_MAX:
            self._gc_timer.reset()

    def _release_gc(self) -> None:
        self._gc_timer = None
        self._gc.release()

    def on_unmount(self) -> None:
        if self._gc_timer is not None:
            self._gc_timer.stop()
        self._release_gc()

    # -- expanding and collapsing: splices of the flat list ---------------------------------

    def _child_lines(self, line: _Line) -> list[_Line]:
        """Lines for the children of `line` (and their remembered open descendants)."""
        g = self.glyphs
        out: list[_Line] = []
        kids = line.node.children()
        cp = (line.prefix + (g.blank if line.last else g.vertical)) if line.depth else ""
        n = len(kids)
        stack = [(kids[i], line.depth + 1, cp, i == n - 1) for i in range(n - 1, -1, -1)]
        open_ = self._open
        while stack:
            node, depth, prefix, last = stack.pop()
            ln = _Line(node, depth, prefix, last)
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

    def _subtree_end(self, i: int) -> int:
        lines = self._lines
        depth = lines[i].depth
        j = i + 1
        n = len(lines)
        while j < n and lines[j].depth > depth:
            j += 1
        return j

    def expand_line(self, i: int) -> bool:
        """Open row `i` (a `+N more` row: replace it by the nodes it stands for). Children
        that take thousands of spans to make are made in a thread: the row shows they are on
        their way meanwhile."""
        line = self._lines[i]
        node = line.node
        view = self.view
        if node.kind == MORE:
            return self.expand_more_line(i)
        if line.expanded or view is None:
            return False
        if node in self._pending or node in self._fetching:
            return True
        if self.needs_fetch is not None and self.needs_fetch(node):
            self.fetching(node)
            self.post_message(self.FetchNeeded(node))
            return True
        self.hold_gc()
        if node.children_known or view.count_candidates(node, BACKGROUND_ROWS) < BACKGROUND_ROWS:
            return self._open_node(view, node, node.children())
        return self._in_thread(view, node, view.make_children, self._open_node)

    def expand_more_line(self, i: int) -> bool:
        """Replace a `+N more` row by the nodes it stands for (in a thread when thousands)."""
        more = self._lines[i].node
        view = self.view
        if more.kind != MORE or view is None:
            return False
        if more in self._pending:
            return True
        self.hold_gc()
        if more.hidden < BACKGROUND_ROWS:
            return self._splice_more(view, more, view.group_more(more))
        return self._in_thread(view, more, view.group_more, self._splice_more)

    def _in_thread(self, view: DependencyView, node: DepNode, make: _Make, put: _Put) -> bool:
        self._pending.add(node)
        self._refresh_line(self.line_of(node))
        after_paint(self, self._make_in_thread, view, node, make, put)  # the marker first
        return True

    @work(thread=True, group="dependency-rows")
    def _make_in_thread(self, view: DependencyView, node: DepNode, make: _Make,
                        put: _Put) -> None:
        made = make(node)
        warm_shapes(made)
        self.app.call_from_thread(self._made, view, node, made, put)

    def _made(self, view: DependencyView, node: DepNode, made: list[DepNode],
              put: _Put) -> None:
        self._pending.discard(node)
        if view is not self.view or not put(view, node, made):
            self._refresh_line(self.line_of(node))  # gone or hidden meanwhile: its marker

    def _open_node(self, view: DependencyView, node: DepNode, kids: list[DepNode]) -> bool:
        """Show `kids` (made for `node`, here or in a thread) under the node's row."""
        if not node.adopt_children(kids):
            return False
        i = self.line_of(node)
        if i < 0 or self._lines[i].expanded:
            return False
        line = self._lines[i]
        self._open[id(node)] = node
        new = self._child_lines(line)
        line.expanded = True
        self._lines[i + 1:i + 1] = new
        if self.cursor_line > i:
            self.cursor_line += len(new)
        self._changed()
        if self.cursor_line == i:
            # Bring the new rows into view, as many as fit under the node.
            self.scroll_to_line(i, rows=len(new) + 1)
        return True

    def _splice_more(self, view: DependencyView, more: DepNode, made: list[DepNode]) -> bool:
        """The rows of `made` in the place of the `more` row (and of `more` in the view)."""
        i = self.line_of(more)
        if i < 0 or not made or not view.replace_more(more, made):
            return False
        line = self._lines[i]
        n = len(made)
        self._lines[i:i + 1] = [_Line(node, line.depth, line.prefix, line.last and k == n - 1)
                                for k, node in enumerate(made)]
        if self.cursor_line > i:
            self.cursor_line += n - 1
        self._changed()
        return True

    @property
    def pending(self) -> bool:
        """Whether rows are being made in a thread, or fetched."""
        return bool(self._pending or self._fetching)

    def fetching(self, node: DepNode) -> None:
        """Show `fetching…` on the node's row (its spans are on their way)."""
        self._fetching.add(node)
        self._refresh_line(self.line_of(node))

    def fetch_done(self, node: DepNode) -> None:
        """The fetch for this node is over (failed: the row is as it was)."""
        self._fetching.discard(node)
        self._refresh_line(self.line_of(node))

    def is_fetching(self, node: DepNode) -> bool:
        return node in self._fetching

    def collapse_line(self, i: int) -> bool:
        line = self._lines[i]
        if not line.expanded:
            return False
        j = self._subtree_end(i)
        del self._lines[i + 1:j]
        line.expanded = False
        self._open.pop(id(line.node), None)
        if i < self.cursor_line < j:
            self.cursor_line = i
        elif self.cursor_line >= j:
            self.cursor_line -= j - i - 1
        self._changed()
        return True

    def toggle_line(self, i: int) -> bool:
        line = self._lines[i]
        return self.collapse_line(i) if line.expanded else self.expand_line(i)

    def _changed(self) -> None:
        self._update_size()
        self.refresh()
        self._after_cursor_move()

    # -- cursor ----------------------------------------------------------------------------

    def move_cursor(self, line: int, center: bool = False) -> None:
        if not self._lines:
            return
        line = max(0, min(line, len(self._lines) - 1))
        old = self.cursor_line
        self.cursor_line = line
        if old != line:
            self._refresh_line(old)
            self._refresh_line(line)
        self._after_cursor_move(center=center)

    _shown_height = 0  # the height the last Resize gave the tree

    def on_resize(self, event: events.Resize) -> None:
        # A lower terminal must not leave the cursor below the screen (keys would move it
        # out of sight). Only a change of height: a Resize also comes when the tree grows,
        # and a view scrolled away with the mouse stays where it is then.
        shrunk = event.size.height < self._shown_height
        self._shown_height = event.size.height
        if shrunk and self._lines:
            self.call_after_refresh(self.scroll_to_line, self.cursor_line)

    def select_node(self, node: DepNode) -> bool:
        at = self.line_of(node)
        if at >= 0:
            self.move_cursor(at)
        return at >= 0

    def _after_cursor_move(self, center: bool = False) -> None:
        if not self._lines:
            return
        self.cursor_line = max(0, min(self.cursor_line, len(self._lines) - 1))
        self.scroll_to_line(self.cursor_line, center=center)
        node = self._lines[self.cursor_line].node
        if node is not self._highlighted:
            self._highlighted = node
            self.post_message(self.NodeHighlighted(self, node))

    def scroll_to_line(self, line: int, center: bool = False, rows: int = 1) -> None:
        """Scroll `rows` lines from `line` into view (as many as fit; `line` first)."""
        height = self.scrollable_content_region.height
        if height <= 0:
            # Not laid out yet: scroll once it is.
            self.call_after_refresh(self.scroll_to_line, line, center, rows)
            return
        rows = max(1, min(rows, height))
        self.scroll_to_region(Region(0, line, max(self.size.width, 1), rows), animate=False,
                              force=True, center=center, x_axis=False, immediate=True)

    def _refresh_line(self, line: int) -> None:
        if line >= 0:
            self.refresh(Region(0, line - self.scroll_offset.y, self.size.width, 1))

    # -- actions ---------------------------------------------------------------------------

    def action_cursor_up(self) -> None:
        self.move_cursor(self.cursor_line - 1)

    def action_cursor_down(self) -> None:
        self.move_cursor(self.cursor_line + 1)

    def action_cursor_page_up(self) -> None:
        self.move_cursor(self.cursor_line - max(1, self.scrollable_content_region.height - 1))

    def action_cursor_page_down(self) -> None:
        self.move_cursor(self.cursor_line + max(1, self.scrollable_content_region.height - 1))

    def action_cursor_home(self) -> None:
        self.move_cursor(0)

    def action_cursor_end(self) -> None:
        self.move_cursor(len(self._lines) - 1)

    def action_collapse(self) -> None:
        """Collapse the node, or go to its parent."""
        i = self.cursor_line
        if not self._lines:
            return
        if self._lines[i].expanded:
            self.collapse_line(i)
            return
        depth = self._lines[i].depth
        j = i - 1
        while j >= 0 and self._lines[j].depth >= depth:
            j -= 1
        if j >= 0:
            self.move_cursor(j)

    def action_expand(self) -> None:
        """Expand the node, or go to its first child."""
        i = self.cursor_line
        if not self._lines:
            return
        line = self._lines[i]
        if line.expanded:
            self.move_cursor(i + 1)
        elif not self.expand_line(i):
            self.app.bell()

    def action_toggle(self) -> None:
        if self._lines and not self.toggle_line(self.cursor_line):
            self.app.bell()

    def action_refocus(self) -> None:
        node = self.cursor_node
        if node is None or node.kind not in (SPAN, CYCLE, TRACE) or not node.rows:
            self.app.bell()
            return
        self.post_message(self.Refocus(node.rows[0]))

    def action_open_trace(self) -> None:
        node = self.cursor_node
        if node is not None:
            self._open_trace(node)

    def _open_trace(self, node: DepNode) -> None:
        idx = node.view.index
        if node.rows:
            self.post_message(self.OpenTrace(idx.trace[node.rows[0]], node.rows[0]))
        elif node.kind == MISSING and node.missing and node.missing[0] in idx.trace_index:
            self.post_message(self.OpenTrace(idx.trace_index[node.missing[0]], -1))
        else:
            self.app.bell()

    # -- search, errors, expand and collapse all ---------------------------------------------

    def action_search(self) -> None:
        self.post_message(self.SearchRequested())

    def search(self, text: str) -> bool:
        """Look for `text` (service, operation, group value or id prefix) from the cursor
        on; `n`/`N` look again."""
        self.search_text = text.strip()
        return self.find(Finder(self.view, self.search_text), 1) if self.view else False

    def action_next_match(self) -> None:
        self._find_text(1)

    def action_previous_match(self) -> None:
        self._find_text(-1)

    def _find_text(self, step: int) -> None:
        if self.view is None:
            return
        if not self.search_text:
            self.post_message(self.Said("Nothing to look for yet: / searches the tree."))
            return
        self.find(Finder(self.view, self.search_text), step)

    def action_next_error(self) -> None:
        if self.view is not None:
            self.find(Finder(self.view, errors=True), 1)

    def action_previous_error(self) -> None:
        if self.view is not None:
            self.find(Finder(self.view, errors=True), -1)

    def find(self, finder: Finder, step: int) -> bool:
        """Move the cursor to the next (`step` 1) or previous (-1) match after it, wrapping
        around; rows under closed nodes of the trace count too (their path is opened)."""
        n = len(self._lines)
        if not n or not finder.active:
            return False
        # Each row, then what a closed row holds below it: positions 2*i and 2*i + 1.
        here = 2 * self.cursor_line
        for k in range(1, 2 * n + 1):
            pos = (here + step * k) % (2 * n)
            i, below = divmod(pos, 2)
            line = self._lines[i]
            if not below:
                if finder.node_matches(line.node):
                    self.move_cursor(i)
                    return True
            elif not line.expanded and line.node not in self._pending:
                path = finder.below(line.node, last=step < 0)
                if path:
                    self._reveal(i, path)
                    return True
        what = "error" if finder.errors else f"match for {finder.query!r}"
        self.post_message(self.Said(f"No {what} in the tree."))
        return False

    def _reveal(self, i: int, path: list[DepNode]) -> None:
        """Open the closed row `i` and the nodes of `path` below it; cursor on the last."""
        self.hold_gc()
        line = self._lines[i]
        for node in (line.node, *path[:-1]):
            self._open[id(node)] = node
        self._replace_subtree(i)
        target = path[-1]
        j = next((k for k in range(i + 1, self._subtree_end(i)) if self._lines[k].node is target),
                 i)
        self.move_cursor(j)

    def _replace_subtree(self, i: int) -> None:
        """Lay out the rows below row `i` again from the open nodes."""
        line = self._lines[i]
        end = self._subtree_end(i)
        new = self._child_lines(line) if id(line.node) in self._open else []
        line.expanded = bool(new)
        self._lines[i + 1:end] = new
        if self.cursor_line >= end:
            self.cursor_line += len(new) - (end - i - 1)
        elif self.cursor_line > i:
            self.cursor_line = i
        self._changed()

    def action_expand_all(self) -> None:
        """Open every node below the cursor, up to EXPAND_ALL_ROWS new rows: a node whose
        children would pass that stays closed (enter opens it, in a thread when big)."""
        view = self.view
        if view is None or not self._lines:
            return
        i = self.cursor_line
        self.hold_gc()
        budget = EXPAND_ALL_ROWS
        added = 0
        skipped = 0
        top = self._lines[i].node
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
                if len(kids) > room and node is not top and self._open.get(id(node)) is not node:
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
            if self._open.get(id(node)) is not node:  # (rows shown already cost nothing)
                self._open[id(node)] = node
                added += len(kids)
            stack.extend(reversed(kids))
        self._replace_subtree(i)
        if skipped:
            self.post_message(self.Said(
                f"Opened {added:,} rows; the rest stayed closed ({EXPAND_ALL_ROWS:,} rows at "
                f"most at once): + again on a closed row goes deeper, enter opens one."))

    def action_collapse_all(self) -> None:
        """Close the node under the cursor and everything open below it."""
        if not self._lines:
            return
        i = self.cursor_line
        stack = [self._lines[i].node]
        while stack:
            node = stack.pop()
            self._open.pop(id(node), None)
            if node.children_known:
                stack.extend(node.children())
        if self._lines[i].expanded:
            self._replace_subtree(i)

    def action_back(self) -> None:
        self.post_message(self.Back())

    # -- mouse -----------------------------------------------------------------------------

    async def _on_click(self, event: events.Click) -> None:
        line, part = self._hit(event)
        if line < 0:
            return
        event.stop()
        self.move_cursor(line)
        if part == "toggle" or event.chain == 2:
            self.toggle_line(line)
        elif part == "op":
            self._open_trace(self._lines[line].node)

    def _on_mouse_move(self, event: events.MouseMove) -> None:
        line, _ = self._hit(event)
        if line != self.hover_line:
            old, self.hover_line = self.hover_line, line
            self._refresh_line(old)
            self._refresh_line(line)

    def _on_leave(self, _: events.Leave) -> None:
        if self.hover_line >= 0:
            old, self.hover_line = self.hover_line, -1
            self._refresh_line(old)

    # -- rendering -------------------------------------------------------------------------

    def notify_style_update(self) -> None:
        super().notify_style_update()
        # Each focus change restyles the widget, but only the cursor row's colours depend
        # on the focus (its strip is keyed by it): the labels are made again only when
        # their styles changed (a theme), not on every focus change (`g`, `/`, escape).
        old, self._styles = self._styles, None
        if old is None or self._label_styles() != old:
            self._labels.clear()
            self._parts.clear()
            self._strips.clear()
        self.refresh()

    def _label_styles(self) -> dict[str, Style]:
        if self._styles is None:
            get = self.get_component_rich_style
            # Full styles (their colours blended as Textual paints them: `$foreground-muted`
            # has an alpha), without the background, so that a row's background shows.
            self._styles = {key: _foreground(get(f"dep-tree--{key}"))
                            for key in (*DEFAULT_STYLES, "guide", "marker")}
        return self._styles

    def _label_parts(self, node: DepNode) -> _Parts:
        hit = self._parts.get(id(node))
        if hit is not None and hit[0] is node:
            return hit[1]
        names: list[int] = []
        parts = label_parts(node, self.glyphs, self._label_styles(), names=names)  # type: ignore[arg-type]
        # The operation name is a link: a click opens the trace.
        op = names[1] if node.kind in (SPAN, CYCLE, TRACE) and len(names) > 1 else -1
        made = _Parts(parts, names, sum(cell_len(piece) for piece, _ in parts), op)
        if len(self._parts) > 4096:
            self._parts.clear()
        self._parts[id(node)] = (node, made)
        return made

    def _label(self, node: DepNode, room: int) -> _Label:
        """The node's label in at most `room` cells (its names shortened first)."""
        full = self._label_parts(node)
        room = max(0, min(room, full.cells))
        hit = self._labels.get((id(node), room))
        if hit is not None and hit[0] is node:
            return hit[1]
        parts = fit_parts(full.parts, full.names, room, self.glyphs.ellipsis)
        text = styled(parts)
        op: tuple[int, int] | None = None
        if 0 <= full.op < len(parts) and parts[full.op][1] is full.parts[full.op][1]:
            start = sum(cell_len(piece) for piece, _ in parts[:full.op])
            op = (start, start + cell_len(parts[full.op][0]))
        label = _Label(text_segments(text, self.app.console), text.cell_len, op, text.plain)
        if len(self._labels) > 4096:
            self._labels.clear()
        self._labels[(id(node), room)] = (node, label)
        return label

    def _fit_width(self) -> int:
        """Cells a row may take without being cut by the edge (or the scrollbar)."""
        return self.scrollable_content_region.width

    @staticmethod
    def _room(lead: str, marker: str, scroll_x: int, width: int) -> int:
        """Cells left for the label of a row with this connector and marker."""
        return max(0, scroll_x + width - cell_len(lead) - cell_len(marker) - 1)

    def _update_size(self) -> None:
        set_virtual_size(self, Size(self._max_width, len(self._lines)))

    def _grow_width(self) -> None:
        self._width_pending = False
        if self._max_width > self.virtual_size.width:
            self._update_size()

    def _lead(self, line: _Line) -> str:
        """The connector columns and edge piece drawn before a row's marker."""
        if not line.depth:
            return ""
        g = self.glyphs
        return elide_prefix(line.prefix, line.depth, g) + (g.last if line.last else g.branch) \
            + g.edge[line.node.edge]

    def _marker(self, line: _Line) -> str:
        node = line.node
        if line.expanded:
            return self._markers[0]
        if node in self._pending or node in self._fetching:
            return self._markers[3]
        if node.kind == MORE or (node.kind not in (MISSING, CYCLE) and node.expandable):
            return self._markers[1]
        if self.needs_fetch is not None and self.needs_fetch(node):
            return self._markers[1]  # what it leads to is not fetched yet: maybe something
        return self._markers[2]

    def _row(self, line: _Line, scroll_x: int, width: int) -> tuple[list[Segment], int, int]:
        """A row's segments (connector, marker, label) fitted to `width` cells seen from
        `scroll_x`, their width in cells, and the width the row would like (the widest a
        row makes the tree scroll sideways)."""
        st = self._label_styles()
        lead = self._lead(line)
        marker = self._marker(line)
        note = self._note(line)
        room = self._room(lead, marker, scroll_x, width) - cell_len(note)
        label = self._label(line.node, room)
        segments = [Segment(lead, st["guide"] if line.node.edge in (SYNC, ROOT) else st["async"]),
                    Segment(marker, st["marker"]), Segment(" "), *label.segments]
        before = cell_len(lead) + cell_len(marker) + 1
        cells = before + label.cells
        if note:
            segments.append(Segment(note, st["dim"]))
            cells += cell_len(note)
        wanted = before + min(MIN_LABEL, self._label_parts(line.node).cells) + cell_len(note)
        return segments, cells, wanted

    def _note(self, line: _Line) -> str:
        """What follows a row's label: `fetching…` while its trace comes from a store."""
        return FETCHING[self.glyphs is ASCII] if line.node in self._fetching else ""

    def _hit(self, event: events.MouseEvent) -> tuple[int, str]:
        """The row under the mouse and the part of it: "toggle" (the expand marker), "op"
        (the operation name) or ""; (-1, "") off the rows."""
        offset = event.get_content_offset(self)
        if offset is None:
            return -1, ""
        index = offset.y + self.scroll_offset.y
        if not 0 <= index < len(self._lines):
            return -1, ""
        line = self._lines[index]
        x = offset.x + self.scroll_offset.x
        at = cell_len(self._lead(line))
        after = at + cell_len(self._marker(line))
        if at <= x < after:
            return index, "toggle"
        room = self._room(self._lead(line), self._marker(line), self.scroll_offset.x,
                          self._fit_width()) - cell_len(self._note(line))
        op = self._label(line.node, room).op
        if op is not None and after + 1 + op[0] <= x < after + 1 + op[1]:
            return index, "op"
        return index, ""

    def render_lines(self, crop: Region) -> list[Strip]:
        # The widget's base style walks the DOM, and its size and offset are worked out
        # afresh on each read: once per paint, not once per line.
        base = self.rich_style
        if base != self._base_style:
            self._base_style = base
            self._strips.clear()
        self._paint_at = (*self.scroll_offset, self.size.width, self._fit_width())
        self._paint_focus = self.has_focus
        return super().render_lines(crop)

    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y, width, fit_width = self._paint_at
        index = y + scroll_y
        base = self._base_style
        if not 0 <= index < len(self._lines):
            return Strip.blank(width, base)
        line = self._lines[index]
        is_cursor = index == self.cursor_line
        is_hover = index == self.hover_line
        key = (line, line.expanded, line.node in self._pending, line.node in self._fetching,
               is_cursor and self._paint_focus, is_cursor, is_hover, scroll_x, width, fit_width)
        cached = self._strips.get(key)
        if cached is not None:
            return cached
        segments, cells, wanted = self._row(line, scroll_x, fit_width)
        under, over, pad = base, None, 0
        if is_cursor or is_hover:
            # The cursor's colours over the whole row (as Tree and DataTable draw it); the
            # hover colour under the row's own.
            pad = max(0, scroll_x + width - cells)
            segments.append(Segment(" " * pad))
            if is_cursor:
                over = self.get_component_rich_style("dep-tree--cursor")
            else:
                under = base + self.get_component_rich_style("dep-tree--hover")
        if wanted > self._max_width:
            self._max_width = wanted
            if wanted > self.virtual_size.width and not self._width_pending:
                self._width_pending = True
                self.call_after_refresh(self._grow_width)
        strip = Strip(Segment.apply_style(segments, under, over), cells + pad)
        strip = strip.crop_extend(scroll_x, scroll_x + width, base)
        self._strips[key] = strip
        return strip


