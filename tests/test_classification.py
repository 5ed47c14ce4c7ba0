"""SPEC §2: the shape (legend glyph) of a span, first rule that matches, and internal spans."""

from __future__ import annotations

import pytest
import sdk_data
from sdk_data import attrs_json, doc_json, sid, span_json, to_protobuf

from async_trace_tui.loading import load
from async_trace_tui.model import (
    KIND_CLIENT,
    KIND_CONSUMER,
    KIND_INTERNAL,
    KIND_PRODUCER,
    KIND_SERVER,
    KIND_UNSPECIFIED,
    classify_shape,
    is_internal_kind,
)

ALL_KINDS = (KIND_UNSPECIFIED, KIND_INTERNAL, KIND_SERVER, KIND_CLIENT, KIND_PRODUCER,
             KIND_CONSUMER)

CASES = [
    # (kind, attributes, shape) -- the rules in order, then their precedence
    (KIND_PRODUCER, {}, "pubsub"),
    (KIND_CONSUMER, {}, "pubsub"),
    (KIND_CLIENT, {"messaging.system": "kafka", "messaging.operation.type": "receive"}, "pubsub"),
    (KIND_INTERNAL, {"messaging.system": "rabbitmq"}, "pubsub"),  # a settle span
    (KIND_CLIENT, {"db.statement": "SELECT 1"}, "database"),
    (KIND_CLIENT, {"db.query.text": "SELECT 1"}, "database"),
    (KIND_CLIENT, {"db.system": "redis"}, "database"),
    (KIND_CLIENT, {"db.system.name": "postgresql"}, "database"),
    (KIND_SERVER, {"http.method": "GET"}, "http"),
    (KIND_CLIENT, {"http.request.method": "POST"}, "http"),
    (KIND_SERVER, {}, "generic"),
    (KIND_CLIENT, {"rpc.system": "grpc", "rpc.method": "Get"}, "generic"),
    (KIND_INTERNAL, {}, "generic"),
    (KIND_UNSPECIFIED, {"something": 1}, "generic"),
    (KIND_CLIENT, {"db": "x", "http": "y", "messaging": "z", "db.name": "orders"}, "generic"),
    # first rule wins
    (KIND_PRODUCER, {"db.statement": "INSERT", "http.method": "POST"}, "pubsub"),
    (KIND_CLIENT, {"messaging.system": "sqs", "http.request.method": "POST"}, "pubsub"),
    (KIND_CLIENT, {"messaging.system": "kafka", "db.system": "kafka"}, "pubsub"),
    (KIND_CLIENT, {"db.system": "mongodb", "http.method": "GET"}, "database"),
    (KIND_SERVER, {"http.request.method": "GET", "db.query.text": "SELECT 1"}, "database"),
    # a key counts when present, whatever its value
    (KIND_CLIENT, {"db.statement": ""}, "database"),
    (KIND_CLIENT, {"http.method": 0}, "http"),
]


@pytest.mark.parametrize("kind, attributes, shape", CASES)
def test_classify_shape(kind, attributes, shape):
    assert classify_shape(kind, attributes) == shape


@pytest.mark.parametrize("kind, internal", [
    (KIND_UNSPECIFIED, True), (KIND_INTERNAL, True), (KIND_SERVER, False),
    (KIND_CLIENT, False), (KIND_PRODUCER, False), (KIND_CONSUMER, False),
])
def test_internal_kinds(kind, internal):
    assert is_internal_kind(kind) is internal


def _kv(attributes):
    """attrs_json takes keywords with `__` for `.`; build the list directly instead."""
    out = []
    for k, v in attributes.items():
        value = (attrs_json(x=v)[0]["value"])
        out.append({"key": k, "value": value})
    return out


def test_shapes_through_the_loader(write):
    """The same cases, loaded from OTLP/JSON: the index classifies from the span's
    attributes as stored in the file."""
    spans = [span_json(sid(i), f"case{i}", kind=kind, attributes=_kv(attrs))
             for i, (kind, attrs, _) in enumerate(CASES)]
    index, _ = load([write("shapes.json", doc_json(*spans))])
    got = {index.name[r]: index.shape(r) for r in range(len(index))}
    assert got == {f"case{i}": shape for i, (_, _, shape) in enumerate(CASES)}
    internal = {index.name[r]: index.is_internal(r) for r in range(len(index))}
    assert internal == {f"case{i}": is_internal_kind(kind)
                        for i, (kind, _, _) in enumerate(CASES)}


