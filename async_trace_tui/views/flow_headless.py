"""`--flow` and `--flow --op`: pick the start(s), work the flow out, write it to stdout."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, Any

from ..gcpause import paused_gc
from ..textsafe import safe_json_dumps
from .flow import Flow, distribution, reach
from .flow_render import (
    FLOW_STYLES,
    distribution_json,
    distribution_lines,
    flow_json,
    flow_lines,
)
from .format import safe_text
from .glyphs import glyphs
from .headless import choose_focus
from .labels import Parts, plain, styled

if TYPE_CHECKING:
    from ..sources import Source


def add_flow_arguments(p: argparse.ArgumentParser) -> None:
    flow = p.add_argument_group("async flow: end-to-end latency and critical path")
    flow.add_argument("--flow", action="store_true",
                      help="print the flow of --span (or --trace's root, or the root of the "
                           "trace --print opens on): end to end latency and critical path "
                           "(--json: as JSON)")
    flow.add_argument("--op", metavar="'SERVICE OPERATION'",
                      help="with --flow: every span of that service and operation as a start: "
                           "p50/p95/max end to end and the dominant segments")


def check_flow_arguments(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """Usage errors (exit 2) before any file is read."""
    if args.op is not None and not args.flow:
        parser.error("--op goes with --flow")
    if args.flow and (args.list or args.print_tree or getattr(args, "map", False)):
        parser.error("--flow cannot be combined with --list, --print or --map")
    if args.op is not None and (args.span or args.trace):
        parser.error("--op takes every span of the operation as a start: drop --span/--trace")


def complete_flow(source: Source, start: int) -> Flow:
    """The flow of `start` with every span it reaches known: a store fetches what the
    spans reached so far lead to, a round per hop, until nothing is missing."""
    while True:
        flow = Flow(source.index, start)
        if not source.lazy:
            return flow
        need = [r for r in flow.dist if source.pending((r,))]
        if not need:
            return flow
        source.fetch(need)


def complete_flows(source: Source, starts: list[int]) -> None:
    """Fetch what the flows of all `starts` reach, a round per hop for all of them at once."""
    while source.lazy:
        index = source.index
        seen: set[int] = set()
        for s in starts:
            seen.update(reach(index, s))
        need = [r for r in seen if source.pending((r,))]
        if not need:
            return
        source.fetch(need)


def run(source: Source, args: argparse.Namespace, error: type[Exception]) -> int:
    g = glyphs(args.ascii)
    with paused_gc():
        if args.op is not None:
            said = len(source.report.messages)
            op = source.operation_starts(args.op)
            for line in source.report.messages[said:]:  # (a store's --limit, say)
                print(safe_text(line), file=sys.stderr)
            if op is None:
                raise error(f"no span has the service and operation {safe_text(args.op)!r} "
                            "(--op 'SERVICE OPERATION', as --list shows them)")
            found, starts = op
            complete_flows(source, starts)
            dist = distribution(source.index, starts)
            if args.json:
                _write_json(distribution_json(dist))
                return 0
            what: Parts = [(safe_text(found[0]), "service"), (g.sep, ""),
                           (safe_text(found[1]), "operation")]
            _write_lines(distribution_lines(dist, what, g, args.ascii))
            return 0
        start = choose_focus(source, args.trace, args.span, error)
        flow = complete_flow(source, start)
        if args.json:
            _write_json(flow_json(flow))
            return 0
        _write_lines(flow_lines(flow, g, args.ascii))
    return 0


def _write_json(doc: dict[str, Any]) -> None:
    # Every control character (DEL too) and bidi override leaves as \\uXXXX (SPEC §5)
    sys.stdout.write(safe_json_dumps(doc, indent=1, ensure_ascii=True) + "\n")


def _write_lines(lines: list[Parts]) -> None:
    out = sys.stdout
    if out.isatty():
        from rich.console import Console

        console = Console(highlight=False)
        for parts in lines:
            styles = [(text, FLOW_STYLES.get(style, style)) for text, style in parts]
            console.print(styled(styles), crop=False, overflow="ignore", no_wrap=True)
    else:
        for parts in lines:
            out.write(plain(parts).rstrip() + "\n")
