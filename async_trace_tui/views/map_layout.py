"""A small drawing of the service map: services as boxes in columns by call depth, edges
routed between them, solid for sync and dotted for async, labelled with their count (and,
async, their p95 lag).

Layout: column k holds the services at call depth k (`service_map.layers`), each column
ordered by where its callers sit. Every edge leaves its source box on a row of its own on
the right side and enters its target on a row of its own on the left, with an arrowhead.
Between two columns is a gap: the labels of the edges leaving the left column, then one
vertical channel per edge that turns there. An edge to the next column turns once in that
gap; any other (longer, backwards, within a column) goes down its source's gap to a lane of
its own below all the boxes, along it to the gap left of its target, and up. An edge to a
service's own group is a line inside the box. Nothing here knows about Textual: the widget
styles the cells by the tag each carries.
"""

from __future__ import annotations

from rich.cells import cell_len

from .format import safe_text
from .render_map import lag_text
from .service_map import MapEdge, ServiceMap, layers

# Cell tags the widget styles.
BOX, NAME, SYNC, ASYNC, LABEL, ERROR = "box", "name", "sync", "async", "label", "error"

UNICODE_LINES = {
    "box": "┌┐└┘─│",
    SYNC: {"h": "─", "v": "│", "corners": "┐┘┌└", "arrow": "▶", "cross": "┼"},
    ASYNC: {"h": "┄", "v": "┆", "corners": "╮╯╭╰", "arrow": "▶", "cross": "┼"},
    "self": "⇢",
}
ASCII_LINES = {
    "box": "++++-|",
    SYNC: {"h": "-", "v": "|", "corners": "++++", "arrow": ">", "cross": "+"},
    ASYNC: {"h": ".", "v": ":", "corners": "++++", "arrow": ">", "cross": "+"},
    "self": ".>",
}

Run = tuple[str, str]  # (text, tag)


def edge_label(edge: MapEdge, micro: str = "µs") -> str:
    """`×5` for a sync edge, `×5 p95 6.33 s` (the p95 lag) for an async one."""
    if edge.is_async and edge.lag_p95 is not None:
        return f"×{edge.count:,} p95 {lag_text(edge.lag_p95, micro)}"
    return f"×{edge.count:,}"


class _Box:
    __slots__ = ("name", "layer", "x", "y", "w", "h", "outs", "ins", "selfs", "errors")

    def __init__(self, name: str, layer: int) -> None:
        self.name = name
        self.layer = layer
        self.x = self.y = self.w = self.h = 0
        self.outs: list[MapEdge] = []
        self.ins: list[MapEdge] = []
        self.selfs: list[MapEdge] = []
        self.errors = False


def _mean_caller(b: _Box, edges: list[MapEdge], pos: dict[str, int]) -> tuple[float, str]:
    callers = [pos[e.source] for e in edges if e.target == b.name and e.source in pos]
    return (sum(callers) / len(callers) if callers else 1e9, b.name)


class MapDrawing:
    """The drawing as rows of (text, tag) runs, and its size in cells."""

    __slots__ = ("rows", "width", "height")

    def __init__(self, rows: list[list[Run]], width: int) -> None:
        self.rows = rows
        self.width = width
        self.height = len(rows)

    def plain(self) -> list[str]:
        return ["".join(t for t, _ in row).rstrip() for row in self.rows]


