"""Headless text output: the dependencies view as a text tree (`--list`: render_list)."""

from __future__ import annotations

from collections.abc import Iterator

from rich.text import Text

from .dependencies import DepNode as DependencyNode
from .glyphs import Glyphs
from .labels import Parts, label_parts, styled

_MAX_PREFIX = 120  # deeper than this, the connector columns are elided, not drawn


def elide_prefix(prefix: str, depth: int, g: Glyphs) -> str:
    """The connector columns of a row at `depth`, elided when too deep to draw."""
    if len(prefix) <= _MAX_PREFIX:
        return prefix
    return f"{g.ellipsis}[{depth}]{g.ellipsis}" + prefix[-_MAX_PREFIX // 2:]


def tree_rows(root: DependencyNode, g: Glyphs, styles: dict[str, str] | None = None) -> Iterator[Parts]:
    """The dependencies tree as connector-prefixed lines of (text, style) pieces,
    depth-first (iterative)."""
    stack: list[tuple[DependencyNode, str, bool, int]] = [(root, "", True, 0)]
    while stack:
        node, prefix, last, depth = stack.pop()
        parts: Parts = []
        if depth:
            parts.append((elide_prefix(prefix, depth, g) + (g.last if last else g.branch) + g.edge[node.edge],
                          "dim" if node.edge in ("sync", "root") else "yellow"))
        yield label_parts(node, g, styles, parts)
        kids = node.children()
        child_prefix = prefix + (g.blank if last else g.vertical) if depth else ""
        for i in range(len(kids) - 1, -1, -1):
            stack.append((kids[i], child_prefix, i == len(kids) - 1, depth + 1))


def tree_lines(root: DependencyNode, g: Glyphs, styles: dict[str, str] | None = None) -> Iterator[Text]:
    """`tree_rows` as Rich texts."""
    for parts in tree_rows(root, g, styles):
        yield styled(parts)
