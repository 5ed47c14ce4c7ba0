"""One dependencies-tree node as a line of styled text, for the TUI and `--print` alike."""

from __future__ import annotations

from rich.text import Span, Text

from .dependencies import CYCLE, MISSING, MORE, TRACE, DepNode
from .format import duration, safe_text, short_id
from .glyphs import Glyphs

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


def label_parts(node: DepNode, g: Glyphs, styles: dict[str, str] | None = None,
                out: Parts | None = None) -> Parts:
    """The pieces of a node's label, appended to `out` (a new list when None)."""
    st = styles or DEFAULT_STYLES
    t: Parts = [] if out is None else out
    add = t.append
    kind = node.kind
    if kind == MORE:
        add((f"{g.more} {node.operation}", st["dim"]))
        return t
    if kind == MISSING:
        tid, sid = node.trace_ids[0], node.span_ids[0]
        add((f"{g.missing} span not loaded ", st["missing"]))
        add((f"trace {short_id(tid, ellipsis=g.ellipsis)} span {sid}", st["missing"]))
        if node.count > 1:
            add((f"  {g.times}{node.count}", st["count"]))
        return t
    if kind == TRACE:
        add((f"{g.trace} trace {short_id(node.trace_ids[0], ellipsis=g.ellipsis)}  ", st["glyph"]))
        add((safe_text(node.service), st["service"]))
        add((g.sep, ""))
        add((safe_text(node.operation), st["operation"]))
        add((f"  {duration(node.duration_ns, g.micro)}", st["duration"]))
        if node.errors:
            add((f"  {g.error}{node.errors}", st["error"]))
        return t

    double = node.async_trace
    if double:
        add((g.async_open, st["async"]))
    add((g.shape.get(node.shape or "generic", "?") + " ", st["glyph"]))
    add((safe_text(node.service), st["service"]))
    add((g.sep, ""))
    add((safe_text(node.operation), st["operation"]))
    group = node.group_label
    if group is not None:
        add((f" [{safe_text(group)}]", st["dim"]))
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
        add((f"  lag {prefix}{duration(lag, g.micro)}", st["lag"]))
    if kind == CYCLE:
        add((f"  {g.cycle} cycle", st["dim"]))
    if node.is_focus:
        add((f"  {g.focus}", st["focus"]))
    return t
