"""The service map (`--map`) against the load of the same spans, side by side in one run.

    python benchmarks/map.py                  # 1,000,000 spans
    python benchmarks/map.py --spans 20000    # what CI runs

Generates N SDK-shaped spans in traces of 5-60 spans over 24 services (a child stays in its
parent's service 70% of the time, else calls one of the next three: about a third of the
pairs cross services; a sixth of
the spans are PRODUCER/CONSUMER, CONSUMER children of a PRODUCER are async pairs, ~2% of
spans link to producers of earlier traces, a few links point at spans never written, 1%
errors), written as OTLP protobuf in exporter-sized batches, one ResourceSpans per service
and batch. Then, in this process, prints medians over --repeat runs of:

  load (floor) : async_trace_tui.loading.load() of the file -> SpanIndex
  map          : views.service_map.build_map(index): services, edges, percentiles
  map + JSON   : the same and its §9 JSON as --map --json writes it
  by resource  : build_map(index, "resource:k8s.namespace.name")
  CPU          : process CPU seconds of the load and of build_map (on a loaded machine the
                 wall clock also counts other tenants' work)
  longest stall: while the map is built in a thread (as the TUI's worker does), the longest
                 a 1 ms ticker in the main thread (the TUI's event loop) waited, against the
                 same ticker with nothing else running (its floor)

The bar: the map of 1M spans under 2 s, i.e. a fraction of the load it follows.
"""

from __future__ import annotations

import argparse
import io
import os
import random
import statistics
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from async_trace_tui.gcpause import paused_gc  # noqa: E402
from async_trace_tui.loading import load  # noqa: E402
from async_trace_tui.views.render_map import write_map  # noqa: E402
from async_trace_tui.views.service_map import build_map  # noqa: E402

SERVICES = [f"svc-{i:02d}" for i in range(24)]


def generate(n: int, path: str, seed: int = 7) -> dict[str, int]:
    """Write n spans to `path` (OTLP protobuf TracesData); returns a few counts."""
    from opentelemetry.proto.trace.v1 import trace_pb2

    rnd = random.Random(seed)
    t0 = 1_764_000_000_000_000_000
    producers: list[tuple[bytes, bytes]] = []
    made = links = 0
    batch = 2000
    with open(path, "wb") as f:
        while made < n:
            by_service: dict[str, list[tuple]] = {}
            in_batch = 0
            while in_batch < batch and made + in_batch < n:
                tid = rnd.randbytes(16)
                size = min(rnd.randint(5, 60), n - made - in_batch)
                start = t0 + (made + in_batch) * 1000
                spans: list[tuple[bytes, str, int]] = []  # (span id, service, kind)
                for k in range(size):
                    sid = rnd.randbytes(8)
                    if spans:
                        pi = rnd.randrange(len(spans))
                        parent, psvc, pkind = spans[pi]
                        # a service calls the next few (a layered system, ~150 edges)
                        svc = psvc if rnd.random() < 0.7 else SERVICES[
                            (SERVICES.index(psvc) + rnd.randint(1, 3)) % len(SERVICES)]
                        kind = 5 if pkind == 4 else rnd.choice((1, 2, 3, 3, 4))
                    else:
                        parent, svc, kind = b"", rnd.choice(SERVICES), 2
                    span_links = []
                    if kind == 4:
                        producers.append((tid, sid))
                    elif producers and rnd.random() < 0.02:
                        span_links = [rnd.choice(producers) for _ in range(rnd.randint(1, 5))]
                        if rnd.random() < 0.05:
                            span_links.append((rnd.randbytes(16), rnd.randbytes(8)))
                        links += len(span_links)
                    st = start + k * 10_000
                    en = st + rnd.randint(1_000, 5_000_000)
                    status = 2 if rnd.random() < 0.01 else 0
                    by_service.setdefault(svc, []).append(
                        (tid, sid, parent, f"op-{rnd.randrange(80)}", kind, st, en, span_links,
                         status))
                    spans.append((sid, svc, kind))
                in_batch += size
            made += in_batch
            f.write(_batch(trace_pb2, by_service))
    return {"spans": made, "links": links}