def test_kind_names_classify_like_numbers(write):
    spans = [span_json(sid(1), "p", kind="SPAN_KIND_PRODUCER"),
             span_json(sid(2), "c", kind="SPAN_KIND_CONSUMER"),
             span_json(sid(3), "u", kind="SPAN_KIND_UNSPECIFIED"),
             span_json(sid(4), "i", kind="SPAN_KIND_INTERNAL"),
             span_json(sid(5), "missing kind")]
    del spans[4]["kind"]
    index, _ = load([write("k.json", doc_json(*spans))])
    got = {index.name[r]: (index.shape(r), index.is_internal(r)) for r in range(len(index))}
    assert got == {"p": ("pubsub", False), "c": ("pubsub", False), "u": ("generic", True),
                   "i": ("generic", True), "missing kind": ("generic", True)}


def test_unknown_kind_reads_as_unspecified(write):
    index, _ = load([write("k.json", doc_json(span_json(sid(1), "weird", kind=42),
                                              span_json(sid(2), "named", kind="SPAN_KIND_NEW")))])
    assert list(index.kind) == [KIND_UNSPECIFIED, KIND_UNSPECIFIED]
    assert all(index.is_internal(r) for r in range(2))


def test_sdk_scenario_shapes(sdk_request, write):
    """Each span of the SDK scenario, with the shape its instrumentation implies."""
    index, _ = load([write("r.binpb", to_protobuf(sdk_request))])
    got = sorted((index.service(r), index.name[r], index.shape(r), index.is_internal(r))
                 for r in range(len(index)))
    assert got == sorted([
        ("frontend", "GET /checkout", "http", False),           # http.request.method
        ("frontend", "GET /checkout", "http", False),           # http.method
        ("frontend", "render cart", "generic", True),
        ("frontend", "POST /orders", "http", False),            # old semconv CLIENT
        ("checkout", "POST /orders", "http", False),            # new semconv SERVER
        ("checkout", "SELECT orders", "database", False),       # db.system + db.statement
        ("checkout", "orders publish", "pubsub", False),
        ("checkout", "orders publish", "pubsub", False),
        ("checkout", "validate order", "generic", True),
        ("payments-worker", "orders process", "pubsub", False),
        ("payments-worker", "orders receive", "pubsub", False),  # CLIENT + messaging.system
        ("payments-worker", "decode batch", "generic", True),
        ("payments-worker", "charge card", "http", False),
        ("payments-worker", "INSERT payments", "database", False),  # new db semconv
        ("payments-worker", "email publish", "pubsub", False),
        ("email-worker", "email process", "pubsub", False),
        ("email-worker", "render email", "generic", True),
    ])
    assert len(got) == sdk_data.EXPECTED_SPANS


def test_bundled_sample_shapes():
    """The bundled sample: every db span is a database, every HTTP span http, every
    producer/consumer pubsub (counted from the sample's README story)."""
    from async_trace_tui.loading import default_sample

    index, _ = load([str(default_sample())])
    shapes = {}
    for r in range(len(index)):
        shapes.setdefault(index.shape(r), set()).add(index.name[r])
    assert {"SELECT orders", "INSERT orders", "UPDATE stock", "UPDATE payments"} <= shapes[
        "database"]
    assert {"orders publish", "orders process", "email publish", "email process"} <= shapes[
        "pubsub"]
    assert {"GET /checkout", "POST /orders", "charge card"} <= shapes["http"]
    assert {"render cart", "decode batch", "retry backoff"} <= shapes["generic"]


def test_shape_reads_the_same_attributes_as_the_details_panel(write):
    """Shapes come from the attribute keys alone; whatever the file holds in `attributes`
    (a list, an odd object, nothing), they agree with the attributes the details show."""
    spans = [span_json(sid(1), "list", kind=KIND_CLIENT, attributes=_kv({"db.system": "redis"})),
             span_json(sid(2), "object", kind=KIND_CLIENT),
             span_json(sid(3), "null", kind=KIND_CLIENT),
             span_json(sid(4), "keyless", kind=KIND_SERVER,
                       attributes=[{"value": {"stringValue": "x"}}, *_kv({"http.method": "GET"})])]
    spans[1]["attributes"] = {"http.method": "GET"}
    spans[2]["attributes"] = None
    index, _ = load([write("odd.json", doc_json(*spans))])
    for r in range(len(index)):
        shape = index.shape(r)
        assert shape == classify_shape(index.kind[r], index.attributes(r)), index.name[r]
    assert {index.name[r]: index.shape(r) for r in range(len(index))}["list"] == "database"
    assert {index.name[r]: index.shape(r) for r in range(len(index))}["keyless"] == "http"
