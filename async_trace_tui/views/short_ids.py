"""Trace ids shortened for the screen so that no two look alike.

`4f82…4edc` (four hex digits, an ellipsis, the last four) reads well, but two ids sharing both
ends print the same: a missing span's trace `00000000000000ff0000…0000` and the loaded trace
`00000000000000010000…0000` both showed as `0000…0000`. Here the head grows, for the ids that
need it, until no other known id with the same last four digits shares it:
`000000000000000f…0000` and `0000000000000001…0000`. Known ids are the loaded traces' and the
traces that unresolved links name. The head stays a prefix of the id, so what the screen shows
is what the command line accepts (SPEC §5).

Ids are grouped by their last two bytes; within a group (tiny for random ids: a million
traces make 16 per group) a sorted list answers each id's nearest neighbours by bisection.
"""

from __future__ import annotations

import time
import weakref
from bisect import bisect_left, insort
from collections.abc import Iterable
from typing import Any

MIN_HEAD = 4  # hex digits always shown at the start
TAIL = 4  # hex digits shown at the end (the grouping: the last two bytes)
RESCAN_LINKS_S = 1.0  # a growing (live) index: unresolved links looked at again at most this often


def _common_hex(a: bytes, b: bytes) -> int:
    """How many leading hex digits `a` and `b` share."""
    for i, (x, y) in enumerate(zip(a, b)):
        if x != y:
            return 2 * i + (1 if x >> 4 == y >> 4 else 0)
    return 2 * min(len(a), len(b))


class TraceIdNames:
    """Short forms of trace ids, distinct over the ids it knows (and from them)."""

    def __init__(self, ids: Iterable[bytes] = ()) -> None:
        self._groups: dict[bytes, list[bytes]] = {}
        self._widest: int | None = None
        self.add(ids)

    def add(self, ids: Iterable[bytes]) -> None:
        groups = self._groups
        for raw in ids:
            group = groups.get(raw[-2:])
            if group is None:
                groups[raw[-2:]] = [raw]
            else:
                at = bisect_left(group, raw)
                if at == len(group) or group[at] != raw:
                    insort(group, raw)
        self._widest = None

    def head(self, raw: bytes) -> int:
        """Hex digits of `raw` to show before the ellipsis."""
        group = self._groups.get(raw[-2:], ())
        at = bisect_left(group, raw)
        common = 0
        for j in (at - 1, at, at + 1):
            if 0 <= j < len(group) and group[j] != raw:
                common = max(common, _common_hex(group[j], raw))
        return max(MIN_HEAD, common + 1)

    def short(self, trace_id: bytes | str, ellipsis: str = "…") -> str:
        raw = bytes.fromhex(trace_id) if isinstance(trace_id, str) else trace_id
        hex_id = raw.hex()
        head = self.head(raw)
        if head + TAIL >= len(hex_id):
            return hex_id
        return f"{hex_id[:head]}{ellipsis}{hex_id[-TAIL:]}"

    def warm(self) -> None:
        """Work out `widest` now (in a loading thread, not at the first paint)."""
        _ = self.widest

    @property
    def widest(self) -> int:
        """The most cells a short form takes (with a one-cell ellipsis)."""
        if self._widest is None:
            head = MIN_HEAD
            for group in self._groups.values():
                for a, b in zip(group, group[1:]):
                    head = max(head, _common_hex(a, b) + 1)
            self._widest = min(32, head + 1 + TAIL)
        return self._widest


class _Entry:
    __slots__ = ("names", "traces", "links", "scanned_at")

    def __init__(self) -> None:
        self.names = TraceIdNames()
        self.traces = 0  # trace ids added so far (an index only grows)
        self.links = -1  # link rows seen at the last scan of unresolved links
        self.scanned_at = 0.0


_CACHE: weakref.WeakKeyDictionary[Any, _Entry] = weakref.WeakKeyDictionary()


def names_for(index: Any) -> TraceIdNames:
    """The short trace ids of an index (made once, kept up with while it grows)."""
    entry = _CACHE.get(index)
    if entry is None:
        entry = _CACHE[index] = _Entry()
    ids = index.trace_ids
    if entry.traces < len(ids):
        entry.names.add(ids[entry.traces:])
        entry.traces = len(ids)
    targets = index.link_target
    now = time.monotonic()
    if entry.links != len(targets) and (entry.links < 0 or now - entry.scanned_at
                                        >= RESCAN_LINKS_S):
        links = index.links_out
        entry.names.add(links[row][i][0] for row, found in targets.items()
                        for i, target in enumerate(found) if target is None)
        entry.links = len(targets)
        entry.scanned_at = now
    return entry.names


def short_trace_id(index: Any, trace_id: bytes | str, ellipsis: str = "…") -> str:
    """A trace id as the screen shows it: distinct from every other known trace id."""
    return names_for(index).short(trace_id, ellipsis)
