"""Human formatting of durations and times, shared by every renderer."""

from __future__ import annotations

import datetime as _dt
import functools
import math

from rich.cells import cell_len, set_cell_size

from ..textsafe import safe_text

__all__ = ["duration", "timestamp", "short_id", "safe_text", "cut_middle"]  # safe_text: see textsafe.py


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


def timestamp(ns: int, digits: int = 3) -> str:
    """UTC wall time with `digits` decimals of the second (3: milliseconds, up to 9);
    traces are compared across hosts, so no local zone. Whole integers (a float of ns since
    1970 rounds 0.9999999 s up to the next second)."""
    if ns <= 0:
        return "-"
    second, rest = divmod(int(ns), 1_000_000_000)
    return f"{second_text(second)}." + f"{rest:09d}"[:max(1, min(digits, 9))]


@functools.lru_cache(maxsize=1024)
def second_text(second: int) -> str:
    """`YYYY-MM-DD HH:MM:SS` (UTC) of a second since 1970."""
    # strftime costs more than the rest of a --list row; rows by start time share seconds.
    return _dt.datetime.fromtimestamp(second, tz=_dt.UTC).strftime("%Y-%m-%d %H:%M:%S")


def short_id(hex_id: str, keep: int = 4, ellipsis: str = "…") -> str:
    return hex_id if len(hex_id) <= 2 * keep + 1 else f"{hex_id[:keep]}{ellipsis}{hex_id[-keep:]}"


def cut_middle(text: str, cells: int, ellipsis: str = "…") -> str:
    """`text` in at most `cells` cells: a long `kind:key` keeps its kind and the end of its
    key (`resource:…sdk.version`), other text its start and end."""
    if cell_len(text) <= cells:
        return text
    head, sep, _ = text.partition(":")
    keep = head + sep if sep and cell_len(head) + 1 + 6 < cells else ""
    tail = cells - cell_len(keep) - cell_len(ellipsis)
    if not keep:
        keep = set_cell_size(text, (tail + 1) // 2)
        tail -= cell_len(keep)
    return keep + ellipsis + _last_cells(text, max(0, tail))


def _last_cells(text: str, cells: int) -> str:
    """The end of `text`, at most `cells` cells of it."""
    out = ""
    for ch in reversed(text):
        if cell_len(ch + out) > cells:
            break
        out = ch + out
    return out


_AXIS_UNITS = ((3_600_000_000_000, "h", 2), (60_000_000_000, "min", 2), (1_000_000_000, "s", 1),
               (1_000_000, "ms", 1), (1_000, "µs", 1), (1, "ns", 1))


def axis_ticks(total_ns: int, cells: int, micro: str = "µs", spacing: int = 10
               ) -> list[tuple[int, str]]:
    """Ticks of a time axis `cells` wide from 0 to `total_ns`: (cell, label) at round steps
    (1, 2 or 5 times a power of ten of one unit fitted to the whole axis), at least
    `spacing` cells apart: `0`, `200 ms`, `400 ms` rather than `0`, `155.6 ms`, `311.2 ms`."""
    if total_ns <= 0 or cells <= 0:
        return [(0, "0")]
    # The largest unit the axis spans (minutes and hours from two of them on).
    unit, name = next(((u, n) for u, n, least in _AXIS_UNITS if total_ns >= least * u),
                      (1, "ns"))
    if name == "µs":
        name = micro
    span = total_ns / unit
    raw = span / max(1, cells // spacing)
    power = 10.0 ** math.floor(math.log10(raw)) if raw > 0 else 1.0
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw * (1 - 1e-9))
    if unit == 1:
        step = max(step, 1.0)  # no fractions of a nanosecond
    decimals = max(0, -math.floor(math.log10(step) + 1e-9))
    ticks: list[tuple[int, str]] = [(0, "0")]
    k = 1
    while k * step <= span * (1 + 1e-9):
        value = k * step
        text = f"{value:.{decimals}f}"
        if decimals:
            text = text.rstrip("0").rstrip(".")
        ticks.append((min(cells, round(value * cells / span)), f"{text} {name}"))
        k += 1
    return ticks
