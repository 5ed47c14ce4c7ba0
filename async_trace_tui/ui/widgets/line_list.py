"""A cursor list on Textual's Line API: a sticky header line and rows rendered on demand.

`ScrollView.render_line(y)` is asked only for the lines on screen, so the cost of a key
press does not depend on how many rows there are (DataTable measures every row up front,
about 8 s at 100,000 rows). Subclasses say how many rows there are and how to draw one.
"""

from __future__ import annotations

from typing import ClassVar

from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding
from textual.geometry import Size
from textual.reactive import reactive
from textual.strip import Strip

from .paint import SteadyScrollView, set_virtual_size


def fit(text: str, width: int, right: bool = False) -> str:
    """`text` in exactly `width` cells: padded, or cut with an ellipsis."""
    if width <= 0:
        return ""
    n = cell_len(text)
    if n == width:
        return text
    if n < width:
        pad = " " * (width - n)
        return pad + text if right else text + pad
    return set_cell_size(text, width - 1) + "…"


def foreground(style: Style) -> Style:
    """The colour and text attributes of a component style, without its background (the
    full component style has alpha colours blended; the partial one drops the alpha)."""
    return Style(color=style.color, bold=style.bold, dim=style.dim, italic=style.italic,
                 underline=style.underline, strike=style.strike, reverse=style.reverse)


