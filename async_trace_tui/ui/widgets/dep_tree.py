"""The dependencies tree as a Line-API widget over the rows on show (`views.tree_rows`).

Only the rows on screen are rendered (`dep_tree_draw` draws one); expanding or collapsing a
node splices the rows model, in a thread when its children take thousands of spans to make.
This widget holds the keys, the mouse, the messages to its pane and the paint glue.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import ClassVar

from textual import events, work
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.timer import Timer

from ...gcpause import CollectorHold
from ...views.dependencies import (
    CYCLE,
    MISSING,
    MORE,
    SPAN,
    TRACE,
    DependencyView,
    DepNode,
    warm_shapes,
)
from ...views.tree_search import Finder
from .dep_tree_lines import TreeLines
from .paint import after_paint

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


class DependencyTree(TreeLines, can_focus=True):
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
        super().__init__(ascii, name=name, id=id, classes=classes)
        self.view: DependencyView | None = None
        self._gc = CollectorHold()
        self._gc_timer: Timer | None = None
        self._gc_since = 0.0
        self.search_text = ""  # what `n`/`N` look for

    def cursor_moved(self, node: DepNode) -> None:
        self.post_message(self.NodeHighlighted(self, node))

    def show(self, view: DependencyView, opened: set[int] | None = None,
             cursor_path: list[DepNode] | None = None, center: bool = True) -> None:
        """Display `view`: open `opened` (node ids; default: the view's initial expansion),
        and the path to the cursor (default: to the focus), cursor on the path's last node."""
        self.hold_gc()
        self.view = view
        self._fetching.clear()  # (a fetch still on its way lands in the next view)
        self._draw.clear()
        self._strips.clear()
        if opened is None:
            opened = {id(n) for n in view.initial_expansion()}
        if cursor_path is None:
            cursor_path = view.focus_path()
        self._rows.show(view, opened, cursor_path)
        self._max_width = 0
        self._highlighted = None
        self._update_size()
        self.refresh()
        self._after_cursor_move(center=center)

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

    # -- expanding and collapsing ------------------------------------------------------------

    def expand_line(self, i: int) -> bool:
        """Open row `i` (a `+N more` row: replace it by the nodes it stands for). Children
        that take thousands of spans to make are made in a thread: the row shows they are on
        their way meanwhile."""
        line = self._rows[i]
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
        more = self._rows[i].node
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
        before = len(self._rows)
        i = self._rows.open_node(node)
        if i < 0:
            return False
        self._changed()
        if self.cursor_line == i:
            # Bring the new rows into view, as many as fit under the node.
            self.scroll_to_line(i, rows=len(self._rows) - before + 1)
        return True

    def _splice_more(self, view: DependencyView, more: DepNode, made: list[DepNode]) -> bool:
        """The rows of `made` in the place of the `more` row (and of `more` in the view)."""
        i = self.line_of(more)
        if i < 0 or not made or not view.replace_more(more, made):
            return False
        self._rows.replace_more(i, made)
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
        if not self._rows.collapse(i):
            return False
        self._changed()
        return True

    def toggle_line(self, i: int) -> bool:
        line = self._rows[i]
        return self.collapse_line(i) if line.expanded else self.expand_line(i)

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
        self.move_cursor(len(self._rows) - 1)

    def action_collapse(self) -> None:
        """Collapse the node, or go to its parent."""
        i = self.cursor_line
        if not len(self._rows):
            return
        if self._rows[i].expanded:
            self.collapse_line(i)
            return
        j = self._rows.parent_line(i)
        if j >= 0:
            self.move_cursor(j)

    def action_expand(self) -> None:
        """Expand the node, or go to its first child."""
        i = self.cursor_line
        if not len(self._rows):
            return
        line = self._rows[i]
        if line.expanded:
            self.move_cursor(i + 1)
        elif not self.expand_line(i):
            self.app.bell()

    def action_toggle(self) -> None:
        if len(self._rows) and not self.toggle_line(self.cursor_line):
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
        if not len(self._rows) or not finder.active:
            return False
        hit = self._rows.find(finder, step, self._pending)
        if hit is None:
            what = "error" if finder.errors else f"match for {finder.query!r}"
            self.post_message(self.Said(f"No {what} in the tree."))
            return False
        i, path = hit
        if path is None:
            self.move_cursor(i)
        else:
            # Open the closed row and the path below it; cursor on the match.
            self.hold_gc()
            j = self._rows.reveal(i, path)
            self._changed()
            self.move_cursor(j)
        return True

    def action_expand_all(self) -> None:
        """Open every node below the cursor, up to EXPAND_ALL_ROWS new rows: a node whose
        children would pass that stays closed (enter opens it, in a thread when big)."""
        view = self.view
        if view is None or not len(self._rows):
            return
        self.hold_gc()
        added, skipped = self._rows.expand_all(self.cursor_line, view, EXPAND_ALL_ROWS)
        self._changed()
        if skipped:
            self.post_message(self.Said(
                f"Opened {added:,} rows; the rest stayed closed ({EXPAND_ALL_ROWS:,} rows at "
                f"most at once): + again on a closed row goes deeper, enter opens one."))

    def action_collapse_all(self) -> None:
        """Close the node under the cursor and everything open below it."""
        if len(self._rows) and self._rows.collapse_all(self.cursor_line):
            self._changed()

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
            self._open_trace(self._rows[line].node)

