"""Loader + span index against Python's floor, side by side in one run.

    python benchmarks/load.py                 # 1,000,000 spans
    python benchmarks/load.py --spans 20000   # what CI runs

Generates N SDK-shaped spans (traces of 5-60 spans, a few attributes each, ~2% of spans
carrying links to producers in other traces, some errors) as one OTLP protobuf
TracesData and as OTLP/JSON Lines (one ExportTraceServiceRequest a line, as the Collector
file exporter writes), then runs each measurement in a fresh process, --repeat times,
and prints medians of wall time and peak RSS:

  floor  protobuf : upb parse of the file with the full OTLP schema + one touch of each span
  floor  JSONL    : the fastest plain JSON parse (msgspec, untyped) of each line + one touch
  loader          : async_trace_tui.loading.load() -> SpanIndex, ready to query

Cyclic GC is off in the floors (as in the loader): the floor is the best Python can do.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))


# -- data ------------------------------------------------------------------------------

def generate(n: int, directory: str, seed: int = 7,
             trace_spans: tuple[int, int] = (5, 60)) -> tuple[str, str]:
    """Write n spans to <dir>/spans.binpb and <dir>/spans.jsonl; same spans in both.
    Each trace holds `trace_spans` (lo, hi) spans, drawn uniformly."""
    import msgspec
    from opentelemetry.proto.trace.v1 import trace_pb2

    rnd = random.Random(seed)
    services = [f"svc-{i}" for i in range(12)]
    ops = [f"{m} /api/v1/resource{i}" for i in range(60) for m in ("GET", "POST")]
    t0 = 1_764_000_000_000_000_000
    producers: list[tuple[bytes, bytes]] = []
    batch = 500
    enc = msgspec.json.Encoder()
    proto_path = os.path.join(directory, "spans.binpb")
    json_path = os.path.join(directory, "spans.jsonl")
    made = 0
    with open(proto_path, "wb") as fp, open(json_path, "wb") as fj:
        while made < n:
            svc = rnd.choice(services)
            res_attrs = [("service.name", svc), ("service.version", "1.4.2"),
                         ("host.name", f"host-{rnd.randrange(40)}"), ("telemetry.sdk.language", "python"),
                         ("telemetry.sdk.name", "opentelemetry"), ("telemetry.sdk.version", "1.45.2")]
            spans = []
            while len(spans) < batch and made + len(spans) < n:
                tid = rnd.randbytes(16)
                size = min(rnd.randint(*trace_spans), n - made - len(spans), batch - len(spans))
                ids: list[bytes] = []
                start = t0 + made * 1000 + len(spans) * 1000
                for k in range(size):
                    sid = rnd.randbytes(8)
                    parent = rnd.choice(ids) if ids else b""
                    kind = rnd.choice((1, 2, 3, 3, 4, 5)) if k else 2
                    st = start + k * 10_000
                    en = st + rnd.randint(1_000, 5_000_000)
                    attrs = [("http.method", "GET"), ("http.route", "/api/v1/items/{id}"),
                             ("http.status_code", 200), ("net.peer.name", f"svc-{k % 12}"),
                             ("thread.id", rnd.randrange(64))]
                    links = []
                    if kind == 4:
                        producers.append((tid, sid))
                    elif kind == 5 and producers and rnd.random() < 0.1:
                        links = [rnd.choice(producers) for _ in range(rnd.randint(1, 5))]
                    status = 2 if rnd.random() < 0.01 else 0
                    spans.append((tid, sid, parent, rnd.choice(ops), kind, st, en, attrs, links, status))
                    ids.append(sid)
            made += len(spans)
            fp.write(_proto_batch(trace_pb2, res_attrs, spans))
            fj.write(enc.encode(_json_batch(res_attrs, spans)) + b"\n")
    return proto_path, json_path


def _proto_batch(trace_pb2, res_attrs, spans) -> bytes:
    rs = trace_pb2.ResourceSpans()
    for k, v in res_attrs:
        rs.resource.attributes.add(key=k).value.string_value = v
    ss = rs.scope_spans.add()
    ss.scope.name = "opentelemetry.instrumentation.flask"
    ss.scope.version = "0.54b0"
    for tid, sid, parent, name, kind, st, en, attrs, links, status in spans:
        sp = ss.spans.add(trace_id=tid, span_id=sid, parent_span_id=parent, name=name, kind=kind,
                          start_time_unix_nano=st, end_time_unix_nano=en, flags=256)
        for k, v in attrs:
            a = sp.attributes.add(key=k)
            if isinstance(v, int):
                a.value.int_value = v
            else:
                a.value.string_value = v
        for lt, ls in links:
            sp.links.add(trace_id=lt, span_id=ls, flags=256)
        if status:
            sp.status.code = status
            sp.status.message = "upstream failed"
    body = rs.SerializeToString()
    # Concatenated `resource_spans` fields make one valid TracesData message.
    return b"\x0a" + _varint(len(body)) + body


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def _json_batch(res_attrs, spans) -> dict:
    def kv(k, v):
        return {"key": k, "value": {"intValue": str(v)} if isinstance(v, int) else {"stringValue": v}}

    out = []
    for tid, sid, parent, name, kind, st, en, attrs, links, status in spans:
        d = {"traceId": tid.hex(), "spanId": sid.hex(), "flags": 256, "name": name, "kind": kind,
             "startTimeUnixNano": str(st), "endTimeUnixNano": str(en),
             "attributes": [kv(k, v) for k, v in attrs], "status": {}}
        if parent:
            d["parentSpanId"] = parent.hex()
        if links:
            d["links"] = [{"traceId": lt.hex(), "spanId": ls.hex(), "flags": 256} for lt, ls in links]
        if status:
            d["status"] = {"code": status, "message": "upstream failed"}
        out.append(d)
    return {"resourceSpans": [{
        "resource": {"attributes": [kv(k, v) for k, v in res_attrs]},
        "scopeSpans": [{"scope": {"name": "opentelemetry.instrumentation.flask", "version": "0.54b0"},
                        "spans": out}],
    }]}


# -- measurements (each in its own process) --------------------------------------------

def _floor_proto(path: str) -> int:
    from opentelemetry.proto.trace.v1 import trace_pb2

    with open(path, "rb") as f:
        data = f.read()
    msg = trace_pb2.TracesData()
    msg.ParseFromString(data)
    n = 0
    for rs in msg.resource_spans:
        for ss in rs.scope_spans:
            for sp in ss.spans:
                sp.span_id  # noqa: B018 - the one touch
                n += 1
    return n


def _floor_jsonl(path: str) -> int:
    import msgspec

    decode = msgspec.json.Decoder().decode
    with open(path, "rb") as f:
        data = f.read()
    view = memoryview(data)  # lines as slices of the file: no copy
    n, pos, size, find = 0, 0, len(data), data.find
    while pos < size:
        end = find(b"\n", pos)
        end = size if end < 0 else end
        line, pos = view[pos:end], end + 1
        if not line:
            continue
        for rs in decode(line)["resourceSpans"]:
            for ss in rs["scopeSpans"]:
                for sp in ss["spans"]:
                    sp["spanId"]  # noqa: B018 - the one touch
                    n += 1
    return n


def _loader(path: str) -> int:
    from async_trace_tui.loading import load

    index, report = load([path])
    assert not report.skipped, report.lines()
    return len(index)


def _child(which: str, path: str) -> None:
    import gc

    sys.path.insert(0, os.path.dirname(HERE))
    fn = {"floor-proto": _floor_proto, "floor-jsonl": _floor_jsonl, "loader": _loader}[which]
    gc.disable()  # the loader does this itself; the floors get the same advantage
    t = time.perf_counter()
    n = fn(path)
    wall = time.perf_counter() - t
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    print(json.dumps({"spans": n, "wall": wall, "rss": rss}))


def _run(which: str, path: str) -> dict:
    out = subprocess.run([sys.executable, __file__, "--child", which, path],
                         check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def _baseline_rss() -> int:
    """RSS of an interpreter that has imported everything but loaded nothing."""
    code = ("import resource, async_trace_tui.loading, msgspec;"
            "from opentelemetry.proto.trace.v1 import trace_pb2;"
            "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024)")
    env = dict(os.environ, PYTHONPATH=os.path.dirname(HERE))
    return int(subprocess.run([sys.executable, "-c", code], check=True, capture_output=True,
                              text=True, env=env).stdout)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--spans", type=int, default=1_000_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--dir", help="keep the generated files here (default: a temp dir)")
    ap.add_argument("--reuse", action="store_true",
                    help="with --dir: use the files generated there by an earlier run")
    ap.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        _child(*args.child)
        return 0

    directory = args.dir or tempfile.mkdtemp(prefix="att-bench-")
    os.makedirs(directory, exist_ok=True)
    t = time.perf_counter()
    proto_path, json_path = os.path.join(directory, "spans.binpb"), os.path.join(directory, "spans.jsonl")
    if not (args.reuse and os.path.exists(proto_path) and os.path.exists(json_path)):
        proto_path, json_path = generate(args.spans, directory)
    print(f"{args.spans:,} spans ready in {time.perf_counter() - t:.1f} s: "
          f"protobuf {os.path.getsize(proto_path) / 1e6:.0f} MB, JSON Lines {os.path.getsize(json_path) / 1e6:.0f} MB")
    print(f"interpreter + imports alone: {_baseline_rss() / 1e6:.0f} MB RSS")
    worst = 0.0
    for label, path, floor in (("protobuf", proto_path, "floor-proto"), ("JSON Lines", json_path, "floor-jsonl")):
        runs: dict[str, list[dict]] = {"floor": [], "loader": []}
        for _ in range(args.repeat):  # interleaved, so drift hits both alike
            runs["floor"].append(_run(floor, path))
            runs["loader"].append(_run("loader", path))
        assert runs["floor"][0]["spans"] == runs["loader"][0]["spans"] == args.spans
        med = {k: {m: statistics.median(r[m] for r in v) for m in ("wall", "rss")} for k, v in runs.items()}
        tr = med["loader"]["wall"] / med["floor"]["wall"]
        mr = med["loader"]["rss"] / med["floor"]["rss"]
        worst = max(worst, tr, mr)
        print(f"{label:10s} floor  {med['floor']['wall']:6.2f} s {med['floor']['rss'] / 1e6:7.0f} MB | "
              f"loader {med['loader']['wall']:6.2f} s {med['loader']['rss'] / 1e6:7.0f} MB | "
              f"ratio time {tr:.2f}x  memory {mr:.2f}x   (median of {args.repeat})")
    print(f"worst ratio {worst:.2f}x (bar: 2.0x at 1M spans)")
    if not args.dir:
        for p in (proto_path, json_path):
            os.unlink(p)
        os.rmdir(directory)
    return 0


if __name__ == "__main__":
    sys.exit(main())
