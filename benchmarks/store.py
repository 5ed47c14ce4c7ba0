"""ClickHouse store through the project's Source, on chDB: SDK-shaped spans made in SQL.

    python benchmarks/store.py --spans 10000000 --dir /tmp/store10m   # fills once, then reuses
    python benchmarks/store.py --spans 200000                         # what CI runs

Spans are made with INSERT ... SELECT FROM numbers() into the exporter's DDL (lookup table and
its materialized view included), shaped like the bundled sample: traces of 10 spans over four
services (SERVER root, CLIENT calls, a DB call, a PRODUCER), spread over 24 hours; every
100th trace is a batch CONSUMER linking the producers of the 5 traces before it.

One chDB session stays open for the run, as in the TUI (chDB holds one data directory per
process; opening it is timed on its own). Each measurement makes a fresh ClickHouseSource
(nothing fetched, nothing cached by the project) and asks for another trace each repeat;
the first first-screen after the session opened is shown apart (the engine's caches cold):
  first screen   connect + the Traces table's first page (newest first, --since 1h)
  trace by id    ensure_trace() of a trace not fetched yet
  reverse link   who links to a producer span (a link's SpanId among its trace's, -1 h/+24 h)
  consumer view  a batch consumer's trace expanded (its spans, its producers' traces) and
                 its dependencies view built with the initial expansion
  by spans       the Traces table's first page in another order (spans, most first): the
                 window grouped whole
  service map    --map's SQL aggregates over the window (services, sync/async pairs)
  default trace  busiest_trace(): the trace --print/--json/--flow open when none is named
                 (also over a 24 h window: the whole table)
Floors in the same run, through the same backend: `SELECT 1`, and the cheapest newest-first
read there is (the trace ids of the window's newest 1000 spans, ORDER BY Timestamp LIMIT).
Targets: first screen < 1 s, trace and reverse link < 100 ms, consumer view < 500 ms.

Memory: a fresh process opens the first screen, then a consumer's trace and its view, and
prints its RSS at each step (chDB's engine included: it runs in that process) and what the
span index holds; run at two table sizes to see it does not follow the table.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from async_trace_tui.sources.clickhouse.backend import ChdbBackend  # noqa: E402
from async_trace_tui.sources.clickhouse.export import ddl  # noqa: E402
from async_trace_tui.sources.clickhouse.source import ClickHouseSource  # noqa: E402
from async_trace_tui.sources.clickhouse.target import Target  # noqa: E402
from async_trace_tui.sources.window import parse_window  # noqa: E402
from async_trace_tui.views.dependencies import DependencyView, ViewOptions  # noqa: E402

DAY_NS = 86400 * 10**9
END_NS = 1_767_225_600 * 10**9 + DAY_NS  # 2026-01-02T00:00:00Z: the newest span

FILL = """
INSERT INTO otel.otel_traces (Timestamp, TraceId, SpanId, ParentSpanId, SpanName, SpanKind,
    ServiceName, ResourceAttributes, ScopeName, SpanAttributes, Duration, StatusCode,
    `Links.TraceId`, `Links.SpanId`, `Links.TraceState`, `Links.Attributes`)
SELECT
    fromUnixTimestamp64Nano(toInt64({start} + t * {gap} + k * 1000000)),
    bench_tid(t), bench_sid(number),
    if(k = 0, '', bench_sid(t * 10 + [0, 0, 1, 2, 2, 2, 0, 6, 6, 6][k + 1])),
    if(consumer AND k = 0, 'orders process',
       ['GET /checkout', 'render cart', 'POST /orders', 'POST /orders', 'SELECT orders',
        'orders publish', 'GET /cart', 'GET /items', 'SELECT items', 'cache get'][k + 1]),
    if(consumer AND k = 0, 'Consumer',
       ['Server', 'Internal', 'Client', 'Server', 'Client', 'Producer', 'Client', 'Server',
        'Client', 'Internal'][k + 1]),
    if(consumer, 'payments-worker',
       ['frontend', 'frontend', 'frontend', 'checkout', 'checkout', 'checkout', 'frontend',
        'catalog', 'catalog', 'catalog'][k + 1]) AS svc,
    map('service.name', svc, 'deployment.environment', 'bench'),
    'bench',
    multiIf(k IN (0, 2, 3, 6, 7), map('http.method', 'GET'), k IN (4, 8),
            map('db.system', 'postgresql', 'db.statement', 'SELECT 1'), k = 5,
            map('messaging.system', 'kafka'), map()),
    toUInt64(1000000 + (number % 7) * 300000),
    if(number % 97 = 0, 'Error', 'Unset'),
    if(consumer AND k = 0, arrayMap(i -> bench_tid(t - i), range(1, 6)), []),
    if(consumer AND k = 0, arrayMap(i -> bench_sid((t - i) * 10 + 5), range(1, 6)), []),
    if(consumer AND k = 0, ['', '', '', '', ''], []),
    if(consumer AND k = 0, [map(), map(), map(), map(), map()], [])
