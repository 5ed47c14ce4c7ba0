"""One dependencies-tree node as a line of styled text, for the TUI and `--print` alike."""

from __future__ import annotations

from rich.cells import cell_len, set_cell_size
from rich.text import Span, Text

from .dependencies import CYCLE, MISSING, MORE, TRACE, DepNode
from .format import duration, safe_text
from .glyphs import Glyphs
from .short_ids import short_trace_id

# Semantic style names -> Rich styles. The TUI passes its theme's colours instead.
DEFAULT_STYLES = {
    "glyph": "bold",
    "service": "cyan",
    "operation": "bold",
    "duration": "",
    "count": "magenta",
    "error": "bold red",
    "lag": "yellow",
    "dim": "dim",
    "focus": "reverse bold",
    "missing": "dim italic",
    "async": "yellow",
}


Parts = list[tuple[str, str]]  # (text, style name or "") pieces of one line


def styled(parts: Parts) -> Text:
    """One Text of `parts`, made at once: Text.append per piece costs ~5x more (each
    append strips control codes and measures again; the pieces are already safe)."""
    spans = []
    at = 0
    for piece, style in parts:
        end = at + len(piece)
        if style and end > at:
            spans.append(Span(at, end, style))
        at = end
    return Text(plain(parts), no_wrap=True, overflow="ellipsis", spans=spans)


def plain(parts: Parts) -> str:
    """The text of `parts`, without styles."""
    return "".join(piece for piece, _ in parts)


def node_label(node: DepNode, g: Glyphs, styles: dict[str, str] | None = None) -> Text:
    return styled(label_parts(node, g, styles))


MIN_NAME = 4  # cells a shortened name keeps, its ellipsis included


def fit_parts(parts: Parts, names: list[int], width: int, ellipsis: str = "…") -> Parts:
    """`parts` in at most `width` cells (SPEC §3: cut with an ellipsis, never in the middle
    of a number and its unit). The names (the pieces at the indices `names`: service,
    operation, group value) are shortened first, the longest first, each ending in
    `ellipsis`; the other pieces (durations, counts, lags, marks) are never cut inside: if
    the names cannot keep MIN_NAME cells each, whole pieces are left off the line's end
    (as few as that takes, never a name) and an ellipsis ends it, the names having the
    room those pieces left."""
    sizes = [cell_len(piece) for piece, _ in parts]
    total = sum(sizes)
    if total <= width:
        return parts
    long = sorted((i for i in names if sizes[i] > MIN_NAME), key=sizes.__getitem__)
    fixed = total - sum(sizes[i] for i in long)
    if long and width - fixed >= MIN_NAME * len(long):
        return _shorten(parts, sizes, long, width - fixed, ellipsis)
    if long:
        room = width - cell_len(ellipsis)
        end = len(parts)
        while end - 1 > max(names):
            end -= 1
            fixed -= sizes[end]
            if room - fixed >= MIN_NAME * len(long):
                out = _shorten(parts[:end], sizes, long, room - fixed, ellipsis)
                if not out[-1][0].endswith(ellipsis):
                    out.append((ellipsis, ""))
                return out
    out = list(parts)
    for i in long:
        out[i] = (_cut(parts[i][0], MIN_NAME, ellipsis), parts[i][1])
    keep: Parts = []
    used = 0
    room = width - cell_len(ellipsis)
    for piece, style in out:
        n = cell_len(piece)
        if used + n > room:
            break
        keep.append((piece, style))
        used += n
    if room < 0:
        return [(set_cell_size(ellipsis, max(0, width)), "")]
    if not (keep and keep[-1][0].endswith(ellipsis)):
        keep.append((ellipsis, ""))
    return keep


