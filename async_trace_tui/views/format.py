"""Human formatting of durations and times, shared by every renderer."""

from __future__ import annotations

import datetime as _dt

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
    """UTC wall time with milliseconds; traces are compared across hosts, so no local zone."""
    if ns <= 0:
        return "-"
    t = _dt.datetime.fromtimestamp(ns / 1e9, tz=_dt.UTC)
    return t.strftime("%Y-%m-%d %H:%M:%S.") + f"{t.microsecond // 1000:03d}"


def short_id(hex_id: str, keep: int = 4, ellipsis: str = "…") -> str:
    return hex_id if len(hex_id) <= 2 * keep + 1 else f"{hex_id[:keep]}{ellipsis}{hex_id[-keep:]}"