FROM (SELECT number, intDiv(number, 10) AS t, number % 10 AS k, t % 100 = 99 AS consumer
      FROM numbers({lo}, {n}))
"""


def fill(path: str, spans: int) -> None:
    backend = ChdbBackend(Target("chdb", path=path))
    try:
        for stmt in ddl(Target("chdb", path=path)):
            backend.command(stmt)
        backend.command("CREATE FUNCTION IF NOT EXISTS bench_tid AS (x) -> lower(hex(sipHash128(x)))")
        backend.command("CREATE FUNCTION IF NOT EXISTS bench_sid AS (x) -> "
                        "leftPad(lower(hex(sipHash64(x, 'span'))), 16, '0')")
        traces = spans // 10
        gap = DAY_NS // max(1, traces)
        start = END_NS - DAY_NS
        step = 2_000_000
        for lo in range(0, spans, step):
            backend.command(FILL.format(start=start, gap=gap, lo=lo, n=min(step, spans - lo)))
        backend.command("OPTIMIZE TABLE otel.otel_traces_trace_id_ts FINAL")
    finally:
        backend.close()


def timed(fn, repeat: int) -> tuple[float, list[float]]:
    times = []
    for i in range(repeat):
        t0 = time.perf_counter()
        fn(i)
        times.append(time.perf_counter() - t0)
    return statistics.median(times), times


UNTIL = "2026-01-02T00:00:00Z"


def rss_mb() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def memory_probe(path: str, consumer: int) -> None:
    """In a fresh process: RSS after each step of a user's first minute (printed as JSON)."""
    import json

    steps = {"python + modules": rss_mb()}
    src = ClickHouseSource(f"chdb:{path}", since="1h", until=UNTIL, limit=1000)
    src.connect()
    steps["chDB session open"] = rss_mb()
    rows = src.open()
    steps[f"first screen ({len(rows)} traces)"] = rss_mb()
    tid = bytes.fromhex(src.backend.rows("SELECT bench_tid({t:UInt64})", {"t": consumer})[0][0])
    src.fetch_traces([tid])
    t = src.index.trace_index[tid]
    view = DependencyView(src.index, src.index.traces[t].root, ViewOptions())
    view.initial_expansion()
    steps[f"a consumer's view ({len(src.index)} spans fetched)"] = rss_mb()
    print(json.dumps(steps))
    src.close()


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--spans", type=int, default=10_000_000)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--dir", help="the chDB directory: filled when missing, else reused")
    ap.add_argument("--memory-probe", type=int, metavar="CONSUMER", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.memory_probe is not None:
        memory_probe(args.dir, args.memory_probe)
        return 0
    if args.dir:
        return run(args, args.dir)
    with tempfile.TemporaryDirectory(prefix="store-bench-") as tmp:
        return run(args, str(Path(tmp) / "db"))


def run(args: argparse.Namespace, path: str) -> int:
    fresh = not Path(path).exists()
    if fresh:
        t0 = time.perf_counter()
        fill(path, args.spans)
        print(f"filled {args.spans:,} spans in {time.perf_counter() - t0:.1f} s ({path})")
    url = f"chdb:{path}"
    t0 = time.perf_counter()
    hold = ChdbBackend(Target("chdb", path=path))  # the session, open for the whole run
    opened = time.perf_counter() - t0
    total = hold.rows("SELECT count() FROM otel.otel_traces")[0][0]
    traces = total // 10
    consumers = [t for t in range(traces - 1, 0, -1) if t % 100 == 99][: args.repeat + 1]
    plain = [t for t in range(traces - 3, 0, -7) if t % 100 != 99][: args.repeat]
    ids = {t: hold.rows("SELECT bench_tid({t:UInt64})", {"t": t})[0][0]
           for t in consumers + [c - 1 for c in consumers] + plain}

    def source() -> ClickHouseSource:
        src = ClickHouseSource(url, since="1h", until=UNTIL, limit=1000)
        src.connect()
        return src

    rows_seen = []

    def first_screen(i: int) -> None:
        src = ClickHouseSource(url, since="1h", until=UNTIL, limit=1000)
        rows_seen.append(len(src.open()))
        src.close()

    t0 = time.perf_counter()
    first_screen(0)
    cold = time.perf_counter() - t0
    window = parse_window("1h", UNTIL)
    newest = ("SELECT TraceId FROM otel.otel_traces WHERE Timestamp >= fromUnixTimestamp64Nano({lo:Int64}) "
              "AND Timestamp <= fromUnixTimestamp64Nano({hi:Int64}) ORDER BY Timestamp DESC LIMIT 1000")
    floor_rt, _ = timed(lambda i: hold.rows("SELECT 1"), args.repeat)
    floor_newest, _ = timed(lambda i: hold.rows(newest, {"lo": window[0], "hi": window[1]}),
                            args.repeat)
    print(f"table: {total:,} spans; chDB session open {opened * 1e3:.0f} ms; floors: SELECT 1 "
          f"{floor_rt * 1e3:.1f} ms, newest 1000 spans' trace ids {floor_newest * 1e3:.1f} ms")

    def by_id(i: int) -> None:
        src = source()
        t0 = time.perf_counter()
        assert src.ensure_trace(bytes.fromhex(ids[plain[i % len(plain)]])) is not None
        by_id_times.append(time.perf_counter() - t0)
        src.close()

    def reverse(i: int) -> None:
        src = source()
        producer = bytes.fromhex(ids[consumers[i % len(consumers)] - 1])
        src._fetch_traces([producer])
        t0 = time.perf_counter()
        assert src._fetch_linkers([producer]) >= 1
        reverse_times.append(time.perf_counter() - t0)
        src.close()

    def consumer_view(i: int) -> None:
        src = source()
        t0 = time.perf_counter()
        tid = bytes.fromhex(ids[consumers[i % len(consumers)]])
        src.fetch_traces([tid])
        t = src.index.trace_index[tid]
        view = DependencyView(src.index, src.index.traces[t].root, ViewOptions())
        view.initial_expansion()
        producers = [c for c in view.root.children()[0].children() if c.edge == "async-up"]
        assert producers and sum(c.count for c in producers) == 5
        view_times.append(time.perf_counter() - t0)
        src.close()

    def window_query(ask, since: str = "1h"):
        def once(i: int) -> None:
            src = ClickHouseSource(url, since=since, until=UNTIL, limit=1000)
            src.connect()
            ask(src)
            src.close()
        return once

    by_id_times: list[float] = []
    reverse_times: list[float] = []
    view_times: list[float] = []
    fs, _ = timed(first_screen, args.repeat)
    timed(by_id, args.repeat)
    timed(reverse, args.repeat)
    timed(consumer_view, args.repeat)
    by_spans, _ = timed(window_query(lambda s: s.trace_rows(sort="spans", reverse=True)),
                        args.repeat)
    map_time, _ = timed(window_query(lambda s: s.service_map_json("service")), args.repeat)
    busiest, _ = timed(window_query(lambda s: s.busiest_trace()), args.repeat)
    busiest_day, _ = timed(window_query(lambda s: s.busiest_trace(), "24h"), args.repeat)
    hold.close()
    med = statistics.median
    print(f"first screen ({rows_seen[0]} traces, newest first, 1 h window): {fs * 1e3:.0f} ms "
          f"= {fs / floor_newest:.1f}x the newest-spans floor; the first after the session "
          f"opened {cold * 1e3:.0f} ms   (target < 1000 ms)")
    print(f"trace by id:   {med(by_id_times) * 1e3:.1f} ms = {med(by_id_times) / floor_rt:.0f}x "
          f"SELECT 1   (target < 100 ms)")
    print(f"reverse link:  {med(reverse_times) * 1e3:.1f} ms = {med(reverse_times) / floor_rt:.0f}x "
          f"SELECT 1   (target < 100 ms)")
    print(f"consumer view: {med(view_times) * 1e3:.1f} ms (its trace, 5 producers' traces, view) "
          f"  (target < 500 ms)")
    for label, t in (("by spans:     ", by_spans), ("service map:  ", map_time),
                     ("default trace:", busiest), ("default trace, 24 h window:", busiest_day)):
        print(f"{label} {t * 1e3:.1f} ms = {t / floor_rt:.0f}x SELECT 1, "
              f"{t / floor_newest:.1f}x the newest-spans floor")
    probe_out = subprocess.run(
        [sys.executable, __file__, "--dir", path, "--memory-probe", str(consumers[-1])],
        capture_output=True, text=True, check=True).stdout
    steps = json.loads(probe_out.strip().splitlines()[-1])
    print("memory of a fresh process (RSS, chDB engine in-process included): "
          + ", ".join(f"{k} {v:.0f} MB" for k, v in steps.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
