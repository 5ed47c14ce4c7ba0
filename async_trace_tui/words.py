"""Counts in words: `1 span`, `2 spans`, `1,024 traces` (every renderer and report)."""

from __future__ import annotations


def counted(n: int, noun: str, plural: str | None = None) -> str:
    """`n` and `noun`, the noun plural (`noun + "s"` unless given) unless n is 1."""
    return f"{n:,} {noun if n == 1 else (plural or noun + 's')}"
