"""`--print` / `--json`: pick the focus, build the view, write it to stdout."""

from __future__ import annotations

import argparse
import sys

from ..gcpause import paused_gc
from ..index import SpanIndex
from .dependencies import DependencyView, ViewOptions
from .glyphs import glyphs
from .grouping import GroupSpecError
from .labels import plain
from .render_json import json_chunks
from .render_text import tree_lines, tree_rows


def parse_hex_id(text: str, size: int, what: str, error: type[Exception]) -> bytes:
    try:
        raw = bytes.fromhex(text.strip())
    except ValueError:
        raw = b""
    if len(raw) != size:
        raise error(f"{what} {text!r} is not {size * 2} hex digits")
    return raw


def choose_focus(index: SpanIndex, trace: str | None, span: str | None,
                 error: type[Exception]) -> int:
    """--span, else --trace's root, else the earliest trace's root."""
    t = None
    if trace:
        tid = parse_hex_id(trace, 16, "trace id", error)
        t = index.trace_index.get(tid)
        if t is None:
            raise error(f"no trace {tid.hex()} in the loaded data")
    if span:
        sid = parse_hex_id(span, 8, "span id", error)
        rows = index.find_span(sid)
        if t is not None:
            rows = [r for r in rows if index.trace[r] == t]
        if not rows:
            where = f" in trace {index.trace_ids[t].hex()}" if t is not None else ""
            raise error(f"no span {sid.hex()}{where} in the loaded data")
        return rows[0]
    if t is None:
        t = min((s for s in index.traces if s.spans), key=lambda s: s.start).index
    return index.traces[t].root


def build_view(index: SpanIndex, args: argparse.Namespace, error: type[Exception]) -> DependencyView:
    focus = choose_focus(index, args.trace, args.span, error)
    try:
        options = ViewOptions(group_by=args.group_by, agg=args.agg,
                              show_internal=not args.hide_internal,
                              async_cap=args.async_cap, depth=args.depth)
    except GroupSpecError as e:
        raise error(str(e)) from None
    return DependencyView(index, focus, options)


def run(index: SpanIndex, args: argparse.Namespace, error: type[Exception]) -> int:
    view = build_view(index, args, error)
    with paused_gc():
        _write(view, args)
    return 0


def _write(view: DependencyView, args: argparse.Namespace) -> None:
    out = sys.stdout
    if args.json:
        for chunk in json_chunks(view):
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
