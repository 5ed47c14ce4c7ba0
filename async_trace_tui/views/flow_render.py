"""The flow (SPEC §8) as JSON and as lines of styled pieces, shared by `--flow` and the TUI.

Every line is a list of (text, style name) pieces (see labels.Parts): `--flow` prints them
plain or through Rich, the flow tab draws them with its theme's colours. Span text is
escaped with `safe_text` before it gets here.
"""

from __future__ import annotations

from typing import Any

from rich.cells import cell_len, set_cell_size

from ..words import counted
from .flow import QUEUE, Distribution, Flow
from .format import duration, safe_text, short_id
from .glyphs import Glyphs
from .labels import Parts

# Style names used in the pieces (the TUI maps them to its theme; --print to Rich styles).
FLOW_STYLES = {
    "title": "bold",
    "figure": "bold",
    "service": "cyan",
    "operation": "bold",
    "queue": "yellow",
    "bar": "cyan",
    "dim": "dim",
    "error": "bold red",
    "header": "bold underline",
}

_EIGHTHS = " ▏▎▍▌▋▊▉█"


def bar(fraction: float, width: int, ascii: bool, fill: str | None = None) -> str:
    """A horizontal bar of `fraction` of `width` cells, in eighths of a cell (or `#`)."""
    fraction = min(1.0, max(0.0, fraction))
    if ascii or fill is not None:
        cells = round(fraction * width)
        if fraction > 0 and not cells:
            cells = 1
        return (fill or "#") * cells
    eighths = round(fraction * width * 8)
    if fraction > 0 and not eighths:
        eighths = 1
    full, part = divmod(eighths, 8)
    return "█" * full + (_EIGHTHS[part] if part else "")


def percent(part: float, whole: float) -> str:
    if not whole:
        return "0%"
    p = 100 * part / whole
    return f"{p:.0f}%" if p >= 10 or p == 0 else f"{p:.1f}%"


def fit_parts(parts: Parts, width: int, ellipsis: str) -> Parts:
    """`parts` in exactly `width` cells: padded, or cut at the end with `ellipsis`."""
    total = sum(cell_len(t) for t, _ in parts)
    if total <= width:
        return [*parts, (" " * (width - total), "")]
    room = max(0, width - cell_len(ellipsis))
    out: Parts = []
    used = 0
    for text, style in parts:
        n = cell_len(text)
        if used + n > room:
            if room > used:
                out.append((set_cell_size(text, room - used), style))
            break
        out.append((text, style))
        used += n
    out.append((ellipsis, "dim"))
    return out


def _name(index: Any, row: int, g: Glyphs) -> Parts:
    return [(safe_text(index.service(row)), "service"), (g.sep, ""),
            (safe_text(index.name[row]), "operation")]


# -- one flow ----------------------------------------------------------------------------

def flow_json(flow: Flow) -> dict[str, Any]:
    """SPEC §8's `--flow --json` object, keys in the spec's order."""
    idx = flow.index
    s = flow.start
    return {
        "start": {"trace_id": idx.trace_id_of(s).hex(), "span_id": idx.span_id[s].hex()},
        "end_to_end_ns": flow.end_to_end,
        "spans": flow.spans,
        "traces": flow.traces,
        "services": flow.services(),
        "async_hops": flow.async_hops,
        "errors": flow.errors,
        "skew": flow.skew,
        "critical_path": [
            {"kind": seg.kind, "trace_id": idx.trace_id_of(seg.row).hex(),
             "span_id": idx.span_id[seg.row].hex(), "service": idx.service(seg.row),
             "operation": idx.name[seg.row], "duration_ns": seg.duration}
            for seg in flow.segments
        ],
    }


def summary_parts(flow: Flow, g: Glyphs) -> Parts:
    """`end to end 4.12 s · 3 traces · 2 async hops · queue wait 3.68 s (89%)`."""
    sep = g.sep
    traces, hops = flow.traces, flow.async_hops
    wait = flow.queue_wait
    return [
        ("end to end ", ""), (duration(flow.end_to_end, g.micro), "figure"),
        (f"{sep}{counted(traces, 'trace')}", ""),
        (f"{sep}{counted(hops, 'async hop')}", ""),
        (f"{sep}queue wait ", ""), (duration(wait, g.micro), "queue"),
        (f" ({percent(wait, flow.end_to_end)})", "queue"),
    ]


def title_parts(flow: Flow, g: Glyphs) -> Parts:
    idx = flow.index
    s = flow.start
    return [("flow of ", "title"), *_name(idx, s, g),
            (f"  trace {short_id(idx.trace_id_of(s).hex(), ellipsis=g.ellipsis)}"
             f"  span {idx.span_id[s].hex()}", "dim")]


def detail_parts(flow: Flow, g: Glyphs) -> Parts:
    """Spans, services, errors, skew: the rest of the summary."""
    services = flow.services()
    out: Parts = [(f"{counted(flow.spans, 'span')}{g.sep}{counted(len(services), 'service')} (", ""),
                  (", ".join(safe_text(s) for s in services), "service"), (")", "")]
    if flow.errors:
        out.append((f"{g.sep}{counted(flow.errors, 'error')}", "error"))
    else:
        out.append((f"{g.sep}no errors", ""))
    out.append((f"{g.sep}skew {flow.skew}", "error" if flow.skew else ""))
    return out


