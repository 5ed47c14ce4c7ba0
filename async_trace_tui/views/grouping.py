"""Group-by keys and duration aggregation for merged nodes (converging traces)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from ..index import SpanIndex

AGGREGATIONS = ("avg", "max", "min", "sum")
BASIC_GROUPS = ("operation", "service", "none")


class GroupSpecError(ValueError):
    pass


def parse_group_by(spec: str) -> tuple[str, str]:
    """`operation` | `service` | `none` | `attr:KEY` | `resource:KEY` -> (mode, key)."""
    if spec in BASIC_GROUPS:
        return spec, ""
    mode, sep, key = spec.partition(":")
    if sep and key and mode in ("attr", "resource"):
        return mode, key
    raise GroupSpecError(
        f"unknown group-by {spec!r}: use operation, service, none, attr:KEY or resource:KEY"
    )


def group_key_fn(index: SpanIndex, spec: str) -> Callable[[int], Any]:
    """The key under which sibling spans merge."""
    mode, key = parse_group_by(spec)
    if mode == "operation":
        return index.name.__getitem__
    if mode == "service":
        return index.service
    if mode == "none":
        return lambda row: ("row", row)
    missing = f"(no {key})"
    if mode == "attr":
        # A span's attributes are decoded from the file on each read (~10 µs): grouping and
        # mapping read each span's key several times.
        return _Memo(lambda row: _hashable(index.attributes(row).get(key, missing))).__getitem__
    return lambda row: _hashable(index.resource(row).attributes.get(key, missing))


class _Memo(dict[int, Any]):
    """row -> fn(row), each computed once."""

    def __init__(self, fn: Callable[[int], Any]) -> None:
        super().__init__()
        self.fn = fn

    def __missing__(self, row: int) -> Any:
        value = self[row] = self.fn(row)
        return value


def group_value(index: SpanIndex, spec: str, row: int) -> str | None:
    """What an attr:/resource: group shows for its key; None for the other modes."""
    mode, key = parse_group_by(spec)
    if mode == "attr":
        value = index.attributes(row).get(key)
    elif mode == "resource":
        value = index.resource(row).attributes.get(key)
    else:
        return None
    return f"{key}={value}" if value is not None else f"(no {key})"


def _hashable(value: Any) -> Any:
    if isinstance(value, list):
        return tuple(_hashable(v) for v in value)
    if isinstance(value, dict):
        return tuple(sorted((k, _hashable(v)) for k, v in value.items()))
    return value


def aggregate(values: Sequence[int], method: str) -> int | None:
    """max/min/avg/sum of nanosecond values; avg rounds to a whole nanosecond."""
    if not values:
        return None
    if method == "max":
        return max(values)
    if method == "min":
        return min(values)
    if method == "sum":
        return sum(values)
    if method == "avg":
        # In integers: a float sum past 2**53 ns (~104 days of spans in all) loses the last
        # nanoseconds. Halves round to even, as round() does.
        q, r = divmod(sum(values), len(values))
        return q + (2 * r > len(values) or (2 * r == len(values) and q % 2 == 1))
    raise GroupSpecError(f"unknown aggregation {method!r}: use {', '.join(AGGREGATIONS)}")
