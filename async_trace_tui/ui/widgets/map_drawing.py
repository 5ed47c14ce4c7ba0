"""The small drawing of the service map (views.map_layout), styled by each cell's tag."""

from __future__ import annotations

from rich.segment import Segment
from rich.style import Style
from textual.strip import Strip
from textual.widget import Widget

from ...views.map_layout import ASYNC, BOX, ERROR, LABEL, NAME, SYNC, MapDrawing
from .line_list import foreground


class MapDrawingView(Widget):
    """Draws only the lines asked for; the drawing is small (the pane shows it when it fits)."""

    COMPONENT_CLASSES = {"map-drawing--box", "map-drawing--name", "map-drawing--sync",
                         "map-drawing--async", "map-drawing--label", "map-drawing--error"}

    DEFAULT_CSS = """
    MapDrawingView { height: auto; background: $surface; }
    MapDrawingView > .map-drawing--box { color: $foreground-muted; }
    MapDrawingView > .map-drawing--name { color: $text-secondary; text-style: bold; }
    MapDrawingView > .map-drawing--sync { color: $foreground; }
    MapDrawingView > .map-drawing--async { color: $text-warning; }
    MapDrawingView > .map-drawing--label { color: $text-muted; }
    MapDrawingView > .map-drawing--error { color: $text-error; text-style: bold; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.drawing: MapDrawing | None = None
        self._styles: dict[str, Style] | None = None

    def set_drawing(self, drawing: MapDrawing | None) -> None:
        self.drawing = drawing
        self.refresh(layout=True)

    def get_content_height(self, container, viewport, width: int) -> int:  # type: ignore[no-untyped-def]
        return self.drawing.height if self.drawing is not None else 0

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._styles = None

    def _style(self, tag: str) -> Style:
        if self._styles is None:
            get = self.get_component_rich_style
            self._styles = {t: foreground(get(f"map-drawing--{t}"))
                            for t in (BOX, NAME, SYNC, ASYNC, LABEL, ERROR)}
        return self._styles.get(tag, Style())

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        base = self.rich_style
        d = self.drawing
        if d is None or y >= d.height:
            return Strip.blank(width, base)
        segs = [Segment(text, base + self._style(tag) if tag else base) for text, tag in d.rows[y]]
        return Strip(segs, d.width).crop_extend(0, width, base)
