#!/usr/bin/env python3
"""Generate the sample OTLP trace files that the package ships (async_trace_tui/sample/).

Uses the real OpenTelemetry Python SDK to record an async checkout flow across
five services, encodes the finished spans with the OTLP exporter's protobuf
encoder, and writes them four times:

* ``checkout-async.otlp.json`` - one OTLP/JSON ``ExportTraceServiceRequest``
  (camelCase keys, int64 as strings, enums as ints, ids as lowercase hex)
* ``checkout-async.binpb``     - the same request as binary protobuf
* ``checkout-async.jaeger.json`` - Jaeger's query API answer for the same traces
* ``checkout-async.zipkin.json`` - Zipkin v2 JSON of the same spans
  (see jaeger_zipkin.py for how each is made)

The output is deterministic: ids come from a seeded ``random.Random``, every
span has an explicit start and end time, and exception stack traces are fixed
strings, so re-running the script produces byte-identical files.

Requirements::

    pip install opentelemetry-sdk opentelemetry-exporter-otlp-proto-common \
        opentelemetry-exporter-zipkin-json

Run::

    python sample_data/generate.py
"""

from __future__ import annotations

import base64
import json
import random
import sys
from datetime import datetime, timezone
from pathlib import Path

from google.protobuf.json_format import MessageToDict
from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import SpanLimits, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.sdk.trace.id_generator import IdGenerator
from opentelemetry.trace import (
    Link,
    NonRecordingSpan,
    SpanContext,
    SpanKind,
    Status,
    StatusCode,
    TraceFlags,
)

# Package data, so that `trace-tui` with no file finds the sample after a plain `pip install .`.
OUT_DIR = Path(__file__).resolve().parent.parent / "async_trace_tui" / "sample"
JSON_PATH = OUT_DIR / "checkout-async.otlp.json"
BINPB_PATH = OUT_DIR / "checkout-async.binpb"
JAEGER_PATH = OUT_DIR / "checkout-async.jaeger.json"
ZIPKIN_PATH = OUT_DIR / "checkout-async.zipkin.json"

SEED = 20261120
BASE_NS = int(datetime(2026, 11, 20, 10, 0, 0, tzinfo=timezone.utc).timestamp()) * 1_000_000_000

# Written into every resource by hand instead of using Resource.create(), which
# would pull in OTEL_RESOURCE_ATTRIBUTES / OTEL_SERVICE_NAME from the
# environment and the installed SDK version.
TELEMETRY_SDK = {
    "telemetry.sdk.language": "python",
    "telemetry.sdk.name": "opentelemetry",
    "telemetry.sdk.version": "1.45.2",
}


def at(ms: float) -> int:
    """Absolute timestamp in ns, `ms` milliseconds after BASE_NS."""
    return BASE_NS + round(ms * 1000) * 1000  # microsecond resolution


class SeededIdGenerator(IdGenerator):
    """Deterministic ids. ONE instance is shared by all providers so ids never collide."""

    def __init__(self, seed: int) -> None:
        self._rng = random.Random(seed)

    def generate_span_id(self) -> int:
        span_id = 0
        while span_id == 0:
            span_id = self._rng.getrandbits(64)
        return span_id

    def generate_trace_id(self) -> int:
        trace_id = 0
        while trace_id == 0:
            trace_id = self._rng.getrandbits(128)
        return trace_id


class PaymentGatewayError(Exception):
    """Raised by the (fictional) payments gateway client."""


# exception.type is "<module>.<qualname>"; make it look like library code.
PaymentGatewayError.__module__ = "payments.gateway"


ID_GENERATOR = SeededIdGenerator(SEED)
EXPORTER = InMemorySpanExporter()
# Explicit limits so OTEL_*_LIMIT environment variables cannot change the output.
LIMITS = SpanLimits(
    max_span_attributes=128,
    max_events=128,
    max_links=128,
    max_event_attributes=128,
    max_link_attributes=128,
    max_attribute_length=4096,
    max_span_attribute_length=4096,
)


