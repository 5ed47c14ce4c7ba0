"""`--since` / `--until`: a time window as nanoseconds since the epoch.

`DURATION` is a number and a unit (`90s`, `15m`, `1h`, `7d`), meaning that long before now
(or before `--until`); `TIME` is RFC 3339 (`2026-01-01T12:00:00Z`, an offset, fractions).
"""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime

DEFAULT_SINCE = "1h"
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*$", re.I)


class WindowError(ValueError):
    pass


def parse_time(text: str) -> int:
    """RFC 3339 to nanoseconds since the epoch (fractions beyond microseconds kept)."""
    s = text.strip()
    m = re.match(r"^(\d{4}-\d{2}-\d{2})[Tt ](\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?([Zz]|[+-]\d{2}:\d{2})$", s)
    if not m:
        raise WindowError(f"{text!r} is neither a duration (90s, 15m, 1h, 7d) nor an RFC 3339 "
                          f"time (2026-01-01T12:00:00Z)")
    zone = "+00:00" if m.group(4) in ("Z", "z") else m.group(4)
    try:
        dt = datetime.fromisoformat(f"{m.group(1)}T{m.group(2)}{zone}")
    except ValueError as e:
        raise WindowError(f"{text!r}: {e}") from None
    frac = (m.group(3) or "").ljust(9, "0")
    return int(dt.timestamp()) * 1_000_000_000 + int(frac or 0)


def parse_duration(text: str) -> int | None:
    m = _DURATION.match(text)
    if not m:
        return None
    return int(float(m.group(1)) * _UNITS[m.group(2).lower()] * 1_000_000_000)


def parse_window(since: str | None, until: str | None,
                 now_ns: int | None = None) -> tuple[int, int]:
    """(from, to) in ns; `since` a duration before `to` or a time; `to` defaults to now."""
    now = time.time_ns() if now_ns is None else now_ns
    hi = now if not until else parse_time(until)
    text = since or DEFAULT_SINCE
    span = parse_duration(text)
    lo = hi - span if span is not None else parse_time(text)
    if lo > hi:
        raise WindowError("--since is after --until")
    return lo, hi


def format_ns(ns: int) -> str:
    return datetime.fromtimestamp(ns / 1e9, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
