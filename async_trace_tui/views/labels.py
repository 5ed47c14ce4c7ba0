"""One dependencies-tree node as a line of styled text, for the TUI and `--print` alike."""

from __future__ import annotations

from rich.text import Text

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


def node_label(node: DepNode, g: Glyphs, styles: dict[str, str] | None = None) -> Text:
    st = styles or DEFAULT_STYLES
    t = Text(no_wrap=True, overflow="ellipsis")
    kind = node.kind
    if kind == MORE:
        t.append(f"{g.more} {node.operation}", st["dim"])
        return t
    if kind == MISSING:
        tid, sid = node.trace_ids[0], node.span_ids[0]
        t.append(f"{g.missing} span not loaded ", st["missing"])
        t.append(f"trace {short_id(tid, ellipsis=g.ellipsis)} span {sid}", st["missing"])
        if node.count > 1:
            t.append(f"  {g.times}{node.count}", st["count"])
        return t
    if kind == TRACE:
        t.append(f"{g.trace} trace {short_id(node.trace_ids[0], ellipsis=g.ellipsis)}  ", st["glyph"])
        t.append(safe_text(node.service), st["service"])
        t.append(g.sep)
        t.append(safe_text(node.operation), st["operation"])
        t.append(f"  {duration(node.duration_ns, g.micro)}", st["duration"])
        if node.errors:
            t.append(f"  {g.error}{node.errors}", st["error"])
        return t

    double = node.async_trace
    if double:
        t.append(g.async_open, st["async"])
    t.append(g.shape.get(node.shape or "generic", "?") + " ", st["glyph"])
    t.append(safe_text(node.service), st["service"])
    t.append(g.sep)
    t.append(safe_text(node.operation), st["operation"])
    group = node.group_label
    if group is not None:
        t.append(f" [{safe_text(group)}]", st["dim"])
    if double:
        t.append(g.async_close, st["async"])
    agg = node.view.options.agg
    prefix = f"{agg} " if node.count > 1 else ""
    t.append(f"  {prefix}{duration(node.duration_ns, g.micro)}", st["duration"])
    if node.count > 1:
        t.append(f"  {g.times}{node.count}", st["count"])
    if node.errors:
        t.append(f"  {g.error}" + (str(node.errors) if node.count > 1 else ""), st["error"])
    lag = node.lag_ns
    if lag is not None:
        t.append(f"  lag {prefix}{duration(lag, g.micro)}", st["lag"])
    if kind == CYCLE:
        t.append(f"  {g.cycle} cycle", st["dim"])
    if node.is_focus:
        t.append(f"  {g.focus}", st["focus"])
    return t
