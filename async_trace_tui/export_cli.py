"""`trace-tui export FILE... --to chdb:DIR|clickhouse://...`: files into a store's otel_traces."""

from __future__ import annotations

import argparse
import sys

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(
        prog="trace-tui export",
        description="Write the spans of trace files into ClickHouse's otel_traces table, as the "
                    "Collector's clickhouseexporter does (creating its tables when missing).")
    p.add_argument("files", nargs="+", metavar="FILE")
    p.add_argument("--to", required=True, metavar="URL",
                   help="chdb:DIR[?database=DB&table=T] or clickhouse://[USER[:PASSWORD]@]HOST[:PORT][/DB]")
    args = p.parse_args(argv)
    if not args.to.startswith(("chdb:", "clickhouse://")):
        p.error(f"--to {args.to!r}: give a chdb:DIR or clickhouse:// URL")
    from .loading import load
    from .sources import SourceError
    from .sources.clickhouse.export import export
    from .sources.clickhouse.target import TargetError

    index, report = load(args.files)
    for line in report.lines():
        print(line, file=sys.stderr)
    if not len(index):
        print("trace-tui: nothing could be loaded", file=sys.stderr)
        return EXIT_FAILED
    try:
        n = export(index, args.to)
    except TargetError as e:
        print(f"trace-tui: {e}", file=sys.stderr)
        return EXIT_USAGE
    except SourceError as e:
        print(f"trace-tui: export failed: {e}", file=sys.stderr)
        return EXIT_FAILED
    print(f"exported {n:,} spans to {args.to.split('?')[0] if args.to.startswith('chdb:') else 'ClickHouse'}",
          file=sys.stderr)
    return EXIT_OK
