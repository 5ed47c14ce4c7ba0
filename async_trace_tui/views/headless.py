"""`--print` / `--json`: pick the focus, build the view, write it to stdout."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING

from ..gcpause import paused_gc
from ..words import counted
from .dependencies import CYCLE, MISSING, MORE, DependencyView, ViewOptions
from .format import safe_text
from .glyphs import glyphs
from .grouping import GroupSpecError
from .labels import plain
from .render_json import json_chunks
from .render_text import tree_lines, tree_rows

if TYPE_CHECKING:
    from ..sources import Source


class IdPattern:
    """An id as given on the command line: whole, a prefix of 4+ hex digits, or the TUI's
    shortened form (`62f7…d454`, `62f7..d454`): its first digits, then its last."""

    __slots__ = ("text", "prefix", "suffix", "exact")

    def __init__(self, text: str, prefix: str, suffix: str, exact: bytes | None) -> None:
        self.text = text
        self.prefix = prefix
        self.suffix = suffix
        self.exact = exact


MIN_PREFIX = 4
_SHOWN = 10  # candidates listed for an ambiguous id


def parse_hex_id(text: str, size: int, what: str, error: type[Exception]) -> IdPattern:
    """The id's digits checked (a usage error names what is wrong); not looked up yet."""
    raw = text.strip().lower()
    for mark in ("…", "...", ".."):
        if mark in raw:
            prefix, _, suffix = raw.partition(mark)
            break
    else:
        prefix, suffix = raw, ""
    digits = prefix + suffix
    if not digits or any(c not in "0123456789abcdef" for c in digits):
        raise error(f"{what} {text!r} is not hex digits")
    if len(digits) > size * 2 or (suffix and len(digits) == size * 2):
        raise error(f"{what} {text!r} is longer than {size * 2} hex digits")
    if len(prefix) < MIN_PREFIX:
        raise error(f"{what} {text!r}: give at least its first {MIN_PREFIX} hex digits")
    exact = bytes.fromhex(prefix) if len(prefix) == size * 2 else None
    return IdPattern(text, prefix, suffix, exact)


def resolve_id(source: Source, pattern: IdPattern, kind: str, error: type[Exception],
               trace_id: bytes | None = None) -> bytes:
    """The one id the pattern names; a usage error when none or several match."""
    if pattern.exact is not None:
        return pattern.exact
    found = source.ids_matching(kind, pattern.prefix, pattern.suffix, trace_id, _SHOWN + 1)
    if not found and kind == "trace" and not pattern.suffix and len(pattern.prefix) == 16:
        # A 64-bit trace id, as Zipkin and Jaeger write and show it: loaded left-padded to
        # 32 digits (SPEC §7.2), so the id copied from there names that trace whole.
        found = source.ids_matching(kind, "0" * 16 + pattern.prefix, "", None, 2)
    what = f"{kind} id"
    if not found:
        where = f" in trace {trace_id.hex()}" if trace_id is not None else ""
        raise error(f"no {what} matches {pattern.text!r}{where} in {_where(source)}")
    if len(found) > 1:
        more = "\n  ..." if len(found) > _SHOWN else ""
        listed = "\n".join(f"  {_describe(source, kind, i)}" for i in found[:_SHOWN])
        raise error(f"{what} {pattern.text!r} is ambiguous; it matches:\n{listed}{more}\n"
                    f"give more digits")
    return found[0]


def _describe(source: Source, kind: str, id_: bytes) -> str:
    """A candidate id with what it is, as far as the loaded spans tell."""
    index = source.index
    if kind == "trace":
        t = index.trace_index.get(id_)
        row = index.traces[t].root if t is not None else -1
    else:
        rows = index.find_span(id_)
        row = rows[0] if rows else -1
    if row < 0:
        return id_.hex()
    return f"{id_.hex()}  {safe_text(index.service(row))} · {safe_text(index.name[row])}"


def choose_focus(source: Source, trace: str | None, span: str | None,
                 error: type[Exception], note: Callable[[str], None] | None = None) -> int:
    """--span, else --trace's root, else the root of the trace with the most async links
    (told to `note`, stderr by default), fetching from a store what it takes to know them."""
    tid = None
    t = None
    if trace:
        tid = resolve_id(source, parse_hex_id(trace, 16, "trace id", error), "trace", error)
        t = source.ensure_trace(tid)
        if t is None:
            raise error(f"no trace {tid.hex()} in {_where(source)}")
    if span:
        sid = resolve_id(source, parse_hex_id(span, 8, "span id", error), "span", error, tid)
        rows = source.find_span(sid, tid)
        if not rows:
            where = f" in trace {tid.hex()}" if tid is not None else ""
            raise error(f"no span {sid.hex()}{where} in {_where(source)}")
        if len(rows) > 1:  # span ids are unique within a trace only
            index = source.index
            listed = "\n".join(
                f"  trace {index.trace_id_of(r).hex()}  {safe_text(index.service(r))} · "
                f"{safe_text(index.name[r])}" for r in rows[:_SHOWN])
            more = "\n  ..." if len(rows) > _SHOWN else ""
            raise error(f"span id {sid.hex()} is in {len(rows)} traces:\n{listed}{more}\n"
                        "give --trace too")
        return rows[0]
    if t is None:
        t = source.busiest_trace()
        if t is None:
            raise error(f"no traces in {_where(source)}")
        (note or _to_stderr)(_default_note(source, t))
    return source.index.traces[t].root


def _default_note(source: Source, t: int) -> str:
    s = source.index.traces[t]
    links = s.links_in + s.links_out
    why = (f"the one with the most async links ({links})" if links
           else f"no trace has async links: the biggest ({counted(s.spans, 'span')})")
    if source.busiest_scope:
        why += f" {source.busiest_scope}"
    root = s.root
    what = (f" ({safe_text(source.index.service(root))} · {safe_text(source.index.name[root])})"
            if root >= 0 else "")
    return f"trace-tui: no --trace or --span given: showing trace {s.trace_id.hex()}{what}, {why}"


def _to_stderr(message: str) -> None:
    print(message, file=sys.stderr)


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
