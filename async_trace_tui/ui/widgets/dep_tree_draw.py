"""Drawing a row of the dependencies tree: the connector (`lead`), the expand marker and the
node's label fitted to the cells left, as segments in the tree's component styles.

Rows draw exactly what `--print` draws (the same connector pieces and node labels), with an
expand marker between the connector and the label. A node's label pieces are made once, and
its label at each width once, for every row and repaint that shows it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

from rich.cells import cell_len
from rich.console import Console
from rich.segment import Segment
from rich.style import Style

from ...views.dependencies import CYCLE, MISSING, MORE, ROOT, SPAN, SYNC, TRACE, DepNode
from ...views.glyphs import ASCII, Glyphs
from ...views.labels import DEFAULT_STYLES, Parts, fit_parts, label_parts, styled
from ...views.render_text import elide_prefix
from ...views.tree_rows import Row
from .line_list import foreground
from .paint import text_segments

FETCHING = {False: "  fetching…", True: "  fetching..."}

# Expand markers (the legend glyphs have none): expanded, collapsed, leaf, on its way.
MARKERS = {False: ("▾", "▸", " ", "⋯"), True: ("[-]", "[+]", "   ", "[.]")}

# Cells of a label a row keeps when the tree is too narrow for its connector columns (a
# deep row): the tree scrolls sideways that far.
MIN_LABEL = 30


class _Parts(NamedTuple):
    """A node's label as pieces, made once, fitted to each width it is drawn at."""

    parts: Parts
    names: list[int]  # the pieces that may be shortened
    cells: int
    op: int  # the piece of the operation name, or -1


class Label(NamedTuple):
    """A node's label fitted to a width, rendered once for every row and repaint that
    shows it."""

    segments: list[Segment]
    cells: int
    op: tuple[int, int] | None  # the cells of the operation name: a click opens the trace
    plain: str


class RowDrawer:
    """Draws rows in the styles `style_of(component)` gives (`dep-tree--*` components) on
    `console_of()`'s console; keeps each node's label pieces and fitted labels."""

    def __init__(self, glyphs: Glyphs, style_of: Callable[[str], Style],
                 console_of: Callable[[], Console]) -> None:
        self.glyphs = glyphs
        self._markers = MARKERS[glyphs is ASCII]
        self._style_of = style_of
        self._console_of = console_of
        self._styles: dict[str, Style] | None = None
        self._parts: dict[int, tuple[DepNode, _Parts]] = {}  # id -> (node, its label)
        # (id, cells) -> (node, its label in that many cells)
        self._labels: dict[tuple[int, int], tuple[DepNode, Label]] = {}

    def clear(self) -> None:
        """Forget the labels made (the nodes or their options changed)."""
        self._labels.clear()
        self._parts.clear()

    def restyle(self) -> bool:
        """Look the styles up again; forget the labels if they changed (True)."""
        old, self._styles = self._styles, None
        if old is None or self.styles() != old:
            self.clear()
            return True
        return False

    def styles(self) -> dict[str, Style]:
        if self._styles is None:
            get = self._style_of
            # Full styles (their colours blended as Textual paints them: `$foreground-muted`
            # has an alpha), without the background, so that a row's background shows.
            self._styles = {key: foreground(get(f"dep-tree--{key}"))
                            for key in (*DEFAULT_STYLES, "guide", "marker")}
        return self._styles

    def label_parts(self, node: DepNode) -> _Parts:
        hit = self._parts.get(id(node))
        if hit is not None and hit[0] is node:
            return hit[1]
        names: list[int] = []
        parts = label_parts(node, self.glyphs, self.styles(), names=names)  # type: ignore[arg-type]
        # The operation name is a link: a click opens the trace.
        op = names[1] if node.kind in (SPAN, CYCLE, TRACE) and len(names) > 1 else -1
        made = _Parts(parts, names, sum(cell_len(piece) for piece, _ in parts), op)
        if len(self._parts) > 4096:
            self._parts.clear()
        self._parts[id(node)] = (node, made)
        return made

    def label(self, node: DepNode, room: int) -> Label:
        """The node's label in at most `room` cells (its names shortened first)."""
        full = self.label_parts(node)
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
        label = Label(text_segments(text, self._console_of()), text.cell_len, op, text.plain)
        if len(self._labels) > 4096:
            self._labels.clear()
        self._labels[(id(node), room)] = (node, label)
        return label

    @staticmethod
    def room(lead: str, marker: str, scroll_x: int, width: int) -> int:
        """Cells left for the label of a row with this connector and marker."""
        return max(0, scroll_x + width - cell_len(lead) - cell_len(marker) - 1)

    def lead(self, line: Row) -> str:
        """The connector columns and edge piece drawn before a row's marker."""
        if not line.depth:
            return ""
        g = self.glyphs
        return elide_prefix(line.prefix, line.depth, g) + (g.last if line.last else g.branch) \
            + g.edge[line.node.edge]

    def marker(self, line: Row, busy: bool,
               needs_fetch: Callable[[DepNode], bool] | None) -> str:
        """The expand marker of a row; `busy`: its rows are on their way."""
        node = line.node
        if line.expanded:
            return self._markers[0]
        if busy:
            return self._markers[3]
        if node.kind == MORE or (node.kind not in (MISSING, CYCLE) and node.expandable):
            return self._markers[1]
        if needs_fetch is not None and needs_fetch(node):
            return self._markers[1]  # what it leads to is not fetched yet: maybe something
        return self._markers[2]

    def note(self, fetching: bool) -> str:
        """What follows a row's label: `fetching…` while its trace comes from a store."""
        return FETCHING[self.glyphs is ASCII] if fetching else ""

    def fitted(self, line: Row, lead: str, marker: str, note: str, scroll_x: int,
               width: int) -> Label:
        """The row's label as it fits `width` cells seen from `scroll_x`."""
        return self.label(line.node, self.room(lead, marker, scroll_x, width) - cell_len(note))

    def row(self, line: Row, marker: str, note: str, scroll_x: int,
            width: int) -> tuple[list[Segment], int, int]:
        """A row's segments (connector, marker, label) fitted to `width` cells seen from
        `scroll_x`, their width in cells, and the width the row would like (the widest a
        row makes the tree scroll sideways)."""
        st = self.styles()
        lead = self.lead(line)
        label = self.fitted(line, lead, marker, note, scroll_x, width)
        segments = [Segment(lead, st["guide"] if line.node.edge in (SYNC, ROOT) else st["async"]),
                    Segment(marker, st["marker"]), Segment(" "), *label.segments]
        before = cell_len(lead) + cell_len(marker) + 1
        cells = before + label.cells
        if note:
            segments.append(Segment(note, st["dim"]))
            cells += cell_len(note)
        wanted = before + min(MIN_LABEL, self.label_parts(line.node).cells) + cell_len(note)
        return segments, cells, wanted
