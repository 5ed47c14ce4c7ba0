"""The group-by choices the TUI offers: the basic keys plus `attr:KEY` / `resource:KEY` for the
attribute keys present in the spans the user is looking at.

Keys are collected lazily from the rows handed in (the focus trace, then whatever the tree
shows), never from the whole index: span attributes are re-read from the source on demand, so
scanning a million spans for their keys would cost as much as loading them again.
"""

from __future__ import annotations

from collections.abc import Iterable

from ..index import SpanIndex
from .grouping import BASIC_GROUPS

MAX_KEYS = 200  # per kind: a Select with thousands of entries helps no one


class GroupKeyCollector:
    def __init__(self, index: SpanIndex, max_keys: int = MAX_KEYS) -> None:
        self.index = index
        self.max_keys = max_keys
        self._seen_rows: set[int] = set()
        self._seen_resources: set[int] = set()
        self._attr: dict[str, None] = {}
        self._resource: dict[str, None] = {}
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
            if id(res) not in self._seen_resources:
                self._seen_resources.add(id(res))
                for k in res.attributes:
                    if k not in self._resource and len(self._resource) < self.max_keys:
                        self._resource[k] = None
                        found = True
            if len(self._attr) < self.max_keys:
                for k in idx.attributes(row):
                    if k not in self._attr and len(self._attr) < self.max_keys:
                        self._attr[k] = None
                        found = True
        if found:
            self.version += 1
        return found

    @property
    def attr_keys(self) -> list[str]:
        return sorted(self._attr)

    @property
    def resource_keys(self) -> list[str]:
        return sorted(self._resource)

    def choices(self, current: str | None = None) -> list[str]:
        """operation, service, none, attr:..., resource:... (and `current` if not among them)."""
        out = list(BASIC_GROUPS)
        out += [f"attr:{k}" for k in self.attr_keys]
        out += [f"resource:{k}" for k in self.resource_keys]
        if current and current not in out:
            out.append(current)
        return out


def next_choice(choices: list[str], current: str) -> str:
    """The choice after `current`, wrapping around (the `g` hotkey)."""
    try:
        return choices[(choices.index(current) + 1) % len(choices)]
    except ValueError:
        return choices[0]
