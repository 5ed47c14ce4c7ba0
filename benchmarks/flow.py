"""The async flow (SPEC §8): one big flow, and the distribution over many flows.

    python benchmarks/flow.py                     # full size (the bars below)
    python benchmarks/flow.py --flow-spans 5000 --flow-traces 50 \\
        --total-spans 50000 --flows 500 --repeat 3   # what CI runs

(a) one flow of --flow-spans spans across --flow-traces traces: a tree of async hand-offs
    (each trace's root consumes what a producer of the trace before it in a 10-ary tree
    published; inside each trace, spans hang in a random tree, one a CONSUMER child of a
    producer). Measured: `--flow --json`'s work (the flow, its critical path and segments,
    services, traces, async hops, errors, the JSON document).
(b) --total-spans spans loaded, of which --flows request traces of one operation, their
    producers consumed 10 at a time by batch traces that each publish an e-mail consumed
    by a third trace. Measured: `--flow --op`'s work (every request as a start, p50/p95/max
    and the segments).

Each is printed with its floor, measured in the same run on the same index: a bare
breadth-first walk (a set of visited rows, children and linked_from, nothing else) over
the same flow(s). Data is OTLP protobuf loaded through the real loader (its time is
printed too). Medians over --repeat runs; the cyclic GC paused as `--flow` pauses it.
The bars: (a) under 1 s at 100,000 spans / 1,000 traces; (b) under 5 s for 10,000 flows
with 1,000,000 spans loaded.
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

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
sys.path.insert(0, HERE)

from load import _proto_batch  # noqa: E402 - the OTLP writer the load benchmark uses

from async_trace_tui.gcpause import paused_gc  # noqa: E402
from async_trace_tui.loading import load  # noqa: E402
from async_trace_tui.views.flow import Flow, distribution, spans_of_operation  # noqa: E402
from async_trace_tui.views.flow_render import flow_json  # noqa: E402

MS = 1_000_000
T0 = 1_764_000_000_000_000_000
SERVER, CLIENT, PRODUCER, CONSUMER, INTERNAL = 2, 3, 4, 5, 1


class Writer:
    """Spans per service, written as one TracesData (a ResourceSpans per batch)."""

    def __init__(self, path: str) -> None:
        self.f = open(path, "wb")  # noqa: SIM115
        self.pending: dict[str, list[tuple]] = {}
        self.count = 0

    def add(self, service: str, span: tuple) -> None:
        batch = self.pending.setdefault(service, [])
        batch.append(span)
        self.count += 1
        if len(batch) >= 2000:
            self.flush(service)

    def flush(self, service: str) -> None:
        spans = self.pending.pop(service, [])
        if spans:
            self.f.write(_proto_batch(_pb(), [("service.name", service)], spans))

    def close(self) -> None:
        for service in list(self.pending):
            self.flush(service)
        self.f.close()


def _pb():
    from opentelemetry.proto.trace.v1 import trace_pb2

    return trace_pb2


def _trace(w: Writer, rnd: random.Random, service: str, root_name: str, root_kind: int,
           n: int, start: int, producers: int, links: list[tuple[bytes, bytes]],
           ops: list[str]) -> tuple[list[tuple[bytes, bytes, int]], int]:
    """One trace of `n` spans starting at `start`: a root, then spans in a random tree
    (children inside their parents' time); `producers` of them are PRODUCER spans, one
    span is a CONSUMER child of the first producer. Returns ((trace id, span id, end) of
    each producer, the trace's end)."""
    tid = rnd.randbytes(16)
    ids = [rnd.randbytes(8) for _ in range(n)]
    ends = [0] * n
    starts = [0] * n
    starts[0], ends[0] = start, start + n * 2 * MS
    w.add(service, (tid, ids[0], b"", root_name, root_kind, starts[0], ends[0],
                    [("messaging.system", "kafka")] if root_kind == CONSUMER else [], links, 0))
    made: list[tuple[bytes, bytes, int]] = []
    prod_at = set(rnd.sample(range(1, n), min(producers, n - 1))) if n > 1 else set()
    consumer_at = None
    for k in range(1, n):
        p = rnd.randrange(max(1, k - 8), k) if k > 1 else 0
        if consumer_at is None and made and p < k:
            # a consumer recorded as its producer's child (the producer's context as parent)
            parent_sid, kind, name, p_end = made[0][1], CONSUMER, "orders process", made[0][2]
            st = p_end + rnd.randint(1, 20) * MS
            en = st + rnd.randint(1, 5) * MS
            consumer_at = k
            starts[k], ends[k] = st, en
            w.add(service, (tid, ids[k], parent_sid, name, kind, st, en, [], [], 0))
            continue
        st = starts[p] + rnd.randint(0, max(1, (ends[p] - starts[p]) // 4))
        en = min(ends[p], st + rnd.randint(1, 3) * MS)
        starts[k], ends[k] = st, en
        kind = PRODUCER if k in prod_at else rnd.choice((CLIENT, INTERNAL, CLIENT))
        name = "orders publish" if kind == PRODUCER else rnd.choice(ops)
        status = 2 if rnd.random() < 0.01 else 0
        w.add(service, (tid, ids[k], ids[p], name, kind, st, en, [], [], status))
        if kind == PRODUCER:
            made.append((tid, ids[k], en))
    return made, max(ends)


def big_flow(path: str, spans: int, traces: int, seed: int = 3) -> None:
    """(a): `traces` traces of spans/traces spans each, in a 10-ary tree of hand-offs."""
    rnd = random.Random(seed)
    per = spans // traces
    ops = [f"op-{i}" for i in range(40)]
    w = Writer(path)
    producers: list[list[tuple[bytes, bytes, int]]] = []
    for i in range(traces):
        kids = sum(1 for j in range(10 * i + 1, 10 * i + 11) if j < traces)
        if i == 0:
            made, _ = _trace(w, rnd, "gateway", "POST /orders", SERVER, per, T0, kids + 1, [], ops)
        else:
            parent = producers[(i - 1) // 10]
            tid, sid, end = parent[(i - 1) % 10 % len(parent)]
            made, _ = _trace(w, rnd, f"worker-{i % 7}", "orders process", CONSUMER, per,
                             end + rnd.randint(1, 50) * MS, kids + 1, [(tid, sid)], ops)
        producers.append(made)
    w.close()


def many_flows(path: str, total: int, flows: int, seed: int = 5) -> None:
    """(b): `flows` requests, batches of 10, an e-mail per batch; `total` spans in all."""
    rnd = random.Random(seed)
    batches = max(1, flows // 10)
    per_request = max(2, total * 8 // 10 // flows)
    per_batch = max(2, total * 15 // 100 // batches)
    per_mail = max(1, (total - flows * per_request - batches * per_batch) // batches)
    ops = [f"op-{i}" for i in range(60)]
    w = Writer(path)
    t = T0
    published: list[tuple[bytes, bytes, int]] = []
    for _ in range(flows):
        made, _ = _trace(w, rnd, "frontend", "GET /checkout", SERVER, per_request, t, 1, [], ops)
        published.append(made[0])
        t += rnd.randint(1, 20) * MS
    for b in range(batches):
        group = published[b * 10:(b + 1) * 10]
        start = max(e for _, _, e in group) + rnd.randint(100, 3000) * MS
        made, _ = _trace(w, rnd, "payments", "orders batch", CONSUMER, per_batch, start, 1,
                         [(tid, sid) for tid, sid, _ in group], ops)
        tid, sid, end = made[0]
        _trace(w, rnd, "email", "email process", CONSUMER, per_mail,
               end + rnd.randint(10, 500) * MS, 0, [(tid, sid)], ops)
    w.close()


# -- measurements ------------------------------------------------------------------------

def bare_walk(index, start: int) -> int:
    """The floor: every span the flow reaches, and nothing else."""
    children, linked_from = index.children, index.linked_from
    seen = {start}
    stack = [start]
    while stack:
        x = stack.pop()
        for y in children(x):
            if y not in seen:
                seen.add(y)
                stack.append(y)
        for y in linked_from(x):
            if y not in seen:
                seen.add(y)
                stack.append(y)
    return len(seen)


def median_s(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        with paused_gc():
            fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--flow-spans", type=int, default=100_000)
    ap.add_argument("--flow-traces", type=int, default=1_000)
    ap.add_argument("--total-spans", type=int, default=1_000_000)
    ap.add_argument("--flows", type=int, default=10_000)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()

    with tempfile.TemporaryDirectory(prefix="att-flow-") as d:
        pa, pb = os.path.join(d, "big-flow.binpb"), os.path.join(d, "many-flows.binpb")
        t = time.perf_counter()
        big_flow(pa, args.flow_spans, args.flow_traces)
        many_flows(pb, args.total_spans, args.flows)
        print(f"data ready in {time.perf_counter() - t:.1f} s")
        t = time.perf_counter()
        ia, _ = load([pa])
        load_a = time.perf_counter() - t
        t = time.perf_counter()
        ib, _ = load([pb])
        load_b = time.perf_counter() - t

    print(f"median of {args.repeat} runs; the floor is a bare walk over the same spans")
    root = spans_of_operation(ia, "gateway", "POST /orders")[0]
    ia.children(root)  # the child map is the index's, built once on first use: not the flow's
    flow = Flow(ia, root)
    size = f"{flow.spans:,} spans, {flow.traces:,} traces, {flow.async_hops} async hops"
    floor = median_s(lambda: bare_walk(ia, root), args.repeat)
    took = median_s(lambda: json.dumps(flow_json(Flow(ia, root))), args.repeat)
    print(f"(a) one flow        {size:>44s}  floor {floor * 1000:8.1f} ms   "
          f"--flow --json {took * 1000:8.1f} ms   ratio {took / floor:4.1f}x   "
          f"(load {load_a:.1f} s, {len(ia):,} spans)")

    starts = spans_of_operation(ib, "frontend", "GET /checkout")
    ib.children(starts[0])
    visited = sum(bare_walk(ib, s) for s in starts)
    floor = median_s(lambda: [bare_walk(ib, s) for s in starts], args.repeat)
    took = median_s(lambda: distribution(ib, spans_of_operation(ib, "frontend", "GET /checkout")),
                    args.repeat)
    dist = distribution(ib, starts)
    size = f"{dist.flows:,} flows, {visited:,} span visits"
    print(f"(b) distribution    {size:>44s}  floor {floor * 1000:8.1f} ms   "
          f"--flow --op   {took * 1000:8.1f} ms   ratio {took / floor:4.1f}x   "
          f"(load {load_b:.1f} s, {len(ib):,} spans)")
    print(f"    p50 {dist.p50 / MS:.0f} ms  p95 {dist.p95 / MS:.0f} ms  max {dist.max / MS:.0f} ms; "
          f"top segment {dist.segments[0].service} {dist.segments[0].operation} "
          f"{dist.segments[0].kind} {dist.segments[0].share:.0%}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
