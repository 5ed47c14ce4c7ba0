"""Loader + span index against Python's floor, side by side in one run.

    python benchmarks/load.py                 # 1,000,000 spans
    python benchmarks/load.py --spans 20000   # what CI runs

Generates N SDK-shaped spans (traces of 5-60 spans, a few attributes each, ~2% of spans
carrying links to producers in other traces, some errors) as one OTLP protobuf
TracesData, as OTLP/JSON Lines (one ExportTraceServiceRequest a line, as the Collector
file exporter writes), as one Jaeger query API answer (`{"data": [TRACE...]}`, as
Jaeger's OTLP->Jaeger translation writes the same spans: tags, FOLLOWS_FROM references) and
as one Zipkin v2 list of traces (as OpenTelemetry's Zipkin exporter writes them: string
tags with the resource copied in, no links), then runs each measurement in a fresh
process, --repeat times, and prints medians of wall time and peak RSS:

  floor  protobuf : upb parse of the file with the full OTLP schema + one touch of each span
  floor  JSONL    : the fastest plain JSON parse (msgspec, untyped) of each line + one touch
  floor  Jaeger, Zipkin : the same parse of the whole document + one touch of each span
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
from contextlib import ExitStack

HERE = os.path.dirname(os.path.abspath(__file__))


# -- data ------------------------------------------------------------------------------

FOREIGN = ("spans.jaeger.json", "spans.zipkin.json")


def generate(n: int, directory: str, seed: int = 7, trace_spans: tuple[int, int] = (5, 60),
             foreign: bool = False) -> tuple[str, str]:
    """Write n spans to <dir>/spans.binpb and <dir>/spans.jsonl; same spans in both.
    Each trace holds `trace_spans` (lo, hi) spans, drawn uniformly. With `foreign`, the
    same spans go to <dir>/spans.jaeger.json and <dir>/spans.zipkin.json too (FOREIGN)."""
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
    with ExitStack() as files:
        fp, fj = (files.enter_context(open(p, "wb")) for p in (proto_path, json_path))
        fy = fz = None
        if foreign:
            fy, fz = (files.enter_context(open(os.path.join(directory, name), "wb"))
                      for name in FOREIGN)
            fy.write(b'{"data": [')
            fz.write(b"[")
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
            first = made == 0
            made += len(spans)
            fp.write(_proto_batch(trace_pb2, res_attrs, spans))
            fj.write(enc.encode(_json_batch(res_attrs, spans)) + b"\n")
            if fy is not None and fz is not None:
                traces: dict[bytes, list] = {}
                for sp in spans:
                    traces.setdefault(sp[0], []).append(sp)
                sep = b"" if first else b","
                fy.write(sep + b",".join(enc.encode(_jaeger_trace(res_attrs, t)) for t in traces.values()))
                fz.write(sep + b",".join(enc.encode(_zipkin_trace(res_attrs, t)) for t in traces.values()))
        if fy is not None and fz is not None:
            fy.write(b'], "total": 0, "limit": 0, "offset": 0, "errors": null}')
            fz.write(b"]")
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


_SCOPE = ("opentelemetry.instrumentation.flask", "0.54b0")
_KIND_WORDS = {1: "internal", 2: "server", 3: "client", 4: "producer", 5: "consumer"}


def _jaeger_trace(res_attrs, spans) -> dict:
    """One Jaeger TRACE as the query API answers: the Collector's OTLP->Jaeger tags."""
    def tag(k, v):
        return {"key": k, "type": "int64" if isinstance(v, int) else "string", "value": v}

    out = []
    for tid, sid, parent, name, kind, st, en, attrs, links, status in spans:
        refs = [{"refType": "CHILD_OF", "traceID": tid.hex(), "spanID": parent.hex()}] if parent else []
        refs += [{"refType": "FOLLOWS_FROM", "traceID": lt.hex(), "spanID": ls.hex()} for lt, ls in links]
        tags = [tag("otel.scope.name", _SCOPE[0]), tag("otel.scope.version", _SCOPE[1])]
        tags += [tag(k, v) for k, v in attrs]
        tags.append(tag("span.kind", _KIND_WORDS[kind]))
        if status:
            tags += [tag("otel.status_code", "ERROR"), {"key": "error", "type": "bool", "value": True},
                     tag("otel.status_description", "upstream failed")]
        out.append({"traceID": tid.hex(), "spanID": sid.hex(), "operationName": name,
                    "references": refs, "startTime": st // 1000, "duration": (en - st) // 1000,
                    "tags": tags, "logs": [], "processID": "p1", "warnings": None})
    process = {"serviceName": res_attrs[0][1], "tags": [tag(k, v) for k, v in res_attrs[1:]]}
    return {"traceID": spans[0][0].hex(), "spans": out, "processes": {"p1": process},
            "warnings": None}


