"""Live receivers with real clients: the OpenTelemetry SDK's own OTLP exporters (HTTP and
gRPC, plain and gzip), then raw requests for every status code SPEC §7.1 names."""

from __future__ import annotations

import gzip
import json
import urllib.error
import urllib.request

import grpc
import pytest
from live_server import LiveServer
from opentelemetry import trace
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.trace import Link, SpanKind
from sdk_data import TRACE_A, doc_json, sid, span_json

from async_trace_tui.live.grpc_server import TRACE_SERVICE
from async_trace_tui.loading import load

TRACES = 60  # producer traces; each hands work to a consumer trace that links back


def send_with_sdk(exporter) -> tuple[set[tuple[str, str]], list[tuple[str, str, str, str]]]:
    """Producer traces and consumer traces linking to them, exported by `exporter` through
    a BatchSpanProcessor sized so that nothing is dropped; returns (every span's (trace id,
    span id) in hex, every link as (consumer trace, consumer span, target trace, target span))."""
    provider = TracerProvider(resource=Resource.create({"service.name": "live-test"}))
    provider.add_span_processor(BatchSpanProcessor(exporter, max_queue_size=10_000,
                                                   max_export_batch_size=256,
                                                   schedule_delay_millis=50))
    tracer = provider.get_tracer("live-test")
    spans: set[tuple[str, str]] = set()
    links: list[tuple[str, str, str, str]] = []

    def ids(span) -> tuple[str, str]:
        c = span.get_span_context()
        return f"{c.trace_id:032x}", f"{c.span_id:016x}"

    for n in range(TRACES):
        with tracer.start_as_current_span(f"POST /orders {n}", kind=SpanKind.SERVER) as root:
            spans.add(ids(root))
            with tracer.start_as_current_span("orders publish", kind=SpanKind.PRODUCER) as prod:
                spans.add(ids(prod))
                prod_ctx = prod.get_span_context()
        with tracer.start_as_current_span("orders process", kind=SpanKind.CONSUMER,
                                          context=trace.set_span_in_context(trace.INVALID_SPAN),
                                          links=[Link(prod_ctx)]) as cons:
            spans.add(ids(cons))
            links.append((*ids(cons), f"{prod_ctx.trace_id:032x}", f"{prod_ctx.span_id:016x}"))
    assert provider.force_flush(30_000)
    provider.shutdown()
    return spans, links


def arrived(server: LiveServer):
    """What the index holds, read on its own loop: (span keys, resolved links)."""
    def read():
        ix = server.index
        keys = {(ix.trace_id_of(r).hex(), ix.span_id[r].hex()) for r in range(len(ix))}
        links = [(ix.trace_id_of(r).hex(), ix.span_id[r].hex(), t.hex(), s.hex())
                 for r in range(len(ix)) for t, s, target in ix.links_of(r) if target is not None]
        return keys, links

    return server.on_loop(read)


@pytest.fixture
def server():
    s = LiveServer()
    yield s
    s.close()


@pytest.mark.parametrize("gzip_on", [False, True], ids=["plain", "gzip"])
def test_sdk_over_http_every_span_and_link_arrives(server, gzip_on):
    from opentelemetry.exporter.otlp.proto.http import Compression
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    exporter = OTLPSpanExporter(endpoint=server.http_url + "/v1/traces",
                                compression=Compression.Gzip if gzip_on else Compression.NoCompression)
    spans, links = send_with_sdk(exporter)
    keys, resolved = arrived(server)
    assert keys == spans
    assert sorted(resolved) == sorted(links)
    assert server.ingest.stats.spans == len(spans) and server.ingest.stats.rejected == 0


@pytest.mark.parametrize("gzip_on", [False, True], ids=["plain", "gzip"])
def test_sdk_over_grpc_every_span_and_link_arrives(server, gzip_on):
    from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter

    exporter = OTLPSpanExporter(endpoint=server.grpc_target, insecure=True,
                                compression=grpc.Compression.Gzip if gzip_on else None)
    spans, links = send_with_sdk(exporter)
    keys, resolved = arrived(server)
    assert keys == spans
    assert sorted(resolved) == sorted(links)


def test_listening_lines_name_each_bound_port(server):
    lines = server.err.getvalue().splitlines()
    assert lines == [f"listening: OTLP/gRPC {server.grpc_target}",
                     f"listening: OTLP/HTTP {server.http_url.removeprefix('http://')}"]
    assert not server.grpc_target.endswith(":0")


# -- raw HTTP ---------------------------------------------------------------------------------

def post(server, path="/v1/traces", body=b"", ctype="application/json", method="POST",
         headers=None):
    req = urllib.request.Request(server.http_url + path, data=body if method == "POST" else None,
                                 method=method, headers={"Content-Type": ctype, **(headers or {})})
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, dict(r.headers), r.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read()


def one_span_json(*spans):
    return json.dumps(doc_json(*spans)).encode()


