"""The group-by choices the TUI offers: the basic keys plus `attr:KEY` / `resource:KEY` for the
attribute keys present in the spans the user is looking at.

Keys are collected lazily from the rows handed in (the focus trace, then whatever the tree
shows), never from the whole index: span attributes are re-read from the source on demand, so
scanning a million spans for their keys would cost as much as loading them again.
"""

from __future__ import annotations

from collections.abc import Iterable

from ..index import SpanIndex
from ..model import Resource
from .grouping import BASIC_GROUPS

MAX_KEYS = 200  # per kind: a Select with thousands of entries helps no one


class GroupKeyCollector:
    def __init__(self, index: SpanIndex, max_keys: int = MAX_KEYS) -> None:
        self.index = index
        self.max_keys = max_keys
        self._seen_rows: set[int] = set()
        self._seen_resources: set[int] = set()
        # key -> how many of the spans looked at carry it (common keys are offered first)
        self._attr: dict[str, int] = {}
        self._resource: dict[str, int] = {}
        self._resource_rows: dict[int, tuple[Resource, int]] = {}  # id -> (resource, spans)
        self.version = 0  # bumped whenever a new key turns up

    def add_rows(self, rows: Iterable[int], limit: int = 2000) -> bool:
        """Look at up to `limit` rows not seen before; True when new keys were found."""
        idx = self.index
        found = False
        looked = 0
        for row in rows:
            if row < 0 or row in self._seen_rows:
                continue
            if looked >= limit:
                break
            looked += 1
            self._seen_rows.add(row)
            res = idx.resource(row)
            seen = self._resource_rows.get(id(res))
            self._resource_rows[id(res)] = (res, 1 if seen is None else seen[1] + 1)
            if seen is None:
                self._seen_resources.add(id(res))
                for k in res.attributes:
                    if k not in self._resource and len(self._resource) < self.max_keys:
                        self._resource[k] = 0
                        found = True
            attr = self._attr
            for k in idx.attribute_keys(row):
                if k in attr:
                    attr[k] += 1
                elif len(attr) < self.max_keys:
                    attr[k] = 1
                    found = True
        if found:
            self.version += 1
        return found

    @property
    def attr_keys(self) -> list[str]:
        """Span attribute keys, the most common first."""
        return _by_count(self._attr)

    @property
    def resource_keys(self) -> list[str]:
        """Resource attribute keys, the most common (over the spans looked at) first."""
        counts = dict.fromkeys(self._resource, 0)
        for res, spans in self._resource_rows.values():
            for k in res.attributes:
                if k in counts:
                    counts[k] += spans
        return _by_count(counts)

    def choices(self, current: str | None = None) -> list[str]:
        """operation, service, none, attr:..., resource:... (and `current` if not among
        them); within each kind, the keys most of the spans looked at carry come first."""
        out = list(BASIC_GROUPS)
        out += [f"attr:{k}" for k in self.attr_keys]
        out += [f"resource:{k}" for k in self.resource_keys]
        if current and current not in out:
            out.append(current)
        return out


def _by_count(counts: dict[str, int]) -> list[str]:
    return sorted(counts, key=lambda k: (-counts[k], k))


def narrow(choices: list[str], query: str) -> list[str]:
    """The choices holding every word of `query` (case-insensitive), in their order; those
    whose key (after `attr:`/`resource:`) starts with the first word come first."""
    words = query.lower().split()
    if not words:
        return list(choices)
    hits = [c for c in choices if all(w in c.lower() for w in words)]
    first = words[0]
    return sorted(hits, key=lambda c: not c.lower().partition(":")[2 if ":" in c else 0]
                  .startswith(first))


def next_choice(choices: list[str], current: str, step: int = 1) -> str:
    """The choice `step` places after `current`, wrapping around (`G`: step -1)."""
    try:
        return choices[(choices.index(current) + step) % len(choices)]
    except ValueError:
        return choices[0]