def make_provider(service: str, version: str, host: str) -> TracerProvider:
    resource = Resource(
        {
            "service.name": service,
            "service.version": version,
            "deployment.environment": "demo",
            "host.name": host,
            **TELEMETRY_SDK,
        }
    )
    provider = TracerProvider(resource=resource, id_generator=ID_GENERATOR, span_limits=LIMITS)
    provider.add_span_processor(SimpleSpanProcessor(EXPORTER))
    return provider


def child_of(span) -> Context:
    """Context for a child in the same process."""
    return trace.set_span_in_context(span)


def remote_child_of(span) -> Context:
    """Context for a child in another process (as a propagator would extract it)."""
    return trace.set_span_in_context(NonRecordingSpan(remote(span)))


def remote(span) -> SpanContext:
    sc = span.get_span_context()
    return SpanContext(sc.trace_id, sc.span_id, is_remote=True, trace_flags=TraceFlags(TraceFlags.SAMPLED))


ROOT = Context()  # empty context -> new trace

# --------------------------------------------------------------------------- services
frontend = make_provider("frontend", "2.14.0", "frontend-7d9f8c6b5-x2k4q")
checkout = make_provider("checkout", "1.8.3", "checkout-6c5d7f9b8-mq7wz")
inventory = make_provider("inventory", "0.9.12", "inventory-5b8c9d7f6-hr2tn")
payments = make_provider("payments-worker", "3.2.1", "payments-worker-84f6d9c7b-9lpkd")
email = make_provider("email-worker", "1.0.4", "email-worker-59c8b7d6f-vw3js")

SEMCONV = "https://opentelemetry.io/schemas/1.26.0"
fe_server = frontend.get_tracer("opentelemetry.instrumentation.fastapi", "0.56b0", SEMCONV)
fe_app = frontend.get_tracer("frontend.cart")
fe_http = frontend.get_tracer("opentelemetry.instrumentation.httpx", "0.56b0", SEMCONV)
co_server = checkout.get_tracer("opentelemetry.instrumentation.fastapi", "0.56b0", SEMCONV)
co_db = checkout.get_tracer("opentelemetry.instrumentation.psycopg", "0.56b0")
co_kafka = checkout.get_tracer("opentelemetry.instrumentation.confluent_kafka", "0.56b0")
inv_kafka = inventory.get_tracer("opentelemetry.instrumentation.confluent_kafka", "0.56b0")
inv_app = inventory.get_tracer("inventory.reservations")
inv_db = inventory.get_tracer("opentelemetry.instrumentation.psycopg", "0.56b0")
pay_app = payments.get_tracer("payments.worker", "3.2.1")
pay_http = payments.get_tracer("opentelemetry.instrumentation.requests", "0.56b0", SEMCONV)
pay_db = payments.get_tracer("opentelemetry.instrumentation.psycopg", "0.56b0")
pay_amqp = payments.get_tracer("opentelemetry.instrumentation.pika", "0.56b0")
mail_amqp = email.get_tracer("opentelemetry.instrumentation.pika", "0.56b0")
mail_app = email.get_tracer("email.worker", "1.0.4")
mail_http = email.get_tracer("opentelemetry.instrumentation.requests", "0.56b0", SEMCONV)


# --------------------------------------------------------------------------- front-end traces
# Per-trace timings in ms, relative to the request start.
FRONTEND_REQUESTS = [
    # start, render, post_start, co_select, co_insert, co_publish, post_end, total
    dict(start=0.0, render=(1.2, 9.8), post=(11.0, 118.4), select=(3.1, 14.6), insert=(15.2, 41.7), publish=(42.3, 47.9), total=124.6),
    dict(start=1310.5, render=(0.9, 12.4), post=(64.8, 201.9), select=(2.7, 55.3), insert=(56.0, 97.2), publish=(97.8, 104.1), total=209.3),
    dict(start=2874.2, render=(1.4, 7.6), post=(8.9, 96.0), select=(2.2, 11.9), insert=(12.4, 33.8), publish=(34.5, 38.2), total=101.7),
    dict(start=3650.9, render=(1.1, 23.5), post=(25.0, 312.7), select=(3.5, 188.4), insert=(189.1, 247.6), publish=(248.2, 259.9), total=318.2),
    dict(start=5102.3, render=(0.8, 8.9), post=(10.1, 92.4), select=(2.9, 13.0), insert=(13.6, 30.9), publish=(31.4, 35.8), total=97.5),
]
NEW_SEMCONV_FRONTEND = 2  # this request's SERVER span uses http.request.method / http.response.status_code
RECOMMENDATIONS_TIMEOUT = 1  # this request also calls /recommendations, which times out