def test_json_body_gets_a_json_answer_and_lands(server):
    status, headers, body = post(server, body=one_span_json(span_json(sid(1), "hello")))
    assert status == 200 and headers["Content-Type"].startswith("application/json")
    assert json.loads(body) == {}
    assert server.on_loop(lambda: server.index.name) == ["hello"]


def test_protobuf_body_gets_a_protobuf_answer_with_partial_success(server, sdk_request):
    req = ExportTraceServiceRequest()
    req.CopyFrom(sdk_request)
    spans = req.resource_spans[0].scope_spans[0].spans
    spans[0].span_id = b"\x01\x02"  # malformed: rejected, the rest accepted
    status, headers, body = post(server, body=gzip.compress(req.SerializeToString()),
                                 ctype="application/x-protobuf",
                                 headers={"Content-Encoding": "gzip"})
    assert status == 200 and headers["Content-Type"] == "application/x-protobuf"
    answer = ExportTraceServiceResponse.FromString(body)
    assert answer.partial_success.rejected_spans == 1
    assert "not 8 bytes" in answer.partial_success.error_message
    total = sum(len(ss.spans) for rs in req.resource_spans for ss in rs.scope_spans)
    assert server.on_loop(lambda: len(server.index)) == total - 1
    assert server.ingest.stats.rejected == 1


def test_json_partial_success(server):
    status, _, body = post(server, body=one_span_json(span_json(sid(1), "good"),
                                                     span_json("zz", "bad id")))
    assert status == 200
    answer = json.loads(body)
    assert answer["partialSuccess"]["rejectedSpans"] == "1"
    assert "bad id" in answer["partialSuccess"]["errorMessage"]


@pytest.mark.parametrize("ctype, body", [
    ("application/x-protobuf", b"\x0a\xff\xff\xff\xff\x0f garbage"),
    ("application/json", b'{"resourceSpans": [ oops'),
    ("application/json", b'"just a string"'),
])
def test_a_body_that_does_not_decode_is_400_with_a_message(server, ctype, body):
    status, headers, answer = post(server, body=body, ctype=ctype)
    assert status == 400
    if ctype == "application/json":
        msg = json.loads(answer)
        assert msg["code"] == 3 and msg["message"]
    else:
        assert b"protobuf" in answer
    # the receiver is still there
    assert post(server, body=one_span_json(span_json(sid(5), "after")))[0] == 200


def test_corrupt_gzip_is_400(server):
    status, _, _ = post(server, body=b"\x1f\x8b\x08\x00garbage", headers={"Content-Encoding": "gzip"})
    assert status == 400


def test_wrong_content_type_is_415_and_encoding_too(server):
    assert post(server, body=b"hello", ctype="text/plain")[0] == 415
    assert post(server, body=b"{}", headers={"Content-Encoding": "br"})[0] == 415


def test_other_method_is_405_other_path_404(server):
    status, headers, _ = post(server, method="GET")
    assert status == 405 and "POST" in headers["Allow"]
    assert post(server, path="/v1/nothing", body=b"{}")[0] == 404
    assert post(server, path="/", method="GET")[0] == 404


def test_metrics_and_logs_are_answered_and_counted(server):
    assert post(server, path="/v1/metrics", body=b'{"resourceMetrics": []}')[0] == 200
    assert post(server, path="/v1/logs", body=b"", ctype="application/x-protobuf")[0] == 200
    assert server.ingest.stats.other == {"metrics": 1, "logs": 1}
    assert server.on_loop(lambda: len(server.index)) == 0


def test_cors_for_localhost_origins_only(server):
    status, headers, _ = post(server, method="OPTIONS", headers={
        "Origin": "http://localhost:5173", "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type"})
    assert status == 204
    assert headers["Access-Control-Allow-Origin"] == "http://localhost:5173"
    assert "POST" in headers["Access-Control-Allow-Methods"]
    status, headers, _ = post(server, body=b"{}", headers={"Origin": "http://localhost:3000"})
    assert status == 200 and headers["Access-Control-Allow-Origin"] == "http://localhost:3000"
    status, headers, _ = post(server, body=b"{}", headers={"Origin": "https://evil.example"})
    assert "Access-Control-Allow-Origin" not in headers


def test_body_limit_after_inflating_a_gzip_bomb_is_413():
    server = LiveServer(body_limit=1 << 20)
    try:
        bomb = gzip.compress(b"\x00" * (64 << 20), compresslevel=9)  # 64 MiB in ~64 KB
        assert len(bomb) < 200_000
        status, _, _ = post(server, body=bomb, ctype="application/x-protobuf",
                            headers={"Content-Encoding": "gzip"})
        assert status == 413
        status, _, _ = post(server, body=b"{" + b" " * (2 << 20) + b"}")
        assert status == 413
        assert post(server, body=one_span_json(span_json(sid(1), "small")))[0] == 200
    finally:
        server.close()


# -- auth, and gRPC status codes -----------------------------------------------------------

@pytest.fixture
def token_server():
    s = LiveServer(token="s3cret")
    yield s
    s.close()


