"""The Services tab's rows: each service, then its outgoing and incoming edges, sorted and
filtered (the widget only draws them).

Sort keys: `flow` (services by call depth, then name; edges by calls), `calls`, `errors`
(error rate), `duration` (p95), `lag` (p95 queue lag; sync edges have none and go last),
`name` (the other end's name). With a numeric key, a service ranks by its largest edge
value, and the edges under it by theirs, biggest first (`reverse` turns both around).
The filter keeps a service whose name holds the text with all its edges, and under other
services only the edges whose other end holds it (case-insensitive).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .service_map import MapEdge, MapService, ServiceMap, layers

SORT_CYCLE = ("flow", "calls", "errors", "duration", "lag", "name")
SORT_TITLES = {"flow": "call depth", "calls": "calls", "errors": "error rate",
               "duration": "p95 duration", "lag": "p95 lag", "name": "name"}
OUT, IN = "out", "in"


class MapRow:
    """A service (edge None) or one of its edges, `direction` out (it calls / hands work
    to `edge.target`) or in (`edge.source` calls it)."""

    __slots__ = ("service", "edge", "direction")

    def __init__(self, service: MapService, edge: MapEdge | None = None,
                 direction: str = OUT) -> None:
        self.service = service
        self.edge = edge
        self.direction = direction

    @property
    def other(self) -> str:
        """The name at the edge's other end."""
        assert self.edge is not None
        return self.edge.target if self.direction == OUT else self.edge.source


_NONE = float("-inf")

_EDGE_KEYS: dict[str, Callable[[MapEdge], Any]] = {
    "calls": lambda e: e.count,
    "errors": lambda e: e.error_rate,
    "duration": lambda e: e.duration_p95 if e.duration_p95 is not None else _NONE,
    "lag": lambda e: e.lag_p95 if e.lag_p95 is not None else _NONE,
}


def map_rows(service_map: ServiceMap, sort: str = "flow", reverse: bool = False,
             query: str = "") -> list[MapRow]:
    if sort not in SORT_CYCLE:
        raise ValueError(f"unknown sort {sort!r}")
    q = query.strip().lower()
    out: dict[str, list[MapEdge]] = {s.name: [] for s in service_map.services}
    inc: dict[str, list[MapEdge]] = {s.name: [] for s in service_map.services}
    for e in service_map.edges:
        if e.source in out:
            out[e.source].append(e)
        if e.target in inc and e.target != e.source:
            inc[e.target].append(e)

    blocks: list[tuple[MapService, list[MapRow]]] = []
    for s in service_map.services:
        rows = ([MapRow(s, e, OUT) for e in out[s.name]]
                + [MapRow(s, e, IN) for e in inc[s.name]])
        if q and q not in s.name.lower():
            rows = [r for r in rows if q in r.other.lower()]
            if not rows:
                continue
        blocks.append((s, rows))

    edge_key = _EDGE_KEYS.get(sort)
    if edge_key is None:  # flow or name: services and edges by name; calls break ties
        for _s, rows in blocks:
            rows.sort(key=lambda r: (r.direction != OUT, -r.edge.count if sort == "flow" else 0,
                                     r.other, r.edge.kind))
            if reverse:
                rows.reverse()
        if sort == "flow":
            depth = layers(service_map)
            blocks.sort(key=lambda b: (depth.get(b[0].name, 0), b[0].name), reverse=reverse)
        else:
            blocks.sort(key=lambda b: b[0].name, reverse=reverse)
    else:
        def rank(r: MapRow) -> Any:
            return edge_key(r.edge)
        for _s, rows in blocks:
            rows.sort(key=lambda r: (r.other, r.edge.kind, r.direction))
            rows.sort(key=rank, reverse=not reverse)  # stable: names break ties
        blocks.sort(key=lambda b: b[0].name)
        blocks.sort(key=lambda b: max(map(rank, b[1]), default=_NONE), reverse=not reverse)

    flat: list[MapRow] = []
    for s, rows in blocks:
        flat.append(MapRow(s))
        flat.extend(rows)
    return flat