producers = []  # (span, partition, offset)

for i, r in enumerate(FRONTEND_REQUESTS):
    t0 = r["start"]
    if i == NEW_SEMCONV_FRONTEND:
        server_attrs = {
            "http.request.method": "GET",
            "http.route": "/checkout",
            "url.path": "/checkout",
            "url.scheme": "https",
            "server.address": "shop.example.com",
            "client.address": "203.0.113.42",
            "user_agent.original": "Mozilla/5.0 (X11; Linux x86_64; rv:132.0) Gecko/20100101 Firefox/132.0",
            "http.response.status_code": 200,
        }
    else:
        server_attrs = {
            "http.method": "GET",
            "http.route": "/checkout",
            "http.target": "/checkout",
            "http.scheme": "https",
            "http.host": "shop.example.com",
            "net.peer.ip": f"198.51.100.{17 + i}",
            "http.user_agent": "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_6) AppleWebKit/605.1.15 Safari/605.1.15",
            "http.status_code": 200,
        }
    root = fe_server.start_span("GET /checkout", context=ROOT, kind=SpanKind.SERVER, attributes=server_attrs, start_time=at(t0))

    render = fe_app.start_span(
        "render cart",
        context=child_of(root),
        kind=SpanKind.INTERNAL,
        attributes={"cart.item_count": 3 + i, "cart.currency": "EUR"},
        start_time=at(t0 + r["render"][0]),
    )
    render.end(end_time=at(t0 + r["render"][1]))

    if i == RECOMMENDATIONS_TIMEOUT:
        reco = fe_http.start_span(
            "GET /recommendations",
            context=child_of(root),
            kind=SpanKind.CLIENT,
            attributes={
                "http.request.method": "GET",
                "url.full": "http://recommendations:8080/recommendations?limit=4",
                "server.address": "recommendations",
                "server.port": 8080,
                "error.type": "TimeoutError",
            },
            start_time=at(t0 + 13.0),
        )
        # Not raised -> the SDK's stack trace is just "TimeoutError: ...\n" (deterministic).
        reco.record_exception(TimeoutError("read timed out after 50 ms"), timestamp=at(t0 + 63.2))
        reco.set_status(Status(StatusCode.ERROR, "read timed out after 50 ms"))
        reco.end(end_time=at(t0 + 63.4))

    post_s, post_e = t0 + r["post"][0], t0 + r["post"][1]
    post = fe_http.start_span(
        "POST /orders",
        context=child_of(root),
        kind=SpanKind.CLIENT,
        attributes={
            "http.request.method": "POST",
            "url.full": "http://checkout:8080/orders",
            "server.address": "checkout",
            "server.port": 8080,
            "http.response.status_code": 201,
        },
        start_time=at(post_s),
    )

    # checkout service, remote parent = frontend's CLIENT span
    cs, ce = post_s + 1.3, post_e - 1.1
    order_id = f"ord_{7301 + i}"
    srv = co_server.start_span(
        "POST /orders",
        context=remote_child_of(post),
        kind=SpanKind.SERVER,
        attributes={
            "http.request.method": "POST",
            "http.route": "/orders",
            "url.path": "/orders",
            "url.scheme": "http",
            "server.address": "checkout",
            "server.port": 8080,
            "network.protocol.version": "1.1",
            "http.response.status_code": 201,
            "app.order.id": order_id,
        },
        start_time=at(cs),
    )
    select = co_db.start_span(
        "SELECT orders",
        context=child_of(srv),
        kind=SpanKind.CLIENT,
        attributes={  # old database semconv
            "db.system": "postgresql",
            "db.name": "orders",
            "db.user": "checkout",
            "db.statement": "SELECT id, status FROM orders WHERE customer_id = %s AND status = %s",
            "net.peer.name": "orders-db",
            "net.peer.port": 5432,
        },
        start_time=at(cs + r["select"][0]),
    )
    select.end(end_time=at(cs + r["select"][1]))
    insert = co_db.start_span(
        "INSERT orders",
        context=child_of(srv),
        kind=SpanKind.CLIENT,
        attributes={  # new (stable) database semconv
            "db.system.name": "postgresql",
            "db.namespace": "orders",
            "db.operation.name": "INSERT",
            "db.collection.name": "orders",
            "db.query.text": "INSERT INTO orders (id, customer_id, total_cents, currency) VALUES ($1, $2, $3, $4)",
            "server.address": "orders-db",
            "server.port": 5432,
        },
        start_time=at(cs + r["insert"][0]),
    )
    insert.end(end_time=at(cs + r["insert"][1]))
    partition, offset = i % 3, 48211 + i
    publish = co_kafka.start_span(
        "orders publish",
        context=child_of(srv),
        kind=SpanKind.PRODUCER,
        attributes={
            "messaging.system": "kafka",
            "messaging.destination.name": "orders",
            "messaging.operation.type": "publish",
            "messaging.operation": "publish",
            "messaging.client.id": "checkout-producer-1",
            "messaging.destination.partition.id": str(partition),
            "messaging.kafka.message.key": order_id,
            "messaging.kafka.message.offset": offset,
            "server.address": "kafka-0.kafka",
            "server.port": 9092,
        },
        start_time=at(cs + r["publish"][0]),
    )
    publish.end(end_time=at(cs + r["publish"][1]))
    producers.append((publish, partition, offset, order_id))
    srv.end(end_time=at(ce))
    post.end(end_time=at(post_e))
    root.end(end_time=at(t0 + r["total"]))