def draw_map(service_map: ServiceMap, ascii_only: bool = False,
             max_services: int = 40) -> MapDrawing | None:
    """The drawing of the whole map, or None when it has no service or too many to draw."""
    services = service_map.services
    if not services or len(services) > max_services:
        return None
    lines = ASCII_LINES if ascii_only else UNICODE_LINES
    micro = "us" if ascii_only else "µs"
    times = "x" if ascii_only else "×"
    depth = layers(service_map)
    boxes = {s.name: _Box(s.name, depth.get(s.name, 0)) for s in services}
    for s in services:
        boxes[s.name].errors = s.errors > 0
    ncols = max(b.layer for b in boxes.values()) + 1
    columns: list[list[_Box]] = [[] for _ in range(ncols)]
    for b in sorted(boxes.values(), key=lambda b: b.name):
        columns[b.layer].append(b)
    edges = [e for e in service_map.edges if e.source in boxes and e.target in boxes]
    for e in edges:
        if e.source == e.target:
            boxes[e.source].selfs.append(e)
    # Each column by the mean position of its callers in the columns before (fewer crossings).
    for k in range(1, ncols):
        pos = {b.name: i for col in columns[:k] for i, b in enumerate(col)}
        columns[k].sort(key=lambda b, pos=pos: _mean_caller(b, edges, pos))
    order = {b.name: (b.layer, i) for col in columns for i, b in enumerate(col)}
    drawn = [e for e in edges if e.source != e.target]
    drawn.sort(key=lambda e: (order[e.source], order[e.target], e.kind))
    for e in drawn:
        boxes[e.source].outs.append(e)
    for e in sorted(drawn, key=lambda e: (order[e.source], e.kind)):
        boxes[e.target].ins.append(e)
    labels = {id(e): edge_label(e, micro).replace("×", times) for e in drawn}
    self_texts = {b.name: [f"{lines['self']} itself {edge_label(e, micro).replace('×', times)}"
                           for e in b.selfs] for b in boxes.values()}

    # Sizes and rows.
    for b in boxes.values():
        inner = [safe_text(b.name), *self_texts[b.name]]
        b.w = max(cell_len(t) for t in inner) + 4
        b.h = max(len(inner), len(b.outs), len(b.ins), 1) + 2
    heights = []
    for col in columns:
        y = 0
        for b in col:
            b.y = y
            y += b.h + 1
        heights.append(y - 1)
    adjacent = [e for e in drawn if boxes[e.target].layer == boxes[e.source].layer + 1]
    long = [e for e in drawn if boxes[e.target].layer != boxes[e.source].layer + 1]
    # Channels per gap (gap g lies right of column g; gap -1 is the left margin).
    channels: dict[int, list[tuple[int, str]]] = {g: [] for g in range(-1, ncols)}
    for e in adjacent:
        channels[boxes[e.source].layer].append((id(e), "both"))
    for e in long:
        channels[boxes[e.source].layer].append((id(e), "out"))
        channels[boxes[e.target].layer - 1].append((id(e), "in"))
    label_w = [max([cell_len(labels[id(e)]) for b in col for e in b.outs] + [0]) for col in columns]
    col_w = [max(b.w for b in col) for col in columns]
    gap_w = {}
    for g in range(-1, ncols):
        lw = label_w[g] + 2 if g >= 0 and label_w[g] else 0
        gap_w[g] = lw + 2 * len(channels[g]) + 2 if channels[g] or lw else 1
    x = gap_w[-1]
    chan_x: dict[tuple[int, int], int] = {}  # (edge id, gap) -> x
    for g in range(-1, ncols):
        if g >= 0:
            for b in columns[g]:
                b.x = x
            x += col_w[g]
        start = x + (label_w[g] + 2 if g >= 0 and label_w[g] else 0) + 1
        for i, (eid, _what) in enumerate(channels[g]):
            chan_x[(eid, g)] = start + 2 * i
        if g >= 0:
            x += gap_w[g]
    width = x
    lane0 = max(heights) + 1
    height = lane0 + len(long)

    grid = [[" "] * width for _ in range(height)]
    tags = [[""] * width for _ in range(height)]

    def put(cx: int, cy: int, ch: str, tag: str) -> None:
        if 0 <= cy < height and 0 <= cx < width:
            grid[cy][cx] = ch
            tags[cy][cx] = tag

    def text_at(cx: int, cy: int, text: str, tag: str) -> None:
        """Text from cell cx on; a double-width character fills its second cell with ""."""
        for ch in text:
            put(cx, cy, ch, tag)
            if cell_len(ch) == 2:
                put(cx + 1, cy, "", tag)
            cx += cell_len(ch)

    def hline(x0: int, x1: int, cy: int, kind: str) -> None:
        st = lines[kind]
        for cx in range(min(x0, x1), max(x0, x1) + 1):
            if grid[cy][cx] in (lines[SYNC]["v"], lines[ASYNC]["v"]):
                put(cx, cy, st["cross"], kind)
            elif grid[cy][cx] == " ":
                put(cx, cy, st["h"], kind)

    def vline(cx: int, y0: int, y1: int, kind: str) -> None:
        st = lines[kind]
        for cy in range(min(y0, y1), max(y0, y1) + 1):
            if grid[cy][cx] in (lines[SYNC]["h"], lines[ASYNC]["h"]):
                put(cx, cy, st["cross"], kind)
            elif grid[cy][cx] == " ":
                put(cx, cy, st["v"], kind)

    def corner(cx: int, cy: int, kind: str, which: int) -> None:
        put(cx, cy, lines[kind]["corners"][which], kind)  # ┐ ┘ ┌ └

    # Boxes.
    tl, tr, bl, br, h, v = lines["box"]
    for b in boxes.values():
        put(b.x, b.y, tl, BOX)
        put(b.x + b.w - 1, b.y, tr, BOX)
        put(b.x, b.y + b.h - 1, bl, BOX)
        put(b.x + b.w - 1, b.y + b.h - 1, br, BOX)
        for cx in range(b.x + 1, b.x + b.w - 1):
            put(cx, b.y, h, BOX)
            put(cx, b.y + b.h - 1, h, BOX)
        for cy in range(b.y + 1, b.y + b.h - 1):
            put(b.x, cy, v, BOX)
            put(b.x + b.w - 1, cy, v, BOX)
            for cx in range(b.x + 1, b.x + b.w - 1):
                put(cx, cy, " ", BOX)
        text_at(b.x + 2, b.y + 1, safe_text(b.name), ERROR if b.errors else NAME)
        for j, text in enumerate(self_texts[b.name]):
            text_at(b.x + 2, b.y + 2 + j, text, ASYNC)

    # Edges: verticals first, so horizontals crossing them draw a crossing.
    out_row = {id(e): boxes[e.source].y + 1 + i
               for b in boxes.values() for i, e in enumerate(b.outs)}
    in_row = {id(e): boxes[e.target].y + 1 + i
              for b in boxes.values() for i, e in enumerate(b.ins)}
    lane = {id(e): lane0 + i for i, e in enumerate(long)}
    paths = []
    for e in drawn:
        s, t = boxes[e.source], boxes[e.target]
        ys, yt = out_row[id(e)], in_row[id(e)]
        if id(e) in lane:
            c1, c2 = chan_x[(id(e), s.layer)], chan_x[(id(e), t.layer - 1)]
            yl = lane[id(e)]
            vline(c1, ys, yl, e.kind)
            vline(c2, yl, yt, e.kind)
            paths.append((e, s, t, ys, yt, c1, c2, yl))
        else:
            c = chan_x[(id(e), s.layer)]
            vline(c, ys, yt, e.kind)
            paths.append((e, s, t, ys, yt, c, c, None))
    for e, s, t, ys, yt, c1, c2, yl in paths:
        k = e.kind
        hline(s.x + s.w, c1 - 1, ys, k)
        hline(c2 + 1, t.x - 2, yt, k)
        put(t.x - 1, yt, lines[k]["arrow"], k)
        if yl is None:
            if ys == yt:
                put(c1, ys, lines[k]["h"], k)
            else:
                corner(c1, ys, k, 0 if yt > ys else 1)
                corner(c1, yt, k, 3 if yt > ys else 2)
        else:
            hline(min(c1, c2) + 1, max(c1, c2) - 1, yl, k)
            corner(c1, ys, k, 0)
            corner(c1, yl, k, 1 if c2 < c1 else 3)
            corner(c2, yl, k, 3 if c2 < c1 else 1)
            corner(c2, yt, k, 2)
            if c1 == c2:
                put(c1, yl, lines[k]["v"], k)
        text_at(s.x + col_w[s.layer] + 1, ys, labels[id(e)], LABEL)

    rows = []
    for cy in range(height):
        runs: list[Run] = []
        for ch, tag in zip(grid[cy], tags[cy], strict=True):
            if runs and runs[-1][1] == tag:
                runs[-1] = (runs[-1][0] + ch, tag)
            else:
                runs.append((ch, tag))
        rows.append(runs)
    return MapDrawing(rows, width)

