"""`--print` / `--json`: pick the focus, build the view, write it to stdout."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from ..gcpause import paused_gc
from .dependencies import CYCLE, MISSING, MORE, DependencyView, ViewOptions
from .glyphs import glyphs
from .grouping import GroupSpecError
from .labels import plain
from .render_json import json_chunks
from .render_text import tree_lines, tree_rows

if TYPE_CHECKING:
    from ..sources import Source


def parse_hex_id(text: str, size: int, what: str, error: type[Exception]) -> bytes:
    try:
        raw = bytes.fromhex(text.strip())
    except ValueError:
        raw = b""
    if len(raw) != size:
        raise error(f"{what} {text!r} is not {size * 2} hex digits")
    return raw


def choose_focus(source: Source, trace: str | None, span: str | None,
                 error: type[Exception]) -> int:
    """--span, else --trace's root, else the earliest trace's root (fetching from a store
    what it takes to know them)."""
    tid = parse_hex_id(trace, 16, "trace id", error) if trace else None
    t = None
    if tid is not None:
        t = source.ensure_trace(tid)
        if t is None:
            raise error(f"no trace {tid.hex()} in {_where(source)}")
    if span:
        sid = parse_hex_id(span, 8, "span id", error)
        rows = source.find_span(sid, tid)
        if not rows:
            where = f" in trace {tid.hex()}" if tid is not None else ""
            raise error(f"no span {sid.hex()}{where} in {_where(source)}")
        return rows[0]
    if t is None:
        t = source.first_trace()
        if t is None:
            raise error(f"no traces in {_where(source)}")
    return source.index.traces[t].root


def _where(source: Source) -> str:
    return "the window" if source.lazy else "the loaded data"


def build_view(source: Source, args: argparse.Namespace, error: type[Exception]) -> DependencyView:
    focus = choose_focus(source, args.trace, args.span, error)
    try:
        options = ViewOptions(group_by=args.group_by, agg=args.agg,
                              show_internal=not args.hide_internal,
                              async_cap=args.async_cap, depth=args.depth)
    except GroupSpecError as e:
        raise error(str(e)) from None
    return complete_view(source, focus, options)


def complete_view(source: Source, focus: int, options: ViewOptions) -> DependencyView:
    """The view with every node headless output shows already made. A store fetches what
    the nodes reached so far need, a round per async hop, until nothing is missing."""
    while True:
        view = DependencyView(source.index, focus, options)
        if not source.lazy:
            return view
        need: set[int] = set()
        stack = [view.root]
        while stack:
            node = stack.pop()
            if node.kind in (MORE, MISSING, CYCLE):
                continue  # never expanded: nothing to fetch for them
            if source.pending(node.rows):
                need.update(node.rows)
                continue
            stack.extend(node.children())
        if not need:
            return view
        source.fetch(need)


def run(source: Source, args: argparse.Namespace, error: type[Exception]) -> int:
    view = build_view(source, args, error)
    with paused_gc():
        _write(view, args)
    return 0


def _write(view: DependencyView, args: argparse.Namespace) -> None:
    out = sys.stdout
    if args.json:
        # JSON is UTF-8 (RFC 8259) whatever the stream's text encoding says.
        buf = getattr(out, "buffer", None)
        if buf is not None:
            out.flush()
        for chunk in json_chunks(view):
            if buf is not None:
                buf.write(chunk.encode())
            else:
                out.write(chunk)
        return
    g = glyphs(args.ascii)
    if out.isatty():
        from rich.console import Console

        console = Console(highlight=False)
        for line in tree_lines(view.root, g):
            console.print(line, crop=False, overflow="ignore", no_wrap=True)
    else:
        for parts in tree_rows(view.root, g):
            out.write(plain(parts) + "\n")