# --------------------------------------------------------------------------- inventory (parent -> CONSUMER)
# This instrumentation continues the producer's trace: the CONSUMER is a child of "orders publish".
first_publish = producers[0][0]
ip_start = (first_publish.end_time - BASE_NS) / 1e6 + 38.6
inv = inv_kafka.start_span(
    "orders process",
    context=remote_child_of(first_publish),
    kind=SpanKind.CONSUMER,
    attributes={
        "messaging.system": "kafka",
        "messaging.destination.name": "orders",
        "messaging.operation.type": "process",
        "messaging.operation": "process",
        "messaging.consumer.group.name": "inventory",
        "messaging.destination.partition.id": str(producers[0][1]),
        "messaging.kafka.message.offset": producers[0][2],
        "messaging.kafka.message.key": producers[0][3],
    },
    start_time=at(ip_start),
)
reserve = inv_app.start_span(
    "reserve stock",
    context=child_of(inv),
    kind=SpanKind.INTERNAL,
    attributes={"app.order.id": producers[0][3], "inventory.sku_count": 3},
    start_time=at(ip_start + 0.8),
)
upd = inv_db.start_span(
    "UPDATE stock",
    context=child_of(reserve),
    kind=SpanKind.CLIENT,
    attributes={
        "db.system.name": "postgresql",
        "db.namespace": "inventory",
        "db.operation.name": "UPDATE",
        "db.collection.name": "stock",
        "db.query.text": "UPDATE stock SET reserved = reserved + $1 WHERE sku = ANY($2)",
        "server.address": "inventory-db",
        "server.port": 5432,
    },
    start_time=at(ip_start + 2.1),
)
upd.end(end_time=at(ip_start + 17.4))
reserve.end(end_time=at(ip_start + 18.3))
inv.end(end_time=at(ip_start + 19.0))

