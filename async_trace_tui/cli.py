"""`trace-tui FILE...`: the TUI, or headless `--list`, `--print`, `--json`, `--flow`."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from .loading import default_sample
from .output import fit_for_text

EXIT_OK, EXIT_NOTHING_LOADED, EXIT_USAGE = 0, 1, 2


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="trace-tui",
        description="Explore OpenTelemetry traces in the terminal, async hand-offs (span links) included.",
        epilog="With no FILE, opens the bundled sample. Files may be OTLP/JSON, JSON Lines or "
               "protobuf, Jaeger JSON or Zipkin v2 JSON, plain, .gz or .zst; '-' reads standard "
               "input; directories are read whole. A FILE may also be a store (see 'stores'). "
               "'trace-tui export FILE... --to STORE' writes spans into a store.",
    )
    p.add_argument("files", nargs="*", metavar="FILE")
    p.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    p.add_argument("--max-bytes", type=_size, default=None, metavar="SIZE",
                   help="stop reading an input once it (decompressed) passes SIZE bytes "
                        "(K, M, G suffixes; default a quarter of physical memory)")
    out = p.add_argument_group("headless output (no TUI)")
    out.add_argument("--list", action="store_true", help="print the Traces table")
    out.add_argument("--print", action="store_true", dest="print_tree",
                     help="print the dependencies view as a text tree")
    out.add_argument("--json", action="store_true",
                     help="print the dependencies view (or, with --list, the traces) as JSON")
    out.add_argument("--map", action="store_true",
                     help="print the async service map (with --json: as JSON, SPEC §9)")
    out.add_argument("--by", default="service", metavar="KEY",
                     help="the map's groups: service (default) or resource:KEY")
    from .views.flow_headless import add_flow_arguments

    add_flow_arguments(p)
    view = p.add_argument_group("dependencies view")
    view.add_argument("--trace", metavar="ID", help="focus this trace's root (hex trace id)")
    view.add_argument("--span", metavar="ID", help="focus this span (hex span id)")
    view.add_argument("--group-by", default="operation", metavar="KEY",
                      help="operation (default), service, attr:KEY, resource:KEY or none")
    view.add_argument("--agg", default="avg", choices=("max", "min", "avg", "sum"),
                      help="how a merged node shows its spans' durations (default avg)")
    view.add_argument("--hide-internal", action="store_true", help="hide INTERNAL/UNSPECIFIED spans")
    view.add_argument("--async-cap", type=_non_negative, default=3, metavar="N",
                      help="async calls listed per level and direction (default 3, 0 = no cap)")
    view.add_argument("--depth", type=_non_negative, default=3, metavar="N",
                      help="async hops followed in headless output (default 3)")
    view.add_argument("--ascii", action="store_true", help="plain ASCII glyphs and lines")
    store = p.add_argument_group("stores (clickhouse://[USER[:PASSWORD]@]HOST[:PORT][/DB][?table=T&secure=1], "
                                 "chdb:DIR[?database=DB&table=T])")
    store.add_argument("--since", metavar="DURATION|TIME",
                       help="start of the window: 90s, 15m, 1h (default), 7d, or RFC 3339")
    store.add_argument("--until", metavar="TIME", help="end of the window (RFC 3339; default now)")
    store.add_argument("--limit", type=_positive, default=1000, metavar="N",
                       help="traces per page of the Traces table (default 1000); with --flow --op, "
                            "the newest N spans of the operation are the starts")
    _live_arguments(p)
    return p


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("async-trace-tui")
    except PackageNotFoundError:  # run from a source tree that was never installed
        return "unknown"


def _live_arguments(p: argparse.ArgumentParser) -> None:
    live = p.add_argument_group("live mode: receive OTLP while the TUI runs (FILEs are preloaded)")
    live.add_argument("--listen", action="store_true",
                      help="OTLP/gRPC on 127.0.0.1:4317 and OTLP/HTTP on 127.0.0.1:4318")
    live.add_argument("--otlp-grpc", metavar="HOST:PORT", help="OTLP/gRPC here (port 0: a free one)")
    live.add_argument("--otlp-http", metavar="HOST:PORT", help="OTLP/HTTP here (port 0: a free one)")
    live.add_argument("--save", metavar="FILE",
                      help="append every accepted request to FILE (OTLP/JSON Lines)")
    live.add_argument("--no-tui", action="store_true",
                      help="with --save: record until ctrl+c or SIGTERM, without the TUI")
    live.add_argument("--max-spans", type=_positive, default=1_000_000, metavar="N",
                      help="keep at most N spans, dropping the earliest traces (default 1,000,000)")
    live.add_argument("--auth-token", metavar="TOKEN",
                      help="require 'Authorization: Bearer TOKEN' on every request")


def _positive(text: str) -> int:
    value = _non_negative(text)
    if value == 0:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def _live(parser: argparse.ArgumentParser, args: argparse.Namespace, headless: bool) -> int:
    from .live import BindError, LiveConfig

    if headless:
        parser.error("--listen/--otlp-grpc/--otlp-http run the TUI (or --no-tui): "
                     "not with --list, --print, --json or --map")
    if args.no_tui and not args.save:
        parser.error("--no-tui records: it needs --save FILE")
    try:
        config = LiveConfig.from_args(args)
    except BindError as e:
        print(f"trace-tui: {e}", file=sys.stderr)
        return EXIT_USAGE
    if args.no_tui:
        from .live.record import run

        return run(config)
    from .ui.app import run_app

    return run_app(args.files, args, live=config)


def _non_negative(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"{value} is negative")
    return value


def _size(text: str) -> int:
    units = {"": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}
    t = text.strip().upper().removesuffix("B").removesuffix("I")
    unit = t[-1:] if t[-1:] in units else ""
    try:
        value = float(t[:len(t) - len(unit)])
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a size (e.g. 500M, 2G)") from None
    if not value > 0 or value * units[unit] > 1 << 60:
        raise argparse.ArgumentTypeError(f"{text!r} is not a positive size")
    return int(value * units[unit])


def main(argv: list[str] | None = None) -> int:
    ascii_only = fit_for_text(sys.stdout)  # first: even --help must not end in a traceback
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["export"]:
        from .export_cli import main as export_main

        return export_main(argv[1:])
    parser = build_parser()
    args = parser.parse_args(argv)
    headless = args.list or args.print_tree or args.json or args.map or args.flow
    from .views.flow_headless import check_flow_arguments

    check_flow_arguments(parser, args)
    _check_combinations(parser, args)
    if headless and ascii_only:
        args.ascii = True
    from .views.grouping import GroupSpecError, parse_group_by
    from .views.service_map import MapSpecError, parse_by

    try:
        parse_group_by(args.group_by)
        parse_by(args.by)
    except (GroupSpecError, MapSpecError) as e:
        parser.error(str(e))  # exits 2, before any file is read
    # (not live.wants_live: importing live loads grpc and aiohttp, seconds for a --list)
    if args.listen or args.otlp_grpc or args.otlp_http:
        return _live(parser, args, headless)
    if args.save or args.no_tui or args.auth_token:
        parser.error("--save, --no-tui and --auth-token go with --listen, --otlp-grpc or --otlp-http")
    files = args.files or [str(default_sample())]

    if (args.since or args.until) and not any(f.startswith(("clickhouse://", "chdb:")) for f in files):
        parser.error("--since/--until apply to a clickhouse:// or chdb: source")
    if not headless:
        from .ui.app import run_app

        return run_app(files, args)

    from .sources import SourceError, open_source

    try:
        source = open_source(files, since=args.since, until=args.until, limit=args.limit,
                             max_bytes=args.max_bytes)
    except SourceError as e:  # a malformed URL or window
        print(f"trace-tui: {e}", file=sys.stderr)
        return EXIT_USAGE
    try:
        source.open()
    except SourceError as e:
        source.close()
        print(f"trace-tui: {e}", file=sys.stderr)
        return EXIT_NOTHING_LOADED
    said = source.report_lines()
    for line in said:
        print(line, file=sys.stderr)
    if not source.lazy and not len(source.index):
        print("trace-tui: nothing could be loaded", file=sys.stderr)
        return EXIT_NOTHING_LOADED
    try:
        if args.list:
            return _list(source, args)
        if args.map:
            return _map(source, args)
        if args.flow:
            from .views import flow_headless

            return flow_headless.run(source, args, UsageError)
        return _dependencies(source, args)
    except SourceError as e:
        print(f"trace-tui: {e}", file=sys.stderr)
        return EXIT_NOTHING_LOADED
    except UsageError as e:
        print(f"trace-tui: {e}", file=sys.stderr)
        return EXIT_USAGE
    except BrokenPipeError:
        return EXIT_OK
    finally:
        if source.lazy:  # what the fetches met (copies of spans a store holds twice)
            for line in source.report_lines():
                if line not in said:
                    print(line, file=sys.stderr)
        source.close()


class UsageError(Exception):
    pass


_VIEW_OPTIONS = ("group_by", "agg", "hide_internal", "async_cap", "depth")


def _check_combinations(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """Options that contradict each other are usage errors (exit 2) before any file is read,
    never one of them silently winning."""
    outputs = [flag for flag, on in (("--list", args.list), ("--print", args.print_tree),
                                     ("--map", args.map)) if on]
    if len(outputs) > 1:
        parser.error(f"{' and '.join(outputs)} are different outputs: choose one")
    if args.print_tree and args.json:
        parser.error("--print writes the view as text and --json as JSON: choose one")
    if args.list and (args.trace or args.span):
        parser.error("--list lists every trace; --trace/--span focus a view (--print, --json)")
    if args.map and (args.trace or args.span):
        parser.error("--map maps every span; --trace/--span focus a view (--print, --json) "
                     "or a flow (--flow)")
    other = next((flag for flag, on in (("--list", args.list), ("--map", args.map),
                                        ("--flow", args.flow)) if on), None)
    if other:
        changed = [f"--{name.replace('_', '-')}" for name in _VIEW_OPTIONS
                   if getattr(args, name) != parser.get_default(name)]
        if changed:
            parser.error(f"{', '.join(changed)} shape the dependencies view, not {other}")
    if (args.by != parser.get_default("by") and not args.map
            and (args.list or args.print_tree or args.json or args.flow)):
        parser.error("--by groups the service map: it goes with --map (or the TUI)")


def _list(source: Any, args: argparse.Namespace) -> int:
    from .views.glyphs import glyphs
    from .views.render_list import write_json, write_text

    rows = source.trace_rows()
    if args.json:
        sys.stdout.flush()
        write_json(rows, sys.stdout.buffer)
    else:
        write_text(rows, sys.stdout, glyphs(args.ascii), styled=sys.stdout.isatty())
    return EXIT_OK


def _map(source: Any, args: argparse.Namespace) -> int:
    from .views.render_map import write_map
    from .views.service_map import ServiceMap, build_map

    # A store computes the §9 JSON itself (SQL aggregates under views/service_map.py's rules).
    compute = getattr(source, "service_map_json", None)
    service_map = (ServiceMap.from_json(compute(args.by), args.by) if compute is not None
                   else build_map(source.index, args.by))
    write_map(service_map, sys.stdout, as_json=args.json, ascii_only=args.ascii)
    return EXIT_OK


def _dependencies(source: Any, args: argparse.Namespace) -> int:
    from .views import headless

    return headless.run(source, args, UsageError)


if __name__ == "__main__":
    sys.exit(main())
