"""The dependencies tree's rows on screen, a Line-API widget over the rows model
(`views.tree_rows`): only the rows on screen are painted, each drawn by `dep_tree_draw` and its
strip kept until it changes. It holds the cursor (scrolled into view), the mouse hover, the
rows being made (`⋯`) or fetched, and what the tree reads of its rows; `DependencyTree` adds
the keys, the expanding and the messages to its pane.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.cache import LRUCache
from textual.geometry import Region, Size
from textual.strip import Strip

from ...views.dependencies import DepNode
from ...views.glyphs import Glyphs, glyphs
from ...views.tree_rows import Row, TreeRows
from .dep_tree_draw import RowDrawer
from .paint import SteadyScrollView, set_virtual_size


class TreeLines(SteadyScrollView):
    """Paints a TreeRows with a cursor in the `dep-tree--*` component styles (which the
    subclass declares)."""

    def __init__(self, ascii: bool = False, *, name: str | None = None, id: str | None = None,
                 classes: str | None = None) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.glyphs: Glyphs = glyphs(ascii)
        self._rows = TreeRows(self.glyphs)
        self._draw = RowDrawer(self.glyphs, self.get_component_rich_style, lambda: self.app.console)
        self.hover_line = -1
        self._highlighted: DepNode | None = None
        self._max_width = 0
        self._width_pending = False
        self._base_style = Style()
        # scroll x, scroll y, width, width inside the scrollbars: for the lines of one paint
        self._paint_at = (0, 0, 0, 0)
        self._paint_focus = False  # (the cursor row's colours follow the focus)
        self._strips: LRUCache[tuple[object, ...], Strip] = LRUCache(1024)
        self._pending: set[DepNode] = set()  # nodes whose rows are being made in a thread
        # Whether expanding a node needs a fetch first (set by the pane over a store), and the
        # nodes whose fetch is on its way.
        self.needs_fetch: Callable[[DepNode], bool] | None = None
        self._fetching: set[DepNode] = set()

    # -- public API ------------------------------------------------------------------------

    @property
    def cursor_line(self) -> int:
        return self._rows.cursor

    @cursor_line.setter
    def cursor_line(self, line: int) -> None:
        self._rows.cursor = line

    @property
    def line_count(self) -> int:
        return len(self._rows)

    @property
    def cursor_node(self) -> DepNode | None:
        if 0 <= self.cursor_line < len(self._rows):
            return self._rows[self.cursor_line].node
        return None

    def rows(self) -> list[tuple[DepNode, int, bool]]:
        """The visible rows: (node, depth, expanded)."""
        return [(ln.node, ln.depth, ln.expanded) for ln in self._rows.lines]

    def node_at(self, i: int) -> DepNode:
        return self._rows[i].node

    def is_expanded(self, i: int) -> bool:
        return self._rows[i].expanded

    def line_text(self, i: int) -> str:
        """Row `i` as plain text, as drawn (connector, marker, label)."""
        line = self._rows[i]
        note = self._note(line)
        lead, marker = self._draw.lead(line), self._marker(line)
        label = self._draw.fitted(line, lead, marker, note, self.scroll_offset.x,
                                  self._fit_width())
        return f"{lead}{marker} {label.plain}{note}"

    def iter_nodes(self) -> Iterator[DepNode]:
        """The nodes of the visible rows, top to bottom."""
        return (ln.node for ln in self._rows.lines)

    def screen_nodes(self) -> list[DepNode]:
        """The nodes of the rows on screen, top to bottom."""
        top = self.scroll_offset.y
        return [ln.node for ln in self._rows.lines[top:top + self.scrollable_content_region.height]]

    def line_of(self, node: DepNode) -> int:
        return self._rows.line_of(node)

    def expanded_nodes(self) -> list[DepNode]:
        """The visible rows that are open, top to bottom."""
        return [ln.node for ln in self._rows.lines if ln.expanded]

    def shown_nodes(self) -> list[tuple[DepNode, bool]]:
        """The visible rows, top to bottom: (node, open)."""
        return [(ln.node, ln.expanded) for ln in self._rows.lines]

    def relabel(self) -> None:
        """Draw the labels again (the view's options changed in place, e.g. aggregation)."""
        self._draw.clear()
        self._strips.clear()
        self._max_width = 0
        self.refresh()

    def _changed(self) -> None:
        self._update_size()
        self.refresh()
        self._after_cursor_move()

    # -- cursor ----------------------------------------------------------------------------

    def move_cursor(self, line: int, center: bool = False) -> None:
        if not len(self._rows):
            return
        line = max(0, min(line, len(self._rows) - 1))
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
        if shrunk and len(self._rows):
            self.call_after_refresh(self.scroll_to_line, self.cursor_line)

    def select_node(self, node: DepNode) -> bool:
        at = self.line_of(node)
        if at >= 0:
            self.move_cursor(at)
        return at >= 0

    def _after_cursor_move(self, center: bool = False) -> None:
        if not len(self._rows):
            return
        self._rows.clamp_cursor()
        self.scroll_to_line(self.cursor_line, center=center)
        node = self._rows[self.cursor_line].node
        if node is not self._highlighted:
            self._highlighted = node
            self.cursor_moved(node)

    def cursor_moved(self, node: DepNode) -> None:
        """The cursor came to another node."""

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

    def _hit(self, event: events.MouseEvent) -> tuple[int, str]:
        """The row under the mouse and the part of it: "toggle" (the expand marker), "op"
        (the operation name) or ""; (-1, "") off the rows."""
        offset = event.get_content_offset(self)
        if offset is None:
            return -1, ""
        index = offset.y + self.scroll_offset.y
        if not 0 <= index < len(self._rows):
            return -1, ""
        line = self._rows[index]
        x = offset.x + self.scroll_offset.x
        lead, marker = self._draw.lead(line), self._marker(line)
        at = cell_len(lead)
        after = at + cell_len(marker)
        if at <= x < after:
            return index, "toggle"
        op = self._draw.fitted(line, lead, marker, self._note(line), self.scroll_offset.x,
                               self._fit_width()).op
        if op is not None and after + 1 + op[0] <= x < after + 1 + op[1]:
            return index, "op"
        return index, ""

    # -- rendering -------------------------------------------------------------------------

    def notify_style_update(self) -> None:
        super().notify_style_update()
        # Each focus change restyles the widget, but only the cursor row's colours depend
        # on the focus (its strip is keyed by it): the labels are made again only when
        # their styles changed (a theme), not on every focus change (`g`, `/`, escape).
        if self._draw.restyle():
            self._strips.clear()
        self.refresh()

    def _marker(self, line: Row) -> str:
        node = line.node
        return self._draw.marker(line, node in self._pending or node in self._fetching,
                                 self.needs_fetch)

    def _note(self, line: Row) -> str:
        return self._draw.note(line.node in self._fetching)

    def _fit_width(self) -> int:
        """Cells a row may take without being cut by the edge (or the scrollbar)."""
        return self.scrollable_content_region.width

    def _update_size(self) -> None:
        set_virtual_size(self, Size(self._max_width, len(self._rows)))

    def _grow_width(self) -> None:
        self._width_pending = False
        if self._max_width > self.virtual_size.width:
            self._update_size()

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
        if not 0 <= index < len(self._rows):
            return Strip.blank(width, base)
        line = self._rows[index]
        is_cursor = index == self.cursor_line
        is_hover = index == self.hover_line
        key = (line, line.expanded, line.node in self._pending, line.node in self._fetching,
               is_cursor and self._paint_focus, is_cursor, is_hover, scroll_x, width, fit_width)
        cached = self._strips.get(key)
        if cached is not None:
            return cached
        segments, cells, wanted = self._draw.row(line, self._marker(line), self._note(line),
                                                 scroll_x, fit_width)
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
