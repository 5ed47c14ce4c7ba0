"""The service map as text (`--map`) and the cells the TUI's Services tab shows: one table
per service of its outgoing edges, → sync and ⇢ async, the most frequent first."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TextIO

from rich.cells import cell_len, set_cell_size

from ..textsafe import safe_json_dumps
from .format import duration, safe_text
from .service_map import MapEdge, MapService, ServiceMap, layers

# The edge marks: solid for sync, dotted for async (--ascii: the dependencies view's ASCII).
MARKS = {False: {"sync": "→", "async": "⇢"}, True: {"sync": "->", "async": ".>"}}
HEADINGS = ("calls", "errors", "p50 dur", "p95 dur", "p50 lag", "p95 lag")
MAX_NAME = 40


def mark(edge: MapEdge, ascii_only: bool = False) -> str:
    return MARKS[ascii_only][edge.kind]


def lag_text(ns: int | None, micro: str = "µs") -> str:
    """A lag as the dependencies view reads it: negative is an overlap."""
    if ns is None:
        return "-"
    return f"overlap {duration(-ns, micro)}" if ns < 0 else duration(ns, micro)


def edge_numbers(edge: MapEdge, micro: str = "µs") -> tuple[str, ...]:
    """The figures of an edge, as HEADINGS name them."""
    return (f"{edge.count:,}", f"{edge.errors:,}", duration(edge.duration_p50, micro),
            duration(edge.duration_p95, micro), lag_text(edge.lag_p50, micro),
            lag_text(edge.lag_p95, micro))


def service_summary(s: MapService, sep: str = " · ") -> str:
    parts = [f"{s.spans:,} span{'s' * (s.spans != 1)}",
             f"{s.errors:,} error{'s' * (s.errors != 1)}",
             f"{s.traces:,} trace{'s' * (s.traces != 1)}"]
    if s.unresolved_links:
        n = s.unresolved_links
        parts.append(f"{n:,} unresolved link{'s' * (n != 1)} (to spans not loaded)")
    return sep.join(parts)


def by_count(edges: list[MapEdge]) -> list[MapEdge]:
    """The most frequent first; ties by the other end's name, then sync before async."""
    return sorted(edges, key=lambda e: (-e.count, e.target, e.source, e.kind != "sync"))


def flow_order(service_map: ServiceMap) -> list[MapService]:
    """Services by call depth, then name: the map read from where work enters."""
    depth = layers(service_map)
    return sorted(service_map.services, key=lambda s: (depth.get(s.name, 0), s.name))


def _fit(text: str, width: int) -> str:
    if cell_len(text) <= width:
        return text + " " * (width - cell_len(text))
    return set_cell_size(text, width - 1) + "…"


def map_lines(service_map: ServiceMap, ascii_only: bool = False) -> Iterator[str]:
    """`--map` as text lines (names escaped; no markup, no styles)."""
    micro = "us" if ascii_only else "µs"
    marks = MARKS[ascii_only]
    services = flow_order(service_map)
    edges = service_map.edges
    n_async = sum(e.is_async for e in edges)
    by = service_map.by
    sep = " - " if ascii_only else " · "
    what = "service" if by == "service" else "group"
    yield (f"service map by {safe_text(by)}: {len(services):,} {what}{'s' * (len(services) != 1)}"
           f"{sep}{len(edges):,} edge{'s' * (len(edges) != 1)} ({len(edges) - n_async:,} sync "
           f"{marks['sync']}, {n_async:,} async {marks['async']})")
    rows = {e: edge_numbers(e, micro) for e in edges}
    name_w = min(MAX_NAME, max([cell_len(safe_text(e.target)) for e in edges] + [2]))
    widths = [max([len(h)] + [cell_len(r[i]) for r in rows.values()])
              for i, h in enumerate(HEADINGS)]
    heading = ("     " + _fit("to", name_w) + "  "
               + "  ".join(h.rjust(w) for h, w in zip(HEADINGS, widths, strict=True)))
    for s in services:
        yield ""
        yield f"{safe_text(s.name)}  {service_summary(s, sep)}"
        out = by_count(service_map.outgoing(s.name))
        if not out:
            yield "  (no outgoing edges)"
            continue
        yield heading
        for e in out:
            cells = "  ".join(c.rjust(w) for c, w in zip(rows[e], widths, strict=True))
            yield f"  {marks[e.kind]:<2} {_fit(safe_text(e.target), name_w)}  {cells}"


def write_map(service_map: ServiceMap, out: TextIO, as_json: bool = False,
              ascii_only: bool = False) -> None:
    """`--map` (text) or `--map --json` (SPEC §9) to `out`."""
    if as_json:
        text = safe_json_dumps(service_map.as_json(), indent=1) + "\n"
        buf = getattr(out, "buffer", None)  # JSON is UTF-8 whatever the stream's encoding
        if buf is None:
            out.write(text)
        else:
            out.flush()
            buf.write(text.encode())
        return
    for line in map_lines(service_map, ascii_only):  # cli/output.py chose ascii_only
        out.write(line + "\n")
