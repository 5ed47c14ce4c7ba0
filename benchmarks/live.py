"""Live mode under load: spans/s accepted with the TUI running, key latency while spans
arrive, and memory against loading the same spans from a file.

    python benchmarks/live.py                      # 1,000,000 spans
    python benchmarks/live.py --spans 20000        # what CI runs

An SDK-like sender (a separate process: pre-encoded ExportTraceServiceRequests of 512
SDK-shaped spans, --conns connections at once, each waiting for its answer like an
exporter does) sends every span to the real app (`create_app(live=...)`, run headless with
`App.run_test()` at 160x50, receivers on free loopback ports), once over OTLP/HTTP protobuf
and once over OTLP/gRPC, each in a fresh process. Printed per protocol:

  accepted spans/s : spans sent / seconds from the first request to the last answer (and
                     when the last of them was in the index: appends are batched)
  peak RSS         : of the receiving process (TUI included), against a fresh process that
                     loads the same spans from a file (the Collector's proto stream) -- the
                     floor measured in the same run
  CPU per span     : CPU seconds (every thread) of the receiver while it takes every span,
                     per span, against the file load's and against the bare decode + append
                     of the same requests (one thread, no server, no UI: the floor of this
                     design, also printed as the spans/s one core could take): the cost
                     whatever else the shared machine runs; and the sender's. Then where
                     the receiver's CPU went (decoding thread; on the loop: appends, screen
                     refreshes, the rest) and the longest append / refresh on the loop
  key p95          : with the sender held to --key-rate spans/s (default 20,000), keys
                     pressed in the Traces table (down, down, up; the sort changed between
                     rounds): key event in -> rendered screen out, as benchmarks/ui.py
                     measures it; the same keys over the same table with nothing arriving are
                     the floor, measured in the same process just before

Targets (2-core machine): >= 100k spans/s accepted, key p95 < 50 ms during ingest, peak
RSS within 1.5x of the file load. The machine is shared: say so when figures look noisy.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import os
import random
import resource
import signal
import struct
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
sys.path.insert(0, HERE)
BATCH = 512


# -- data ------------------------------------------------------------------------------

def generate(n: int, path: str, seed: int = 11) -> int:
    """n SDK-shaped spans as ExportTraceServiceRequests of BATCH spans, length-prefixed
    (which is also the Collector file exporter's proto format: the file-load floor reads
    the very same bytes). ~2% of spans link to a producer in an earlier trace."""
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
    from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue

    rnd = random.Random(seed)
    services = [f"svc-{i}" for i in range(12)]
    ops = [f"{m} /api/v1/resource{i}" for i in range(60) for m in ("GET", "POST")]
    t0 = 1_764_000_000_000_000_000
    producers: list[tuple[bytes, bytes]] = []
    made = requests = 0

    def kv(key: str, value: str | int) -> KeyValue:
        return KeyValue(key=key, value=AnyValue(int_value=value) if isinstance(value, int)
                        else AnyValue(string_value=value))

    with open(path, "wb") as f:
        while made < n:
            req = ExportTraceServiceRequest()
            rs = req.resource_spans.add()
            svc = rnd.choice(services)
            rs.resource.attributes.extend([kv("service.name", svc), kv("service.version", "1.4.2"),
                                           kv("host.name", f"host-{rnd.randrange(40)}"),
                                           kv("telemetry.sdk.language", "python")])
            ss = rs.scope_spans.add()
            ss.scope.name = "bench"
            while len(ss.spans) < BATCH and made < n:
                tid = rnd.randbytes(16)
                size = min(rnd.randrange(5, 40), BATCH - len(ss.spans), n - made)
                start = t0 + made * 1_000_000
                ids = [rnd.randbytes(8) for _ in range(size)]
                for i in range(size):
                    sp = ss.spans.add()
                    sp.trace_id = tid
                    sp.span_id = ids[i]
                    if i:
                        sp.parent_span_id = ids[rnd.randrange(i)]
                    sp.name = rnd.choice(ops)
                    sp.kind = 2 if i == 0 else rnd.choice((1, 3, 4))
                    sp.start_time_unix_nano = start + i * 1000
                    sp.end_time_unix_nano = start + i * 1000 + rnd.randrange(1, 10**7)
                    sp.attributes.extend([kv("http.request.method", "GET"),
                                          kv("http.response.status_code", 200),
                                          kv("app.user", f"u{rnd.randrange(10**6)}")])
                    if sp.kind == 4:
                        producers.append((tid, sp.span_id))
                    if producers and rnd.random() < 0.02:
                        ptid, psid = rnd.choice(producers[-200:])
                        link = sp.links.add()
                        link.trace_id, link.span_id = ptid, psid
                    if rnd.random() < 0.01:
                        sp.status.code = 2
                made += size
            body = req.SerializeToString()
            f.write(struct.pack(">I", len(body)) + body)
            requests += 1
    return requests


def read_requests(path: str) -> list[bytes]:
    with open(path, "rb") as f:
        data = f.read()
    out, pos = [], 0
    while pos < len(data):
        (size,) = struct.unpack_from(">I", data, pos)
        out.append(data[pos + 4:pos + 4 + size])
        pos += 4 + size
    return out


# -- the sender (a process of its own) ---------------------------------------------------

def send(proto: str, path: str, target: str, conns: int, rate: float) -> None:
    """Every request, over `conns` connections; with `rate` > 0, spans/s held to it."""
    bodies = read_requests(path)
    lock = threading.Lock()
    next_i = 0
    began = time.perf_counter()
    errors: list[str] = []

    def take() -> int | None:
        nonlocal next_i
        with lock:
            if next_i >= len(bodies):
                return None
            i = next_i
            next_i += 1
        if rate > 0:  # request i may leave at i * BATCH / rate seconds
            delay = began + i * BATCH / rate - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
        return i

    def http_worker() -> None:
        import http.client

        host, port = target.rsplit(":", 1)
        conn = http.client.HTTPConnection(host, int(port), timeout=60)
        while (i := take()) is not None:
            conn.request("POST", "/v1/traces", bodies[i],
                         {"Content-Type": "application/x-protobuf"})
            r = conn.getresponse()
            r.read()
            if r.status != 200:
                errors.append(f"HTTP {r.status}")
        conn.close()

    def grpc_worker() -> None:
        import grpc

        with grpc.insecure_channel(target) as ch:
            call = ch.unary_unary(
                "/opentelemetry.proto.collector.trace.v1.TraceService/Export")
            while (i := take()) is not None:
                call(bodies[i], timeout=60)

    worker = http_worker if proto == "http" else grpc_worker
    threads = [threading.Thread(target=worker) for _ in range(conns)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print(json.dumps({"seconds": time.perf_counter() - began, "errors": errors[:3],
                      "cpu": cpu_seconds()}))


def cpu_seconds() -> float:
    """CPU time of this process, every thread (user + system): the cost of the work
    whatever else runs on the machine."""
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def profiler(where: str | None, name: str) -> subprocess.Popen | None:
    """py-spy sampling this process (every thread, idle ones left out) into
    where/name.txt (collapsed stacks), until told to stop (SIGINT)."""
    if not where:
        return None
    exe = os.path.join(os.path.dirname(sys.executable), "py-spy")
    return subprocess.Popen([exe, "record", "--pid", str(os.getpid()), "--format", "raw",
                             "--rate", "200", "--threads", "--nonblocking",
                             "-o", os.path.join(where, name + ".txt")],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def stop(spy: subprocess.Popen | None) -> None:
    if spy is not None:
        spy.send_signal(signal.SIGINT)
        spy.wait(timeout=60)


# -- the receiving app (a process of its own) ----------------------------------------------

def receive(proto: str, path: str, more: str, spans: int, conns: int, key_rate: float,
            key_seconds: float, max_spans: int, profile: str | None = None) -> None:
    from ui import Probe, percentile

    from async_trace_tui.live import LiveConfig
    from async_trace_tui.ui.app import create_app

    args = argparse.Namespace(listen=False, auth_token=None, save=None, max_spans=max_spans,
                              otlp_grpc="127.0.0.1:0" if proto == "grpc" else None,
                              otlp_http="127.0.0.1:0" if proto == "http" else None)
    config = LiveConfig.from_args(args, err=io.StringIO())
    host, port = config.grpc or config.http
    target = f"{host}:{port}"
    out: dict = {}

    def sender(rate: float, what: str = path) -> subprocess.Popen:
        return subprocess.Popen([sys.executable, __file__, "--child", "send", proto, what,
                                 target, str(conns), str(rate)], stdout=subprocess.PIPE,
                                text=True)

    async def keys(pilot, probe: Probe, label: str, seconds: float) -> None:
        table = probe.app.traces_table
        end = time.perf_counter() + seconds
        while time.perf_counter() < end:
            await probe.press(pilot, label, "down", "down", "up")
            table.sort_by("spans" if table.sort_key == "start" else "start")
            await asyncio.sleep(0.05)

    parts = Parts()

    async def run() -> None:
        app = create_app([], live=config)
        async with app.run_test(size=(160, 50)) as pilot:
            while app.loading:
                await pilot.pause(0.02)
            probe = Probe(app)
            # 1. all spans as fast as the receiver takes them
            spy = profiler(profile, proto)
            parts.reset()
            cpu = cpu_seconds()
            began = time.perf_counter()
            p = sender(0)
            while p.poll() is None:
                await asyncio.sleep(0.05)
            deadline = time.perf_counter() + 30
            stats = app.live.ingest.stats
            while len(app.index) + stats.dropped_spans < spans and time.perf_counter() < deadline:
                await asyncio.sleep(0.01)  # answered, not all appended yet (FLUSH_SECONDS)
            out["indexed_s"] = time.perf_counter() - began
            out["cpu"] = cpu_seconds() - cpu
            out["parts"] = parts.result()
            stop(spy)
            sent = json.loads(p.stdout.read())
            out["accept_s"] = sent["seconds"]
            out["sender_cpu"] = sent["cpu"]
            out["errors"] = sent["errors"]
            out["indexed"] = len(app.index)
            out["dropped"] = stats.dropped_spans
            out["rss"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
            # 2. key floor: the same table, nothing arriving
            await asyncio.sleep(1.0)  # the last arrivals shown
            await keys(pilot, probe, "idle", key_seconds)
            # 3. keys while --key-rate spans/s of new spans arrive
            p = sender(key_rate, more)
            await keys(pilot, probe, "ingest", key_seconds)
            p.kill()
            p.wait()
            for label in ("idle", "ingest"):
                s = probe.samples[label]
                out[f"keys_{label}"] = {"n": len(s), "p50": percentile(s, 0.5),
                                        "p95": percentile(s, 0.95), "max": max(s)}

    asyncio.run(run())
    print(json.dumps(out))


class Parts:
    """Where the receiver's CPU goes: time.thread_time() (CPU of the calling thread, GIL
    waits left out) of the decoding thread's work per request, and of the event loop's
    appends (Ingest.flush) and screen updates (LiveMode.refresh), with the longest single
    call of each on the loop (what a key pressed meanwhile waits for). The rest of the
    loop thread's CPU is the protocol (HTTP framing / gRPC), Textual's rendering and the
    hand-offs between threads."""

    def __init__(self) -> None:
        from async_trace_tui.live.ingest import Ingest
        from async_trace_tui.ui.live_mode import LiveMode

        self.reset()
        for cls, name, key in ((Ingest, "_decode", "decode"), (Ingest, "flush", "append"),
                               (LiveMode, "refresh", "refresh"), (LiveMode, "_replaced", "evict")):
            setattr(cls, name, self._timed(getattr(cls, name), key))

    def reset(self) -> None:
        self.cpu = {"decode": 0.0, "append": 0.0, "refresh": 0.0, "evict": 0.0}
        self.walls: dict[str, list[float]] = {"append": [], "refresh": [], "evict": []}
        self.loop_cpu = time.thread_time()

    def _timed(self, fn, key: str):
        def timed(*a, **k):
            c, w = time.thread_time(), time.perf_counter()
            try:
                return fn(*a, **k)
            finally:
                self.cpu[key] += time.thread_time() - c
                if key in self.walls:
                    self.walls[key].append(time.perf_counter() - w)
        return timed

    def result(self) -> dict:
        out = dict(self.cpu)
        out["loop"] = time.thread_time() - self.loop_cpu  # (called on the loop's thread)
        for key, walls in self.walls.items():
            walls = sorted(walls) or [0.0]
            out[f"{key}_calls"] = len(self.walls[key])
            out[f"{key}_median_ms"] = walls[len(walls) // 2] * 1000
            out[f"{key}_max_ms"] = walls[-1] * 1000
        return out


def decode_floor(path: str) -> None:
    """The bare work with no server and no UI: decode every request with the receiver's
    loader (which pauses the collector, as in the receiver), then append each to a growing
    index, in one thread, with the collector off."""
    import gc

    from async_trace_tui.index import SpanIndex
    from async_trace_tui.loading import decode
    from async_trace_tui.loading.report import LoadReport
    from async_trace_tui.loading.sniff import PROTO

    bodies = read_requests(path)
    cpu = cpu_seconds()
    batches = [decode(b, "request", LoadReport(), fmt=PROTO)[0] for b in bodies]
    decoded = cpu_seconds()
    gc.disable()  # no collector passes at all (live mode freezes what it appended: few)
    index = SpanIndex.empty()
    for batch in batches:
        index.append(batch)
    print(json.dumps({"spans": len(index), "decode": decoded - cpu,
                      "append": cpu_seconds() - decoded}))


def file_floor(path: str) -> None:
    from async_trace_tui.loading import load

    cpu = cpu_seconds()
    index, _ = load([path])
    cpu = cpu_seconds() - cpu
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    print(json.dumps({"spans": len(index), "rss": rss, "cpu": cpu}))


def _child(argv: list[str]) -> None:
    which, *rest = argv
    if which == "send":
        proto, path, target, conns, rate = rest
        send(proto, path, target, int(conns), float(rate))
    elif which == "receive":
        proto, path, more, spans, conns, key_rate, key_seconds, max_spans, *profile = rest
        receive(proto, path, more, int(spans), int(conns), float(key_rate), float(key_seconds),
                int(max_spans), profile[0] if profile else None)
    elif which == "file":
        file_floor(rest[0])
    elif which == "decode":
        decode_floor(rest[0])


def _run(*args: str) -> dict:
    out = subprocess.run([sys.executable, __file__, "--child", *args], check=True,
                         capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--spans", type=int, default=1_000_000)
    ap.add_argument("--conns", type=int, default=4, help="connections at once (default 4)")
    ap.add_argument("--key-rate", type=float, default=20_000,
                    help="spans/s arriving while keys are timed (default 20,000)")
    ap.add_argument("--key-seconds", type=float, default=20.0)
    ap.add_argument("--protocols", default="http,grpc")
    ap.add_argument("--max-spans", type=int, default=0,
                    help="the receiver's --max-spans (default: none), to time its evictions "
                         "(the RSS figure then holds fewer spans than the file load)")
    ap.add_argument("--profile", metavar="DIR",
                    help="py-spy the receiver while it takes every span: DIR/PROTOCOL.txt")
    ap.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        _child(args.child)
        return 0
    with tempfile.TemporaryDirectory(prefix="att-live-bench-") as directory:
        return bench(args, directory)


def bench(args: argparse.Namespace, directory: str) -> int:
    path = os.path.join(directory, "requests.binpb")
    t = time.perf_counter()
    requests = generate(args.spans, path)
    print(f"{args.spans:,} spans in {requests:,} requests of {BATCH} ready in "
          f"{time.perf_counter() - t:.1f} s ({os.path.getsize(path) / 1e6:.0f} MB); "
          f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    more = os.path.join(directory, "more.binpb")  # other spans, for the keys under ingest
    generate(int(args.key_rate * args.key_seconds), more, seed=12)
    floor = _run("file", path)
    us = 1e6 / args.spans
    print(f"floor: the same spans loaded from a file: {floor['rss'] / 1e6:.0f} MB peak RSS, "
          f"{floor['cpu'] * us:.1f} µs CPU per span")
    bare = _run("decode", path)
    print(f"floor: the same requests decoded and appended to an index, one thread, no server "
          f"nor UI: {bare['decode'] * us:.1f} + {bare['append'] * us:.1f} µs CPU per span "
          f"(decode + append) = at most {args.spans / (bare['decode'] + bare['append']):,.0f} "
          f"spans/s on one core")
    worst = 0.0
    for proto in args.protocols.split(","):
        r = _run("receive", proto, path, more, str(args.spans), str(args.conns), str(args.key_rate),
                 str(args.key_seconds), str(args.max_spans or 10**9),
                 *([args.profile] if args.profile else []))
        assert r["indexed"] + r["dropped"] == args.spans == floor["spans"], (r, floor)
        rate = args.spans / r["accept_s"]
        mem = r["rss"] / floor["rss"]
        ki, kn = r["keys_idle"], r["keys_ingest"]
        print(f"{'OTLP/HTTP protobuf' if proto == 'http' else 'OTLP/gRPC':19s} "
              f"accepted {rate:9,.0f} spans/s ({r['accept_s']:.1f} s, {args.conns} connections, "
              f"TUI running; all in the index at {r['indexed_s']:.1f} s) | peak RSS {r['rss'] / 1e6:5.0f} MB = {mem:.2f}x the file load | "
              f"key p95 {kn['p95']:5.1f} ms at {args.key_rate:,.0f} spans/s "
              f"(p50 {kn['p50']:.1f}, max {kn['max']:.0f}, n={kn['n']}) vs {ki['p95']:.1f} ms idle"
              + (f" | errors {r['errors']}" if r["errors"] else ""))
        print(f"{'':19s} CPU per span: receiver {r['cpu'] * us:.1f} µs "
              f"({r['cpu'] * us / (floor['cpu'] * us):.1f}x the file load), "
              f"sender {r['sender_cpu'] * us:.1f} µs; against the bare decode + append "
              f"{r['cpu'] / (bare['decode'] + bare['append']):.1f}x")
        pt = r["parts"]
        print(f"{'':19s} of which: decode {pt['decode'] * us:.1f} µs (thread), on the loop: "
              f"append {pt['append'] * us:.1f} µs, screen refresh {pt['refresh'] * us:.2f} µs, "
              f"the rest (protocol, rendering, hand-offs) "
              f"{(pt['loop'] - pt['append'] - pt['refresh']) * us:.1f} µs; longest on the loop: "
              f"append {pt['append_max_ms']:.0f} ms (median {pt['append_median_ms']:.1f}, "
              f"{pt['append_calls']} calls), refresh {pt['refresh_max_ms']:.0f} ms (median "
              f"{pt['refresh_median_ms']:.1f}, {pt['refresh_calls']} calls)"
              + (f"; {r['dropped']:,} spans dropped past --max-spans {args.max_spans:,} in "
                 f"{pt['evict_calls']} evictions, the new index taken on by the loop in "
                 f"{pt['evict_max_ms']:.0f} ms at most" if args.max_spans else ""))
        worst = max(worst, mem / 1.5, kn["p95"] / 50, 100_000 / rate)
    print(f"load average now {os.getloadavg()[0]:.1f}; worst against the targets "
          f"{worst:.2f}x (1.00 = on target)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