def _batch(trace_pb2, by_service: dict[str, list[tuple]]) -> bytes:
    data = trace_pb2.TracesData()
    for svc, spans in by_service.items():
        rs = data.resource_spans.add()
        for k, v in (("service.name", svc), ("k8s.namespace.name", f"ns-{int(svc[-2:]) % 5}"),
                     ("telemetry.sdk.language", "python")):
            rs.resource.attributes.add(key=k).value.string_value = v
        ss = rs.scope_spans.add()
        ss.scope.name = "opentelemetry.instrumentation.flask"
        for tid, sid, parent, name, kind, st, en, links, status in spans:
            sp = ss.spans.add(trace_id=tid, span_id=sid, parent_span_id=parent, name=name,
                              kind=kind, start_time_unix_nano=st, end_time_unix_nano=en)
            sp.attributes.add(key="http.method").value.string_value = "GET"
            for lt, ls in links:
                sp.links.add(trace_id=lt, span_id=ls)
            if status:
                sp.status.code = status
    # Concatenated TracesData messages are one valid TracesData.
    return data.SerializeToString()


CPU: list[tuple[str, float]] = []  # (what, CPU seconds) of each timed run


def timed(fn, *args) -> float:
    """Wall seconds of fn(*args); its CPU seconds go to CPU (a shared machine's wall
    clock counts the other tenants' work too)."""
    cpu = time.process_time()
    began = time.perf_counter()
    fn(*args)
    wall = time.perf_counter() - began
    CPU.append((getattr(fn, "__name__", "?"), time.process_time() - cpu))
    return wall


def longest_stall(work=None) -> float:
    """The longest gap between ticks of a 1 ms sleep loop while `work()` runs in a thread
    (or for 0.5 s with no work)."""
    import threading

    done = threading.Event()
    thread = None
    if work is not None:
        def run() -> None:
            work()
            done.set()
        thread = threading.Thread(target=run)
        thread.start()
    else:
        threading.Timer(0.5, done.set).start()
    worst = 0.0
    last = time.perf_counter()
    while not done.is_set():
        time.sleep(0.001)
        now = time.perf_counter()
        worst = max(worst, now - last)
        last = now
    if thread is not None:
        thread.join()
    return worst


def map_json(index) -> None:
    write_map(build_map(index), io.StringIO(), True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--spans", type=int, default=1_000_000)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "spans.binpb")
        facts = generate(args.spans, path)
        print(f"{facts['spans']:,} spans, {facts['links']:,} links, "
              f"{os.path.getsize(path) / 1e6:.0f} MB protobuf; medians of {args.repeat} runs")
        loads, maps, jsons, res, stalls, idle = [], [], [], [], [], []
        index = None
        for _ in range(args.repeat):
            index = None
            cpu = time.process_time()
            began = time.perf_counter()
            index, _report = load([path])
            loads.append(time.perf_counter() - began)
            CPU.append(("load", time.process_time() - cpu))
            # As the CLI and the TUI's worker run it: cyclic GC paused around bulk work.
            with paused_gc():
                maps.append(timed(build_map, index))
                jsons.append(timed(map_json, index))
                res.append(timed(build_map, index, "resource:k8s.namespace.name"))
                stalls.append(longest_stall(lambda: build_map(index)))  # noqa: B023
                idle.append(longest_stall())
        m = build_map(index)
        print(f"  {len(m.services)} services, {len(m.edges)} edges "
              f"({sum(e.is_async for e in m.edges)} async), "
              f"{sum(e.count for e in m.edges):,} pairs")
        floor = statistics.median(loads)
        cpu_of = {name: statistics.median([c for n, c in CPU if n == name])
                  for name in {n for n, _ in CPU}}
        print(f"  load (floor)  {floor:7.3f} s   (CPU {cpu_of['load']:.3f} s)")
        for label, xs in (("map", maps), ("map + JSON", jsons), ("by resource", res)):
            t = statistics.median(xs)
            print(f"  {label:<12}  {t:7.3f} s   {t / floor:5.2f}x the load")
        print(f"  map CPU       {cpu_of['build_map']:7.3f} s   "
              f"{cpu_of['build_map'] / cpu_of['load']:5.2f}x the load's CPU "
              "(build_map runs, both groupings)")
        print(f"  longest stall {1000 * statistics.median(stalls):7.1f} ms  (ticker alone: "
              f"{1000 * statistics.median(idle):.1f} ms)")


if __name__ == "__main__":
    main()
