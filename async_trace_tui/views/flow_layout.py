"""The flow tab's rows (SPEC §8): every span of a flow on one time axis, grouped by trace.

One line per trace header and per span: each trace of the flow under its header (traces in
the order they start), its spans depth-first from the spans the flow entered it by. The
hand-offs (async edges inside the flow) are kept per producer: the line it starts on, the
lines of its consumers, and the times the arrow runs between. No Textual here: the widget
draws what this says.
"""

from __future__ import annotations

from array import array
from bisect import bisect_left

from .flow import QUEUE, Flow


class Handoff:
    """A producer's async edges inside the flow: from its line down (or up) to its
    consumers' lines; the arrow leaves at the producer's end."""

    __slots__ = ("producer", "line", "at", "consumers", "top", "bottom")

    def __init__(self, producer: int, line: int, at: int) -> None:
        self.producer = producer
        self.line = line
        self.at = at  # the producer's end (ns)
        self.consumers: list[tuple[int, int]] = []  # (line, consumer row)
        self.top = line
        self.bottom = line


class FlowLayout:
    """What the flow waterfall shows, line by line."""

    def __init__(self, flow: Flow) -> None:
        idx = flow.index
        self.flow = flow
        dist = flow.dist
        start, end, trace, parent = idx.start, idx.end, idx.trace, idx.parent
        self.t0 = min(map(start.__getitem__, dist))
        self.t1 = max(map(end.__getitem__, dist))

        by_trace: dict[int, list[int]] = {}
        for r in dist:
            by_trace.setdefault(trace[r], []).append(r)
        first = {t: min(map(start.__getitem__, rows)) for t, rows in by_trace.items()}
        self.traces = sorted(by_trace, key=lambda t: (first[t], idx.trace_ids[t]))

        # Lines: a span row (>= 0) or a trace header (-1 - trace); depth under its entry.
        lines: array[int] = array("l")
        depths: array[int] = array("l")
        self.spans_in: dict[int, int] = {}
        for t in self.traces:
            rows = by_trace[t]
            self.spans_in[t] = len(rows)
            lines.append(-1 - t)
            depths.append(0)
            entries = sorted((r for r in rows if parent[r] not in dist), key=start.__getitem__)
            idx.depth_first(entries, lines, depths)
        self.lines = lines
        self.depths = depths
        self.line_of: dict[int, int] = {r: i for i, r in enumerate(lines) if r >= 0}

        # Hand-offs: CONSUMER children and links, both ends in the flow.
        handoffs: dict[int, Handoff] = {}
        is_consumer, links_of, line_of = idx.is_consumer, idx.links_of, self.line_of
        for r in dist:
            p = parent[r]
            causes = [p] if p >= 0 and p in dist and is_consumer(r) else []
            for _, _, target in links_of(r):
                if target is not None and target != r and target != p and target in dist:
                    causes.append(target)
            for c in causes:
                h = handoffs.get(c)
                if h is None:
                    h = handoffs[c] = Handoff(c, line_of[c], end[c])
                line = line_of[r]
                h.consumers.append((line, r))
                h.top = min(h.top, line)
                h.bottom = max(h.bottom, line)
        self.handoffs = sorted(handoffs.values(), key=lambda h: h.top)
        self._tops = [h.top for h in self.handoffs]
        self.incoming: dict[int, list[Handoff]] = {}
        for h in self.handoffs:
            for line, _ in h.consumers:
                self.incoming.setdefault(line, []).append(h)

        # The critical path: its lines in path order, its async steps by effect line.
        self.path_lines = [line_of[r] for r in flow.path]
        self.on_path = set(flow.path)
        self._step = {r: i for i, r in enumerate(flow.path)}
        self.queue_by_effect = {s.row: s for s in flow.segments if s.kind == QUEUE}
        self.own_time: dict[int, int] = {}  # a path span's own segment
        for s in flow.segments:
            if s.kind != QUEUE:
                self.own_time[s.row] = self.own_time.get(s.row, 0) + s.duration

    def __len__(self) -> int:
        return len(self.lines)

    def crossing(self, line: int) -> list[Handoff]:
        """The hand-offs whose arrow spans `line` (from their top line to their bottom)."""
        out = []
        for h in self.handoffs[:bisect_left(self._tops, line + 1)]:
            if h.bottom >= line:
                out.append(h)
        return out

    def path_step(self, row: int) -> int | None:
        """The position of `row` on the critical path (0 for the start)."""
        return self._step.get(row)
