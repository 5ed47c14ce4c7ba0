"""`trace-tui FILE --list` and `--list --json` against the load alone, side by side in one run.

    python benchmarks/list.py                 # 1,000,000 spans (bar: time 1.3x, RSS 1.2x)
    python benchmarks/list.py --spans 100000 --repeat 3 --max-time-ratio 2 --max-rss-ratio 1.5
                                              # what CI runs: fails on a gross regression
                                              # (at 20,000 spans the fixed cost of the table
                                              # put the ratio at 1.8-2.1x by noise alone)

The same SDK-shaped spans as benchmarks/load.py (OTLP/JSON Lines, or --format protobuf), in
small traces (1-9 spans, ~200,000 traces per million spans, as in the file issue 8 timed).
Each measurement runs in a fresh process, --repeat times, interleaved, and the medians of
wall time and peak RSS are printed:

  load        : async_trace_tui.loading.load() of the file, as the CLI does it
  --list      : cli.main([FILE, "--list"]), stdout to /dev/null (load + the text table)
  --list --json : cli.main([FILE, "--list", "--json"]), stdout to /dev/null
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from load import generate  # noqa: E402 - the sibling benchmark's data, so figures compare

KINDS = {"load": [], "list": ["--list"], "list-json": ["--list", "--json"]}
LABELS = {"load": "load", "list": "--list", "list-json": "--list --json"}


def _child(which: str, path: str) -> None:
    sys.path.insert(0, os.path.dirname(HERE))
    from async_trace_tui.cli import main
    from async_trace_tui.loading import load

    sink = open(os.devnull, "w")  # noqa: SIM115 - lives as long as the process
    real_stdout = sys.stdout
    sys.stdout, sys.stderr = sink, sink
    t = time.perf_counter()
    if which == "load":
        index, _ = load([path])
        spans = len(index)
    else:
        spans = -1 if main([path, *KINDS[which]]) else 0
    wall = time.perf_counter() - t
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    real_stdout.write(json.dumps({"spans": spans, "wall": wall, "rss": rss}) + "\n")


def _run(which: str, path: str) -> dict:
    out = subprocess.run([sys.executable, __file__, "--child", which, path],
                         check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--spans", type=int, default=1_000_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--format", choices=("jsonl", "protobuf"), default="jsonl")
    ap.add_argument("--dir", help="keep the generated files here (default: a temp dir)")
    ap.add_argument("--reuse", action="store_true",
                    help="with --dir: use the files an earlier run of this script made there")
    ap.add_argument("--max-time-ratio", type=float,
                    help="exit 1 when --list or --list --json takes more than this times the load")
    ap.add_argument("--max-rss-ratio", type=float,
                    help="exit 1 when their peak RSS is more than this times the load's")
    ap.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        _child(*args.child)
        return 0

    directory = args.dir or tempfile.mkdtemp(prefix="att-bench-list-")
    os.makedirs(directory, exist_ok=True)
    proto_path, json_path = (os.path.join(directory, "spans.binpb"),
                             os.path.join(directory, "spans.jsonl"))
    t = time.perf_counter()
    if not (args.reuse and os.path.exists(proto_path) and os.path.exists(json_path)):
        proto_path, json_path = generate(args.spans, directory, trace_spans=(1, 9))
    path = json_path if args.format == "jsonl" else proto_path
    print(f"{args.spans:,} spans ready in {time.perf_counter() - t:.1f} s: {args.format} "
          f"{os.path.getsize(path) / 1e6:.0f} MB")
    runs: dict[str, list[dict]] = {k: [] for k in KINDS}
    for _ in range(args.repeat):  # interleaved, so drift hits all alike
        for which in KINDS:
            runs[which].append(_run(which, path))
    assert runs["load"][0]["spans"] == args.spans
    assert all(r["spans"] == 0 for k in ("list", "list-json") for r in runs[k]), runs
    med = {k: {m: statistics.median(r[m] for r in v) for m in ("wall", "rss")}
           for k, v in runs.items()}
    base = med["load"]
    print(f"{'load':14s} {base['wall']:6.2f} s {base['rss'] / 1e6:7.0f} MB   (median of {args.repeat})")
    for which in ("list", "list-json"):
        m = med[which]
        print(f"{LABELS[which]:14s} {m['wall']:6.2f} s {m['rss'] / 1e6:7.0f} MB   ratio to load: "
              f"time {m['wall'] / base['wall']:.2f}x  memory {m['rss'] / base['rss']:.2f}x")
    print("bar at 1M spans: time 1.3x, memory 1.2x of the load's")
    over = [f"{LABELS[w]} {what} {r:.2f}x > {bar}x"
            for w in ("list", "list-json")
            for what, r, bar in (("time", med[w]["wall"] / base["wall"], args.max_time_ratio),
                                 ("memory", med[w]["rss"] / base["rss"], args.max_rss_ratio))
            if bar is not None and r > bar]
    if over:
        print("TOO SLOW: " + "; ".join(over))
        return 1
    if not args.dir:
        for p in (proto_path, json_path):
            os.unlink(p)
        os.rmdir(directory)
    return 0


if __name__ == "__main__":
    sys.exit(main())