# --------------------------------------------------------------------------- payments-worker batch consumer
last_publish_end_ms = max((p.end_time - BASE_NS) / 1e6 for p, *_ in producers)
p0 = last_publish_end_ms + 1240.0  # consumer lag ~1.2 s after the last producer
batch_links = [
    Link(
        remote(p),
        attributes={
            "messaging.kafka.message.offset": offset,
            "messaging.destination.partition.id": str(partition),
            "messaging.kafka.message.key": order_id,
        },
    )
    for p, partition, offset, order_id in producers
]
batch = pay_app.start_span(
    "orders process",
    context=ROOT,
    kind=SpanKind.CONSUMER,
    links=batch_links,
    attributes={
        "messaging.system": "kafka",
        "messaging.destination.name": "orders",
        "messaging.operation.type": "process",
        "messaging.operation": "process",
        "messaging.consumer.group.name": "payments",
        "messaging.batch.message_count": len(producers),
        "messaging.client.id": "payments-worker-consumer-2",
    },
    start_time=at(p0),
)
decode = pay_app.start_span(
    "decode batch",
    context=child_of(batch),
    kind=SpanKind.INTERNAL,
    attributes={"payments.batch.bytes": 5870},
    start_time=at(p0 + 0.6),
)
decode.end(end_time=at(p0 + 3.9))

charge_attrs = {
    "http.request.method": "POST",
    "url.full": "https://api.payments.example/v1/charges",
    "server.address": "api.payments.example",
    "server.port": 443,
}
charge = pay_http.start_span(
    "charge card",
    context=child_of(batch),
    kind=SpanKind.CLIENT,
    attributes={**charge_attrs, "http.response.status_code": 503, "error.type": "503"},
    start_time=at(p0 + 4.5),
)
charge.record_exception(
    PaymentGatewayError("gateway returned 503 Service Unavailable"),
    # The SDK would format the real traceback (with this machine's file paths);
    # a fixed one keeps the output reproducible.
    attributes={
        "exception.stacktrace": (
            "Traceback (most recent call last):\n"
            '  File "/app/payments/worker.py", line 142, in charge_batch\n'
            "    resp = gateway.charge(batch.total_cents, token=card_token)\n"
            '  File "/app/payments/gateway.py", line 88, in charge\n'
            "    raise PaymentGatewayError(f\"gateway returned {resp.status_code} {resp.reason}\")\n"
            "payments.gateway.PaymentGatewayError: gateway returned 503 Service Unavailable\n"
        ),
    },
    timestamp=at(p0 + 212.7),
)
charge.set_status(Status(StatusCode.ERROR, "gateway returned 503 Service Unavailable"))
backoff = pay_app.start_span(
    "retry backoff",
    context=child_of(charge),
    kind=SpanKind.INTERNAL,
    attributes={"retry.attempt": 1, "retry.backoff_ms": 250},
    start_time=at(p0 + 213.0),
)
retry = pay_http.start_span(
    "charge card",
    context=child_of(backoff),
    kind=SpanKind.CLIENT,
    attributes={**charge_attrs, "http.request.resend_count": 1, "http.response.status_code": 200},
    start_time=at(p0 + 463.4),
)
retry.end(end_time=at(p0 + 611.8))
backoff.end(end_time=at(p0 + 612.1))
charge.end(end_time=at(p0 + 612.5))

pay_update = pay_db.start_span(
    "UPDATE payments",
    context=child_of(batch),
    kind=SpanKind.CLIENT,
    attributes={  # old database semconv
        "db.system": "postgresql",
        "db.name": "payments",
        "db.statement": "UPDATE payments SET status = 'captured' WHERE order_id = ANY(%s)",
        "db.operation": "UPDATE",
        "db.sql.table": "payments",
        "net.peer.name": "payments-db",
        "net.peer.port": 5432,
    },
    start_time=at(p0 + 613.4),
)
pay_update.end(end_time=at(p0 + 629.9))

email_publish = pay_amqp.start_span(
    "email publish",
    context=child_of(batch),
    kind=SpanKind.PRODUCER,
    attributes={
        "messaging.system": "rabbitmq",
        "messaging.destination.name": "notifications",
        "messaging.rabbitmq.destination.routing_key": "email.receipt",
        "messaging.operation.type": "publish",
        "messaging.operation": "publish",
        "messaging.message.id": "6f1c2b9e-0d4a-4c1e-9f57-2a8e3c7d5b10",
        "server.address": "rabbitmq",
        "server.port": 5672,
    },
    start_time=at(p0 + 630.8),
)
email_publish.end(end_time=at(p0 + 633.5))
batch.end(end_time=at(p0 + 634.2))