def test_token_required_over_http(token_server):
    body = one_span_json(span_json(sid(1), "x"))
    assert post(token_server, body=body)[0] == 401
    assert post(token_server, body=body, headers={"Authorization": "Bearer wrong"})[0] == 401
    assert post(token_server, body=body, headers={"Authorization": "Bearer s3cret"})[0] == 200


def grpc_export(server, body: bytes, metadata=None):
    with grpc.insecure_channel(server.grpc_target) as ch:
        call = ch.unary_unary(f"/{TRACE_SERVICE}/Export")
        return call(body, metadata=metadata, timeout=10)


def test_grpc_invalid_argument_and_unauthenticated(server, token_server):
    with pytest.raises(grpc.RpcError) as e:
        grpc_export(server, b"\x0a\xff\xff\xff\xff\x0f garbage")
    assert e.value.code() == grpc.StatusCode.INVALID_ARGUMENT and "protobuf" in e.value.details()
    with pytest.raises(grpc.RpcError) as e:
        grpc_export(token_server, b"")
    assert e.value.code() == grpc.StatusCode.UNAUTHENTICATED
    assert grpc_export(token_server, b"", metadata=[("authorization", "Bearer s3cret")]) == b""


def test_grpc_metrics_and_logs_services_answer(server):
    from opentelemetry.proto.collector.logs.v1 import logs_service_pb2, logs_service_pb2_grpc
    from opentelemetry.proto.collector.metrics.v1 import (
        metrics_service_pb2,
        metrics_service_pb2_grpc,
    )

    with grpc.insecure_channel(server.grpc_target) as ch:
        metrics_service_pb2_grpc.MetricsServiceStub(ch).Export(
            metrics_service_pb2.ExportMetricsServiceRequest(), timeout=10)
        logs_service_pb2_grpc.LogsServiceStub(ch).Export(
            logs_service_pb2.ExportLogsServiceRequest(), timeout=10)
    assert server.ingest.stats.other == {"metrics": 1, "logs": 1}


def test_port_in_use_is_a_one_line_error_exit_2(server, capfd):
    from async_trace_tui.cli import main

    code = main(["--otlp-http", server.http_url.removeprefix("http://")])
    err = capfd.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1
    assert err[0].startswith("trace-tui: cannot listen for OTLP/HTTP") and "in use" in err[0]


def test_save_records_what_was_acknowledged_and_reopens(tmp_path, sdk_request):
    path = tmp_path / "rec.jsonl"
    server = LiveServer(save=str(path))
    try:
        from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter

        spans, links = send_with_sdk(OTLPSpanExporter(endpoint=server.grpc_target, insecure=True))
        post(server, body=one_span_json(span_json(sid(1), "json one", TRACE_A)))
        keys, resolved = arrived(server)
    finally:
        server.close()
    lines = path.read_bytes().splitlines()
    assert len(lines) == server.ingest.stats.requests
    index, report = load([str(path)])
    assert not report.skipped and report.files[0].format == "OTLP/JSON Lines"
    assert {(index.trace_id_of(r).hex(), index.span_id[r].hex()) for r in range(len(index))} \
        == keys
    assert sorted((index.trace_id_of(r).hex(), index.span_id[r].hex(), t.hex(), s.hex())
                  for r in range(len(index)) for t, s, x in index.links_of(r) if x is not None) \
        == sorted(resolved)


def test_max_spans_drops_the_earliest_traces_whole():
    server = LiveServer(max_spans=100)
    try:
        def trace_id(n):
            return f"{n + 1:032x}"

        for n in range(30):  # 30 traces of 5 spans, one request each
            spans = [span_json(sid(1), f"root {n}", trace_id(n), start=n * 100, end=n * 100 + 50)]
            spans += [span_json(sid(k), f"child {n}.{k}", trace_id(n), parent=sid(1))
                      for k in range(2, 6)]
            if n == 29:  # the last one links to the first trace (dropped by then)
                spans[0]["links"] = [{"traceId": trace_id(0), "spanId": sid(1)}]
            assert post(server, body=one_span_json(*spans))[0] == 200

        def settled():
            return not server.ingest._compacting

        import time
        deadline = time.monotonic() + 60  # on state, with room for a loaded machine
        while not server.on_loop(settled):
            assert time.monotonic() < deadline, "the smaller index was never made"
            time.sleep(0.05)
        ix = server.index
        stats = server.ingest.stats
        assert len(ix) <= 100 and stats.dropped_spans == 150 - len(ix)
        assert stats.dropped_traces * 5 == stats.dropped_spans
        kept = {tid.hex() for tid in ix.trace_ids}
        assert trace_id(29) in kept and trace_id(0) not in kept
        # whole traces only, and the newest ones
        assert all(s.spans == 5 for s in ix.traces)
        assert kept == {trace_id(n) for n in range(30 - len(kept), 30)}
        last = ix.find(bytes.fromhex(trace_id(29)), bytes.fromhex(sid(1)))
        assert ix.links_of(last)[0][2] is None  # its target was dropped: a missing node
        assert ix.children(last) and ix.traces[ix.trace[last]].root == last
    finally:
        server.close()
