"""The Traces filter's full-text search at scale: build time and memory, and each key.

    python benchmarks/search.py                 # 1,000,000 spans (~200,000 traces)
    python benchmarks/search.py --spans 20000   # what CI runs

Generates the same SDK-shaped spans as benchmarks/load.py (OTLP/JSON Lines, small traces as
in benchmarks/list.py), loads them, then in the same process:

  build    : views.search.build_search (what the TUI's background worker runs): wall time,
             and the RSS it adds to the loaded index (current RSS, before and after)
  keys     : RowFilter.apply (what the Traces table runs on every key) over every trace, for
             each prefix of a few queries typed a key at a time: p50/p95/max per key
  floor    : a bare `q in text` over the same number of short strings (what the table did
             per key before, on the root's text only), for scale in the same run

Figures are medians of --repeat runs of the keys; the machine is shared, so re-run noisy ones.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.dirname(HERE))

from load import generate  # noqa: E402


def rss() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


QUERIES = ["get /api/v1/resource17", "svc-7", "host-3", "thread.id=63", "no such thing",
           "service:svc-2"]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--spans", type=int, default=1_000_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--dir", help="keep the generated files here (default: a temp dir)")
    ap.add_argument("--reuse", action="store_true",
                    help="with --dir: use the files an earlier run of this script or list.py made")
    args = ap.parse_args()

    from async_trace_tui.loading import load
    from async_trace_tui.views.search import RowFilter, build_search
    from async_trace_tui.views.traces import trace_rows

    directory = args.dir or tempfile.mkdtemp(prefix="att-bench-search-")
    os.makedirs(directory, exist_ok=True)
    json_path = os.path.join(directory, "spans.jsonl")
    if not (args.reuse and os.path.exists(json_path)):
        _, json_path = generate(args.spans, directory, trace_spans=(1, 9))
    t = time.perf_counter()
    index, _ = load([json_path])
    rows = trace_rows(index)
    print(f"{len(index):,} spans, {len(rows):,} traces loaded in {time.perf_counter() - t:.1f} s")
    before = rss()
    t = time.perf_counter()
    search, services_text, services = build_search(index)
    build = time.perf_counter() - t
    after = rss()
    print(f"build    {build:6.2f} s   RSS {before / 1e6:,.0f} MB -> {after / 1e6:,.0f} MB "
          f"(+{(after - before) / 1e6:,.0f} MB, {(after - before) / before:.1%}); "
          f"text {(sum(map(len, search.segs)) + sum(map(len, search.resources))) / 1e6:,.0f} MB")

    order = list(range(len(rows)))
    trace_of = [r.summary.index for r in rows]
    quick = [f"{r.root_service}\n{r.root_operation}".lower() for r in rows]
    t = time.perf_counter()
    row_filter = RowFilter(trace_of, quick, search, services_text)
    print(f"rows     {(time.perf_counter() - t) * 1000:6.1f} ms to ready the table's filter (once)")
    per_key: list[float] = []
    floor: list[float] = []
    for _ in range(args.repeat):
        for q in QUERIES:
            for k in range(1, len(q) + 1):
                t = time.perf_counter()
                kept = row_filter.apply(order, q[:k])
                per_key.append(time.perf_counter() - t)
                t = time.perf_counter()
                _ = [i for i in order if q[:k] in quick[i]]
                floor.append(time.perf_counter() - t)
        del kept
    per_key.sort()
    floor.sort()

    def pct(xs: list[float], p: float) -> float:
        return xs[min(len(xs) - 1, int(p * len(xs)))] * 1000

    print(f"keys     p50 {pct(per_key, .5):6.1f} ms  p95 {pct(per_key, .95):6.1f} ms  "
          f"max {per_key[-1] * 1000:6.1f} ms   ({len(per_key)} keys over {len(rows):,} traces)")
    print(f"floor    p50 {pct(floor, .5):6.1f} ms  p95 {pct(floor, .95):6.1f} ms   "
          f"(root text only); ratio p50 {statistics.median(per_key) / statistics.median(floor):.1f}x")
    if not args.dir:
        for name in os.listdir(directory):
            os.unlink(os.path.join(directory, name))
        os.rmdir(directory)
    return 0


if __name__ == "__main__":
    sys.exit(main())
