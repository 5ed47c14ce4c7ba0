"""What a store's table looks like: its columns and whether the exporter's lookup table is
there. Probed once per table and process (two small queries on `system`), then kept: a
second source over the same table (the benchmark, a reopened view) asks nothing."""

from __future__ import annotations

import threading

from ..base import SourceError
from .backend import Backend
from .spans import REQUIRED
from .target import Target


class Schema:
    __slots__ = ("columns", "has_lookup")

    def __init__(self, columns: set[str], has_lookup: bool) -> None:
        self.columns = columns
        self.has_lookup = has_lookup  # turned off for good if reading it ever fails


_known: dict[tuple[str, ...], Schema] = {}
_lock = threading.Lock()


def _key(target: Target) -> tuple[str, ...]:
    where = target.path if target.kind == "chdb" else f"{target.host}:{target.port}:{target.user}"
    return (target.kind, where, target.database, target.table)


def schema(backend: Backend, target: Target) -> Schema:
    """The table's schema (SourceError: no such table, or not the exporter's)."""
    key = _key(target)
    with _lock:
        known = _known.get(key)
    if known is not None:
        return known
    cols = backend.rows(
        "SELECT name FROM system.columns WHERE database = {db:String} AND table = {t:String}",
        {"db": target.database, "t": target.table})
    if not cols:
        raise SourceError(f"no table {target.database}.{target.table} (unknown table) at {target}")
    columns = {c[0] for c in cols}
    missing = [c for c in REQUIRED if c not in columns]
    if missing:
        raise SourceError(f"table {target.database}.{target.table} has no column "
                          f"{', '.join(missing)} (not the exporter's otel_traces?)")
    has_lookup = bool(backend.rows(
        "SELECT 1 FROM system.tables WHERE database = {db:String} AND name = {t:String}",
        {"db": target.database, "t": target.table + "_trace_id_ts"}))
    found = Schema(columns, has_lookup)
    with _lock:
        _known[key] = found  # only tables that are there: a missing one is asked for again
    return found

