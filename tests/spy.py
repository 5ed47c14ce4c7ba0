"""Counting calls to a Textual internal (a layout pass, a full-screen update) in UI tests."""

from __future__ import annotations

from typing import Any


def record_calls(obj: Any, name: str) -> list[bool]:
    """Wrap `obj.<name>`; the returned list grows by one on each call."""
    calls: list[bool] = []
    original = getattr(obj, name)

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        calls.append(True)
        return original(*args, **kwargs)

    setattr(obj, name, wrapper)
    return calls