class LineList(SteadyScrollView, can_focus=True):
    """Rows with a cursor; subclasses implement `row_count`, `render_row`, `render_header`."""

    BINDINGS = [
        Binding("up,k", "cursor_up", "Up", show=False),
        Binding("down,j", "cursor_down", "Down", show=False),
        Binding("pageup", "page_up", "Page up", show=False),
        Binding("pagedown", "page_down", "Page down", show=False),
        Binding("home", "first", "First", show=False),
        Binding("end", "last", "Last", show=False),
    ]

    HEADER_HEIGHT = 1
    # What `named_style(name)` serves: name -> (component class, True for its colour and
    # text attributes only: see `foreground`). Subclasses list their COMPONENT_CLASSES here.
    NAMED_STYLES: ClassVar[dict[str, tuple[str, bool]]] = {}
    # A double click chooses a row; Textual's select-all-text of the widget means nothing
    # for rows drawn on demand.
    ALLOW_SELECT = False

    # No repaint on change: watch_cursor refreshes just the two lines involved.
    cursor: reactive[int] = reactive(0, init=False, repaint=False)

    def __init__(self, *, name: str | None = None, id: str | None = None,
                 classes: str | None = None) -> None:
        super().__init__(name=name, id=id, classes=classes)
        # (row, 0 plain / 1 blurred cursor / 2 focused cursor) -> strip; cleared when the
        # rows change
        self._strip_cache: dict[tuple[int, int], Strip] = {}
        self._cache_width = -1
        self._base: Style | None = None
        self._named: dict[str, Style] | None = None

    # -- what subclasses provide ---------------------------------------------------------

    @property
    def row_count(self) -> int:
        raise NotImplementedError

    def content_width(self, width: int) -> int:
        """How wide the rows are drawn for a widget `width` cells wide (more: scroll)."""
        return width

    def render_row(self, index: int, width: int, selected: bool) -> list[Segment]:
        """Segments of exactly `width` cells."""
        raise NotImplementedError

    def render_header(self, width: int) -> list[Segment]:
        """Segments of exactly `width` cells."""
        return [Segment(" " * width, self.base_style)]

    def empty_message(self) -> str:
        return ""

    # -- sizes and scrolling --------------------------------------------------------------

    @property
    def page_height(self) -> int:
        return max(1, self.scrollable_content_region.height - self.HEADER_HEIGHT)

    def refresh_rows(self, keep_cursor: bool = True) -> None:
        """The rows changed: clear caches, resize, clamp the cursor, redraw."""
        self._strip_cache.clear()
        width = self.content_width(self.scrollable_content_region.width)
        set_virtual_size(self, Size(width, self.row_count + self.HEADER_HEIGHT))
        n = self.row_count
        cursor = min(self.cursor, n - 1) if keep_cursor else 0
        self.set_reactive(LineList.cursor, max(0, cursor))
        self._scroll_cursor_into_view()
        self.refresh()

    def on_resize(self, event: events.Resize) -> None:
        self._strip_cache.clear()
        width = self.content_width(self.scrollable_content_region.width)
        self.virtual_size = Size(width, self.row_count + self.HEADER_HEIGHT)
        self._scroll_cursor_into_view()

    def on_focus(self) -> None:
        self.refresh_line(self.cursor + self.HEADER_HEIGHT)  # the cursor's focus colour

    def on_blur(self) -> None:
        self.refresh_line(self.cursor + self.HEADER_HEIGHT)

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._strip_cache.clear()
        self._base = None
        self._named = None
        self._styles_changed()

    @property
    def base_style(self) -> Style:
        """The widget's own style (`rich_style` is computed afresh on every access)."""
        if self._base is None:
            self._base = self.rich_style
        return self._base

    def _styles_changed(self) -> None:
        """Theme or CSS changed: forget computed styles."""

    def named_style(self, name: str) -> Style:
        """A style of NAMED_STYLES, computed once per theme."""
        if self._named is None:
            get = self.get_component_rich_style
            self._named = {n: foreground(get(c)) if fg else get(c)
                           for n, (c, fg) in self.NAMED_STYLES.items()}
        return self._named[name]

    def _scroll_cursor_into_view(self, center: bool = False) -> None:
        page = self.page_height
        top = round(self.scroll_y)
        c = self.cursor
        if center:
            top = c - page // 2
        elif c < top:
            top = c
        elif c >= top + page:
            top = c - page + 1
        top = max(0, min(top, self.row_count - page))
        if top != round(self.scroll_y):
            self.scroll_to(y=top, animate=False, immediate=True)

    def watch_cursor(self, old: int, new: int) -> None:
        self._scroll_cursor_into_view()
        h = self.HEADER_HEIGHT
        self.refresh_line(old + h)
        self.refresh_line(new + h)
        self.cursor_moved(new)

    def cursor_moved(self, index: int) -> None:
        """Hook for subclasses (e.g. to post a Highlighted message)."""

    def move_cursor(self, index: int, center: bool = False) -> None:
        n = self.row_count
        if not n:
            return
        self.cursor = max(0, min(index, n - 1))
        if center:
            self._scroll_cursor_into_view(center=True)

    # -- actions ------------------------------------------------------------------------

    def action_cursor_up(self) -> None:
        self.move_cursor(self.cursor - 1)

    def action_cursor_down(self) -> None:
        self.move_cursor(self.cursor + 1)

    def action_page_up(self) -> None:
        self.move_cursor(self.cursor - self.page_height)

    def action_page_down(self) -> None:
        self.move_cursor(self.cursor + self.page_height)

    def action_first(self) -> None:
        self.move_cursor(0)

    def action_last(self) -> None:
        self.move_cursor(self.row_count - 1)

    def action_choose(self) -> None:
        """Enter or a double click; subclasses post their own message."""

    # -- mouse --------------------------------------------------------------------------

    def on_click(self, event: events.Click) -> None:
        offset = event.get_content_offset(self)
        if offset is None:
            return
        x, y = offset
        if y < self.HEADER_HEIGHT:
            self.header_clicked(x + round(self.scroll_x))
            return
        index = round(self.scroll_y) + y - self.HEADER_HEIGHT
        if 0 <= index < self.row_count:
            self.move_cursor(index)
            if event.chain >= 2:  # a double click chooses, like enter
                self.action_choose()

    def header_clicked(self, x: int) -> None:
        """A click on the header at virtual column `x`."""

    # -- rendering ----------------------------------------------------------------------

    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        width = self.scrollable_content_region.width
        base = self.base_style
        full = max(self.virtual_size.width, width)
        if full != self._cache_width:
            self._strip_cache.clear()
            self._cache_width = full
        if y < self.HEADER_HEIGHT:
            strip = Strip(self.render_header(full), full) if y == 0 else Strip.blank(full, base)
        else:
            index = scroll_y + y - self.HEADER_HEIGHT
            if index >= self.row_count:
                if index == 0 and self.row_count == 0:
                    msg = self.empty_message()
                    strip = Strip([Segment(fit(" " + msg, full), base + self.dim_style())], full)
                else:
                    strip = Strip.blank(full, base)
            else:
                selected = index == self.cursor
                key = (index, (1 + self.has_focus) if selected else 0)
                strip = self._strip_cache.get(key)
                if strip is None:
                    if len(self._strip_cache) > 2000:
                        self._strip_cache.clear()
                    # render_row's contract: exactly `full` cells (no measuring here)
                    strip = Strip(self.render_row(index, full, selected), full)
                    self._strip_cache[key] = strip
        if scroll_x == 0 and width == full:
            return strip
        return strip.crop_extend(scroll_x, scroll_x + width, base)

    def dim_style(self) -> Style:
        return Style(dim=True)
