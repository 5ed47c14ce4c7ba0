"""Human formatting of durations and times, shared by every renderer."""

from __future__ import annotations

import datetime as _dt
import functools

from ..textsafe import safe_text

__all__ = ["duration", "timestamp", "short_id", "safe_text"]  # safe_text: see textsafe.py

def duration(ns: int | float | None, micro: str = "µs") -> str:
    """12 ns, 3.4 µs, 12.4 ms, 2.10 s, 3m05s."""
    if ns is None:
        return "-"
    sign = "-" if ns < 0 else ""
    ns = abs(ns)
    if ns < 1_000:
        return f"{sign}{ns:.0f} ns"
    if ns < 1_000_000:
        return f"{sign}{ns / 1_000:.1f} {micro}"
    if ns < 1_000_000_000:
        return f"{sign}{ns / 1_000_000:.1f} ms"
    if ns < 60_000_000_000:
        return f"{sign}{ns / 1_000_000_000:.2f} s"
    s = int(ns // 1_000_000_000)
    if s < 3600:
        return f"{sign}{s // 60}m{s % 60:02d}s"
    return f"{sign}{s // 3600}h{s % 3600 // 60:02d}m"


def timestamp(ns: int) -> str:
    """UTC wall time with milliseconds; traces are compared across hosts, so no local zone.
    Whole integers (a float of ns since 1970 rounds 0.9999999 s up to the next second)."""
    if ns <= 0:
        return "-"
    second, rest = divmod(ns, 1_000_000_000)
    return f"{_second(second)}.{rest // 1_000_000:03d}"


@functools.lru_cache(maxsize=1024)
def _second(second: int) -> str:
    # strftime costs more than the rest of a --list row; rows by start time share seconds.
    return _dt.datetime.fromtimestamp(second, tz=_dt.UTC).strftime("%Y-%m-%d %H:%M:%S")


def short_id(hex_id: str, keep: int = 4, ellipsis: str = "…") -> str:
    return hex_id if len(hex_id) <= 2 * keep + 1 else f"{hex_id[:keep]}{ellipsis}{hex_id[-keep:]}"
