"""Where spans come from: files, or a store fetched on demand (see base.Source).

`open_source(specs)` picks the implementation from what the user typed: `clickhouse://...`
and `chdb:DIR` are stores, anything else is a file, a directory or `-`.
"""

from __future__ import annotations

from collections.abc import Sequence

from .base import Cancelled, Source, SourceError, failure
from .file import FileSource

__all__ = ["Cancelled", "FileSource", "Source", "SourceError", "failure", "open_source",
           "is_store"]


def open_source(specs: Sequence[str], since: str | None = None, until: str | None = None,
                limit: int = 1000, max_bytes: int | None = None) -> Source:
    """The source for the command line's inputs (not opened yet: call `open`). Raises
    SourceError for a store URL that cannot be used (malformed, mixed with files).
    `max_bytes` (--max-bytes): what one input file may inflate to."""
    if any(is_store(s) for s in specs):
        from .clickhouse.source import open_clickhouse
        from .clickhouse.target import TargetError
        from .window import WindowError

        try:
            return open_clickhouse(specs, since=since, until=until, limit=limit)
        except (TargetError, WindowError) as e:
            raise SourceError(str(e)) from None
    return FileSource(specs, max_bytes=max_bytes)


def is_store(spec: str) -> bool:
    return spec.startswith(("clickhouse://", "chdb:"))