def _shorten(parts: Parts, sizes: list[int], long: list[int], room: int, ellipsis: str) -> Parts:
    """`parts` with the names at `long` (by size, each over MIN_NAME cells) shortened to
    `room` cells between them: the largest cap that fits, names shorter than it whole."""
    out = list(parts)
    left, cap, extra = room, 0, 0
    for k, i in enumerate(long):
        if sizes[i] * (len(long) - k) <= left:
            left -= sizes[i]
            continue
        cap, extra = divmod(left, len(long) - k)
        break
    else:
        return out  # (every name fits whole)
    for k, i in enumerate(j for j in long if sizes[j] > cap):
        cells = cap + (1 if k < extra else 0)
        if cells < sizes[i]:
            out[i] = (_cut(parts[i][0], cells, ellipsis), parts[i][1])
    return out


def _cut(text: str, cells: int, ellipsis: str) -> str:
    """`text` in `cells` cells, its last ones an ellipsis."""
    return set_cell_size(text, max(0, cells - cell_len(ellipsis))) + ellipsis


def label_parts(node: DepNode, g: Glyphs, styles: dict[str, str] | None = None,
                out: Parts | None = None, names: list[int] | None = None) -> Parts:
    """The pieces of a node's label, appended to `out` (a new list when None). The indices
    (in `out`) of the pieces that are names, and so may be shortened (`fit_parts`), are
    appended to `names`."""
    st = styles or DEFAULT_STYLES
    t: Parts = [] if out is None else out
    add = t.append
    if names is None:
        names = []

    def name(piece: str, style: str) -> None:
        names.append(len(t))
        add((piece, style))

    kind = node.kind
    if kind == MORE:
        add((f"{g.more} {node.operation}", st["dim"]))
        return t
    if kind == MISSING:
        tid, sid = node.trace_ids[0], node.span_ids[0]
        add((f"{g.missing} span not loaded ", st["missing"]))
        tid = short_trace_id(node.view.index, tid, g.ellipsis)
        add((f"trace {tid} span {sid}", st["missing"]))
        if node.count > 1:
            add((f"  {g.times}{node.count}", st["count"]))
        return t
    if kind == TRACE:
        tid = short_trace_id(node.view.index, node.trace_ids[0], g.ellipsis)
        add((f"{g.trace} trace {tid}  ", st["glyph"]))
        name(safe_text(node.service), st["service"])
        add((g.sep, ""))
        name(safe_text(node.operation), st["operation"])
        add((f"  {duration(node.duration_ns, g.micro)}", st["duration"]))
        if node.errors:
            add((f"  {g.error}{node.errors}", st["error"]))
        return t

    double = node.async_trace
    if double:
        add((g.async_open, st["async"]))
    add((g.shape.get(node.shape or "generic", "?") + " ", st["glyph"]))
    name(safe_text(node.service), st["service"])
    add((g.sep, ""))
    name(safe_text(node.operation), st["operation"])
    group = node.group_label
    if group is not None:
        name(f" [{safe_text(group)}]", st["dim"])
    if double:
        add((g.async_close, st["async"]))
    count = node.count
    prefix = f"{node.view.options.agg} " if count > 1 else ""
    add((f"  {prefix}{duration(node.duration_ns, g.micro)}", st["duration"]))
    if count > 1:
        add((f"  {g.times}{count}", st["count"]))
    if node.errors:
        add((f"  {g.error}" + (str(node.errors) if count > 1 else ""), st["error"]))
    lag = node.lag_ns
    if lag is not None:
        add((f"  {lag_text(lag, prefix, g.micro)}", st["lag"]))
    if kind == CYCLE:
        add((f"  {g.cycle} cycle", st["dim"]))
    if node.is_focus:
        add((f"  {g.focus}", st["focus"]))
    return t


def lag_text(lag: int, prefix: str = "", micro: str = "µs") -> str:
    """`lag 2.1 s`; a negative lag (the effect started before its cause ended) reads
    `overlap 25.6 ms` (SPEC §3)."""
    if lag < 0:
        return f"overlap {prefix}{duration(-lag, micro)}"
    return f"lag {prefix}{duration(lag, micro)}"
