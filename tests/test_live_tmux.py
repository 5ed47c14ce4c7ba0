"""`trace-tui --otlp-grpc ... --otlp-http ...` in a real terminal (tmux), fed by a separate
process running the OpenTelemetry SDK with its OTLP/gRPC exporter."""

from __future__ import annotations

import socket
import subprocess
import sys
import textwrap

import pytest
from test_tmux import TMUX, terminal  # noqa: F401 - the fixture

pytestmark = pytest.mark.skipif(TMUX is None, reason="tmux is not installed")

SENDER = textwrap.dedent("""
    import sys
    from opentelemetry import trace
    from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor
    from opentelemetry.trace import Link, SpanKind

    provider = TracerProvider(resource=Resource.create({"service.name": "tmux-shop"}))
    provider.add_span_processor(BatchSpanProcessor(
        OTLPSpanExporter(endpoint=sys.argv[1], insecure=True), max_queue_size=4096))
    tracer = provider.get_tracer("tmux")
    for n in range(12):
        with tracer.start_as_current_span("POST /buy", kind=SpanKind.SERVER):
            with tracer.start_as_current_span("buy publish", kind=SpanKind.PRODUCER) as p:
                ctx = p.get_span_context()
        with tracer.start_as_current_span("buy settle", kind=SpanKind.CONSUMER, links=[Link(ctx)],
                                          context=trace.set_span_in_context(trace.INVALID_SPAN)):
            pass
    assert provider.force_flush(20000)
    provider.shutdown()
""")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_listen_shows_spans_from_an_sdk_process(terminal, tmp_path):  # noqa: F811
    grpc_port, http_port = free_port(), free_port()
    term = terminal("--otlp-grpc", f"127.0.0.1:{grpc_port}",
                    "--otlp-http", f"127.0.0.1:{http_port}")
    term.wait_for("live")
    term.wait_for("0 spans  ·  0 traces")
    script = tmp_path / "sender.py"
    script.write_text(SENDER)
    subprocess.run([sys.executable, str(script), f"127.0.0.1:{grpc_port}"], check=True,
                   timeout=60)
    screen = term.wait_for("36 spans  ·  24 traces")
    assert "tmux-shop" in screen and "POST /buy" in screen and "buy settle" in screen
    term.keys("p")
    term.wait_for("PAUSED")
    term.keys("p")
    term.wait_gone("PAUSED")
    term.keys("q")
    assert term.exit_status(15) == "0"