def _zipkin_trace(res_attrs, spans) -> list:
    """One Zipkin v2 trace as OpenTelemetry's Zipkin exporter encodes it (no links)."""
    kinds = {1: None, 2: "SERVER", 3: "CLIENT", 4: "PRODUCER", 5: "CONSUMER"}
    resource = {k: str(v) for k, v in res_attrs}
    out = []
    for tid, sid, parent, name, kind, st, en, attrs, _links, status in spans:
        tags = {k: str(v) for k, v in attrs}
        tags.update(resource)
        tags.update({"otel.library.name": _SCOPE[0], "otel.library.version": _SCOPE[1],
                     "otel.scope.name": _SCOPE[0], "otel.scope.version": _SCOPE[1]})
        if status:
            tags.update({"otel.status_code": "ERROR", "error": "upstream failed"})
        d = {"traceId": tid.hex(), "id": sid.hex(), "name": name, "timestamp": st // 1000,
             "duration": (en - st) // 1000, "localEndpoint": {"serviceName": res_attrs[0][1]},
             "kind": kinds[kind], "tags": tags, "debug": True}
        if parent:
            d["parentId"] = parent.hex()
        out.append(d)
    return out


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


def _floor_document(path: str) -> int:
    """A Jaeger {"data": [TRACE...]} answer or a Zipkin list of traces, parsed whole."""
    import msgspec

    with open(path, "rb") as f:
        doc = msgspec.json.Decoder().decode(f.read())
    n = 0
    if isinstance(doc, dict):
        for trace in doc["data"]:
            for sp in trace["spans"]:
                sp["spanID"]  # noqa: B018 - the one touch
                n += 1
    else:
        for trace in doc:
            for sp in trace:
                sp["id"]  # noqa: B018 - the one touch
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
    fn = {"floor-proto": _floor_proto, "floor-jsonl": _floor_jsonl,
          "floor-document": _floor_document, "loader": _loader}[which]
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
    ap.add_argument("--only", type=lambda text: text.lower().split(","),
                    help="some of: protobuf,json lines,jaeger,zipkin (default: all)")
    ap.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        _child(*args.child)
        return 0

    directory = args.dir or tempfile.mkdtemp(prefix="att-bench-")
    os.makedirs(directory, exist_ok=True)
    t = time.perf_counter()
    paths = [os.path.join(directory, name) for name in ("spans.binpb", "spans.jsonl", *FOREIGN)]
    if not (args.reuse and all(os.path.exists(p) for p in paths)):
        generate(args.spans, directory, foreign=True)
    labels = ("protobuf", "JSON Lines", "Jaeger", "Zipkin")
    floors = ("floor-proto", "floor-jsonl", "floor-document", "floor-document")
    print(f"{args.spans:,} spans ready in {time.perf_counter() - t:.1f} s: " + ", ".join(
        f"{label} {os.path.getsize(p) / 1e6:.0f} MB" for label, p in zip(labels, paths)))
    print(f"interpreter + imports alone: {_baseline_rss() / 1e6:.0f} MB RSS")
    worst = 0.0
    chosen = [i for i, label in enumerate(labels) if not args.only or label.lower() in args.only]
    for label, path, floor in ((labels[i], paths[i], floors[i]) for i in chosen):
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
        for p in paths:
            os.unlink(p)
        os.rmdir(directory)
    return 0


if __name__ == "__main__":
    sys.exit(main())