PATH_BAR = 24


def path_rows(flow: Flow, g: Glyphs, ascii: bool, name_width: int = 44) -> list[Parts]:
    """The critical path as a table: header, then one row per segment (#, segment kind,
    service · operation, duration, share of the end-to-end latency, a bar)."""
    idx = flow.index
    total = flow.end_to_end
    head = f" {'#':>3}  {'segment':<8} {'service · operation'.replace(' · ', g.sep):<{name_width}}" \
           f" {'duration':>9} {'share':>6}  "
    rows: list[Parts] = [[(head, "header")]]
    for i, seg in enumerate(flow.segments, 1):
        queue = seg.kind == QUEUE
        name = _name(idx, seg.row, g)
        if queue:
            name = [("wait for ", "queue"), *name]
        name = fit_parts(name, name_width, g.ellipsis)
        style = "queue" if queue else ""
        row: Parts = [(f" {i:>3}  ", "dim"), (f"{seg.kind:<8} ", style), *name]
        row.append((f" {duration(seg.duration, g.micro):>9}", style))
        row.append((f" {percent(seg.duration, total):>6}  ", style))
        fill = ("." if ascii else "░") if queue else None
        row.append((bar(seg.duration / total if total else 0, PATH_BAR, ascii, fill),
                    "queue" if queue else "bar"))
        rows.append(row)
    return rows


def flow_lines(flow: Flow, g: Glyphs, ascii: bool) -> list[Parts]:
    """What `--flow` prints: the title, the summary, the critical path table."""
    out = [title_parts(flow, g), summary_parts(flow, g), detail_parts(flow, g), []]
    last = flow.end_row
    out.append([("critical path", "header"), (f" ({counted(len(flow.path), 'span')}, ends with ", "dim"),
                *_name(flow.index, last, g), (")", "dim")])
    out.extend(path_rows(flow, g, ascii))
    return out


# -- many flows --------------------------------------------------------------------------

def distribution_json(dist: Distribution) -> dict[str, Any]:
    """SPEC §8's `--flow --op --json` object."""
    return {
        "flows": dist.flows,
        "end_to_end_p50_ns": dist.p50,
        "end_to_end_p95_ns": dist.p95,
        "end_to_end_max_ns": dist.max,
        "segments": [
            {"service": s.service, "operation": s.operation, "kind": s.kind,
             "p50_ns": s.p50, "p95_ns": s.p95, "share": s.share}
            for s in dist.segments
        ],
    }


HISTOGRAM_BAR = 30
TOP_SEGMENTS = 12


def distribution_lines(dist: Distribution, what: Parts, g: Glyphs, ascii: bool,
                       top: int = TOP_SEGMENTS) -> list[Parts]:
    """The distribution as text: p50/p95/max, a histogram, the dominant segments."""
    mu = g.micro
    n = dist.flows
    out: list[Parts] = [
        [(f"{counted(n, 'flow')} of ", "title"), *what],
        [("end to end  p50 ", ""), (duration(dist.p50, mu), "figure"),
         (f"{g.sep}p95 ", ""), (duration(dist.p95, mu), "figure"),
         (f"{g.sep}max ", ""), (duration(dist.max, mu), "figure")],
        [],
    ]
    hist = dist.histogram()
    most = max((c for _, _, c in hist), default=0)
    for lo, hi, c in hist:
        span = f"{duration(lo, mu):>9} {'-' if ascii else '–'} {duration(hi, mu):<9}"
        out.append([(f"  {span} ", "dim"),
                    (f"{bar(c / most if most else 0, HISTOGRAM_BAR, ascii):<{HISTOGRAM_BAR}}", "bar"),
                    (f" {c:,}", "")])
    out.append([])
    out.append([("dominant segments", "header"),
                (" (share: of all end-to-end time; p95 flows: of the flows at or above the p95)",
                 "dim")])
    name_w = 44
    out.append([(f"  {'segment':<8} {'service · operation'.replace(' · ', g.sep):<{name_w}} "
                 f"{'p50':>9} {'p95':>9} {'share':>6} {'p95 flows':>9}", "header")])
    shown = dist.segments[:top]
    for s in shown:
        queue = s.kind == QUEUE
        style = "queue" if queue else ""
        name = fit_parts([("wait for " if queue else "", style), (safe_text(s.service), style),
                          (g.sep, style), (safe_text(s.operation), style)], name_w, g.ellipsis)
        out.append([(f"  {s.kind:<8} ", style), *name, (" ", ""),
                    (f"{duration(s.p50, mu):>9} {duration(s.p95, mu):>9} ", ""),
                    (f"{percent(s.share, 1):>6} ", "figure"),
                    (f"{percent(s.tail_share, 1):>9}", style)])
    if len(dist.segments) > len(shown):
        rest = sum(s.share for s in dist.segments[len(shown):])
        out.append([(f"  … {len(dist.segments) - len(shown)} more segments, "
                     f"{percent(rest, 1)} of the time", "dim")])
    return out
