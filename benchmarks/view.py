"""Dependencies view: time to the first screenful and to the full tree.

    python benchmarks/view.py                       # (a) 100,000-span trace, (b) 10,000 links
    python benchmarks/view.py --spans 20000 --links 2000 --repeat 3   # what CI runs

(a) one trace of N spans, fan-out up to 50 per span, a few hundred distinct operations;
(b) one consumer span whose links point at L producer spans in L other traces.
For each, prints the median over --repeat runs of:
  first screenful : build the view and lay out the first 60 rows as the TUI opens them
  full tree       : walk every node of the tree (grouped by operation; for (b) no cap),
                    with the cyclic GC paused, as --print and --json do
Data is OTLP/JSON loaded through the real loader; the view is rebuilt from scratch each run.
The bar: first screenful under 50 ms in both, and not growing with N or L; full tree of (a)
grouped by operation under 1 s.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import tempfile
import time
from itertools import islice

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from async_trace_tui.gcpause import paused_gc  # noqa: E402
from async_trace_tui.loading import load  # noqa: E402
from async_trace_tui.views.dependencies import DependencyView, ViewOptions, walk  # noqa: E402

SCREEN = 60


def _span(tid: str, sid: str, name: str, parent: str, kind: int, start: int, end: int,
          links: list[tuple[str, str]] | None = None) -> dict:
    d = {"traceId": tid, "spanId": sid, "name": name, "kind": kind,
         "startTimeUnixNano": str(start), "endTimeUnixNano": str(end),
         "attributes": [{"key": "http.method", "value": {"stringValue": "GET"}}]}
    if parent:
        d["parentSpanId"] = parent
    if links:
        d["links"] = [{"traceId": t, "spanId": s} for t, s in links]
    return d


def _doc(spans: list[dict]) -> dict:
    return {"resourceSpans": [{"resource": {"attributes": [
        {"key": "service.name", "value": {"stringValue": "bench"}}]},
        "scopeSpans": [{"spans": spans}]}]}


def big_trace(n: int, rnd: random.Random) -> list[dict]:
    tid = rnd.randbytes(16).hex()
    ids = [rnd.randbytes(8).hex() for _ in range(n)]
    spans = [_span(tid, ids[0], "GET /root", "", 2, 0, 10 * n)]
    frontier, k = [0], 1
    while k < n:
        nxt = []
        for p in frontier:
            for _ in range(rnd.randint(1, 50)):
                if k >= n:
                    break
                spans.append(_span(tid, ids[k], f"op-{rnd.randrange(300)}", ids[p], rnd.choice((1, 3)),
                                   k, k + 1000))
                nxt.append(k)
                k += 1
        frontier = nxt or frontier
    return spans


def fan_in(links: int, rnd: random.Random) -> list[dict]:
    spans, targets = [], []
    for i in range(links):
        tid, sid = rnd.randbytes(16).hex(), rnd.randbytes(8).hex()
        spans.append(_span(tid, sid, f"publish-{i % 20}", "", 4, i, i + 100))
        targets.append((tid, sid))
    spans.append(_span(rnd.randbytes(16).hex(), rnd.randbytes(8).hex(), "batch process", "", 5,
                       links + 1000, links + 5000, targets))
    return spans


def first_screen(index, focus: int, options: ViewOptions) -> int:
    view = DependencyView(index, focus, options)
    expanded = view.initial_expansion(budget=SCREEN)
    return len(list(islice((n for e in expanded for n in e.children()), SCREEN)))


def full_tree(index, focus: int, options: ViewOptions) -> int:
    with paused_gc():  # as `--print`/`--json` walk it
        return sum(1 for _ in walk(DependencyView(index, focus, options).root))


def median_ms(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--spans", type=int, default=100_000)
    ap.add_argument("--links", type=int, default=10_000)
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    rnd = random.Random(3)
    with tempfile.TemporaryDirectory() as d:
        pa, pb = os.path.join(d, "a.json"), os.path.join(d, "b.json")
        with open(pa, "w") as f:
            json.dump(_doc(big_trace(args.spans, rnd)), f)
        with open(pb, "w") as f:
            json.dump(_doc(fan_in(args.links, rnd)), f)
        ia, _ = load([pa])
        ib, _ = load([pb])
    root_a = ia.traces[0].root
    consumer = next(r for r in range(len(ib)) if ib.name[r] == "batch process")
    grouped = ViewOptions(group_by="operation")
    rows = [
        ("(a) trace", f"{args.spans:,} spans", ia, root_a, grouped, ViewOptions(group_by="operation", async_cap=0)),
        ("(b) consumer", f"{args.links:,} links", ib, consumer, grouped, ViewOptions(group_by="operation", async_cap=0)),
        ("(b) consumer", "ungrouped", ib, consumer, ViewOptions(group_by="none"), ViewOptions(group_by="none", async_cap=0)),
    ]
    print(f"median of {args.repeat} runs")
    for label, size, index, focus, opts, full_opts in rows:
        first = median_ms(lambda: first_screen(index, focus, opts), args.repeat)  # noqa: B023
        nodes = full_tree(index, focus, full_opts)
        full = median_ms(lambda: full_tree(index, focus, full_opts), args.repeat)  # noqa: B023
        print(f"{label:13s} {size:>14s}  first screenful {first:7.1f} ms   full tree {full:8.1f} ms ({nodes:,} nodes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