# --------------------------------------------------------------------------- email-worker (second async hop)
# One link resolves to "email publish"; the other points at a producer whose
# trace was never captured (random but valid ids that no span in the file has).
missing = SpanContext(
    ID_GENERATOR.generate_trace_id(),
    ID_GENERATOR.generate_span_id(),
    is_remote=True,
    trace_flags=TraceFlags(TraceFlags.SAMPLED),
)
e0 = (email_publish.end_time - BASE_NS) / 1e6 + 412.3
mail = mail_amqp.start_span(
    "email process",
    context=ROOT,
    kind=SpanKind.CONSUMER,
    links=[
        Link(remote(email_publish), attributes={"messaging.message.id": "6f1c2b9e-0d4a-4c1e-9f57-2a8e3c7d5b10"}),
        Link(missing, attributes={"note": "producer trace not captured", "messaging.message.id": "a03e7d41-5c2f-4b8e-8d6a-91f0b2c4e7d3"}),
    ],
    attributes={
        "messaging.system": "rabbitmq",
        "messaging.destination.name": "notifications",
        "messaging.rabbitmq.destination.routing_key": "email.receipt",
        "messaging.operation.type": "process",
        "messaging.operation": "process",
        "messaging.batch.message_count": 2,
    },
    start_time=at(e0),
)
tmpl = mail_app.start_span(
    "render template",
    context=child_of(mail),
    kind=SpanKind.INTERNAL,
    attributes={"email.template": "order-receipt", "email.locale": "de-DE"},
    start_time=at(e0 + 0.7),
)
tmpl.end(end_time=at(e0 + 26.1))
send = mail_http.start_span(
    "POST /v3/mail/send",
    context=child_of(mail),
    kind=SpanKind.CLIENT,
    attributes={
        "http.request.method": "POST",
        "url.full": "https://api.sendgrid.com/v3/mail/send",
        "server.address": "api.sendgrid.com",
        "server.port": 443,
        "http.response.status_code": 202,
    },
    start_time=at(e0 + 26.9),
)
send.end(end_time=at(e0 + 241.5))
mail.set_status(Status(StatusCode.OK))
mail.end(end_time=at(e0 + 242.3))


# --------------------------------------------------------------------------- encode + write
def _b64_to_hex(value: str) -> str:
    return base64.b64decode(value).hex()


def _hexify_ids(request: dict) -> dict:
    """OTLP/JSON encodes ids as lowercase hex, json_format writes base64."""
    for rs in request.get("resourceSpans", []):
        for ss in rs.get("scopeSpans", []):
            for span in ss.get("spans", []):
                for key in ("traceId", "spanId", "parentSpanId"):
                    if key in span:
                        span[key] = _b64_to_hex(span[key])
                for link in span.get("links", []):
                    for key in ("traceId", "spanId"):
                        if key in link:
                            link[key] = _b64_to_hex(link[key])
    return request


def main(out_dir: Path = OUT_DIR) -> None:
    spans = EXPORTER.get_finished_spans()
    request = encode_spans(spans)
    as_json = _hexify_ids(MessageToDict(request, use_integers_for_enums=True))
    json_path, binpb_path = out_dir / JSON_PATH.name, out_dir / BINPB_PATH.name
    json_path.write_text(json.dumps(as_json, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    binpb_path.write_bytes(request.SerializeToString(deterministic=True))
    # The same spans as Jaeger's query API and Zipkin's would serve them.
    from jaeger_zipkin import jaeger_response, zipkin_traces

    for path, doc in ((JAEGER_PATH, jaeger_response(request)), (ZIPKIN_PATH, zipkin_traces(spans))):
        (out_dir / path.name).write_text(json.dumps(doc, indent=1, ensure_ascii=False) + "\n",
                                         encoding="utf-8")
    n_traces = len({s.context.trace_id for s in spans})
    print(f"wrote {len(spans)} spans in {n_traces} traces to {json_path} and {binpb_path}")


if __name__ == "__main__":
    # --out DIR writes elsewhere (the tests check that the shipped files are what this writes)
    main(Path(sys.argv[sys.argv.index("--out") + 1]) if "--out" in sys.argv else OUT_DIR)
