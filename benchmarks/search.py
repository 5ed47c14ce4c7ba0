"""The Traces filter's full-text search at scale: build time and memory, and each key.

    python benchmarks/search.py                 # 1,000,000 spans (~200,000 traces)
    python benchmarks/search.py --spans 20000   # what CI runs
    python benchmarks/search.py --dir /tmp/s --reuse   # keep and reuse the generated file

Generates the same SDK-shaped spans as benchmarks/load.py (OTLP/JSON Lines, small traces as
in benchmarks/list.py), loads them, then in the same process:

  build    : views.search.build_search (what the TUI's background worker runs): wall time,
             and the RSS it adds to the loaded index (current RSS, before and after)
  ui/key   : what the Traces table does on the UI thread for a key (TracesTable.set_filter,
             the real table, unmounted: answered at once when cheap, else handed to a
             thread), for each query typed a key at a time and erased a key at a time, the
             cursor on a trace in the middle: p50/p95/max per key
  answer   : for the keys handed to a thread, the thread's time to the answer (the rows
             shown meanwhile are the previous answer, marked "searching…")
  apply    : the UI thread's part when a thread's answer arrives (its kept rows are made
             in the thread; the cursor's trace is looked up in them)
  floor    : a bare `q in text` over every row's root service and operation (what the table
             did per key before the full-text search), for scale in the same run

Figures are medians of --repeat runs; the machine is shared, so re-run noisy ones.
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


def typed(query: str) -> list[str]:
    """What the filter holds after each key: typed a key at a time, then erased."""
    keys = [query[:k] for k in range(1, len(query) + 1)]
    return keys + keys[-2::-1]


def pct(xs: list[float], p: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(p * len(xs)))] * 1000 if xs else 0.0


def line(name: str, xs: list[float], note: str = "") -> str:
    if not xs:
        return f"{name:<9}(none)"
    return (f"{name:<9}p50 {statistics.median(xs) * 1000:6.1f} ms  p95 {pct(xs, .95):6.1f} ms  "
            f"max {max(xs) * 1000:6.1f} ms   {note}")


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
    from async_trace_tui.ui.widgets.traces_table import PreparedRows, TracesTable
    from async_trace_tui.views.search import FilterJob, build_search, kept_rows
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
    search, _, _ = build_search(index)
    build = time.perf_counter() - t
    after = rss()
    text = sum(map(len, search.chunks)) + sum(map(len, search.resources))
    print(f"build    {build:6.2f} s   RSS {before / 1e6:,.0f} MB -> {after / 1e6:,.0f} MB "
          f"(+{(after - before) / 1e6:,.0f} MB, {(after - before) / before:.1%}); "
          f"text {text / 1e6:,.0f} MB in {len(search.chunks):,} chunks")

    class Table(TracesTable):
        """The real table, unmounted: a key's work on the UI thread is `set_filter`; the
        work it hands to a thread is kept here, run after the key, and its answer handed
        back as the thread would."""

        def _budget(self) -> float:
            return self.sync_rows

        def _work(self, job: FilterJob) -> None:
            self.job = (job, self._generation, self._sorted(), self._order_key())

    ui: list[float] = []
    answer: list[float] = []
    apply: list[float] = []
    floor: list[float] = []
    at_once = threaded = 0
    quick = [f"{r.root_service}\n{r.root_operation}".lower() for r in rows]
    for _ in range(args.repeat):
        table = Table(PreparedRows(rows))  # a fresh table: nothing remembered
        table.set_search_texts(search)
        order = table._sorted()
        table.set_reactive(TracesTable.cursor, len(order) // 2)  # (unmounted: no scrolling)
        for q in QUERIES:
            for key in typed(q):
                table.job = None
                t = time.perf_counter()
                table.set_filter(key)
                ui.append(time.perf_counter() - t)
                if table.job is None:
                    at_once += 1
                else:
                    threaded += 1
                    job, generation, order, order_key = table.job
                    t = time.perf_counter()
                    flags = job.finish()
                    view = kept_rows(order, flags)
                    answer.append(time.perf_counter() - t)
                    t = time.perf_counter()
                    table.on_traces_table_filter_done(
                        TracesTable.FilterDone(generation, job.query, flags, view, order_key, set()))
                    apply.append(time.perf_counter() - t)
                assert not table.searching
                t = time.perf_counter()
                _ = [i for i in order if key in quick[i]]
                floor.append(time.perf_counter() - t)

    keys = len(ui)
    print(line("ui/key", ui, f"({keys} keys over {len(rows):,} traces: {at_once} answered at "
                             f"once, {threaded} in a thread)"))
    print(line("answer", answer, "(in the thread, the previous rows shown meanwhile)"))
    print(line("apply", apply, "(UI thread, when a thread's answer arrives)"))
    print(line("floor", floor, "(root text only, every row)"))
    print(f"ratio    ui/key p50 {statistics.median(ui) / statistics.median(floor):.2f}x, "
          f"p95 {pct(ui, .95) / pct(floor, .95):.2f}x the floor's")
    if not args.dir:
        for name in os.listdir(directory):
            os.unlink(os.path.join(directory, name))
        os.rmdir(directory)
    return 0


if __name__ == "__main__":
    sys.exit(main())
