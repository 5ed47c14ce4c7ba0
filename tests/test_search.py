"""The Traces filter's full-text search (issue 8 item 6): every span's service, operation
and attribute values, of every trace, not only the root's; built in the background."""

from __future__ import annotations

import asyncio
import json

import pytest

from async_trace_tui.loading import default_sample, load
from async_trace_tui.ui.app import create_app
from async_trace_tui.views.search import RowFilter, build_search

SAMPLE = default_sample()
ORDER_TRACE = "60ec6db25097c0405e571eaa66c164e7"  # its POST /orders child has app.order.id


def _value_text(value: dict) -> str:
    (kind, v), = value.items()
    return json.dumps(v) if kind in ("arrayValue", "kvlistValue") else str(v)


def traces_where(predicate) -> set[str]:
    """Trace ids (hex) with a span for which predicate(service, name, attribute texts) holds,
    read straight from the OTLP/JSON file with the json module."""
    doc = json.loads(SAMPLE.read_text())
    found = set()
    for rs in doc["resourceSpans"]:
        res = {a["key"]: _value_text(a["value"]) for a in rs["resource"]["attributes"]}
        for ss in rs["scopeSpans"]:
            for sp in ss["spans"]:
                attrs = {a["key"]: _value_text(a["value"]) for a in sp.get("attributes", [])}
                if predicate(res["service.name"], sp["name"], {**res, **attrs}):
                    found.add(sp["traceId"])
    return found


@pytest.fixture(scope="module")
def sample():
    index, _ = load([str(SAMPLE)])
    search, services_text, services = build_search(index)
    return index, search, services_text, services


def matched(index, search, query) -> set[str]:
    flags = search.matching(query.lower())
    return {index.trace_ids[t].hex() for t in range(len(flags)) if flags[t]}


def test_an_attribute_of_a_child_span_finds_its_trace(sample):
    index, search, *_ = sample
    want = traces_where(lambda svc, name, attrs: "ord_7303" in attrs.values())
    assert want == {ORDER_TRACE}
    root = index.traces[index.trace_index[bytes.fromhex(ORDER_TRACE)]].root
    assert "ord_7303" not in map(str, index.detail(root).attributes.values())  # not the root's
    assert matched(index, search, "ord_7303") == want
    assert matched(index, search, "D_7303") == want  # any part of a value


def test_kafka_finds_every_trace_with_a_kafka_span(sample):
    index, search, *_ = sample
    want = traces_where(lambda svc, name, attrs: any("kafka" in v.lower() for v in attrs.values()))
    assert len(want) == 6  # the five producers' traces and the batch consumer's
    assert matched(index, search, "kafka") == want


@pytest.mark.parametrize("query", ["inventory", "reserve stock", "update stock", "rabbitmq",
                                   "payments.gateway", "demo", "nothing-like-this"])
def test_services_operations_and_values_of_every_span(sample, query):
    index, search, *_ = sample
    want = traces_where(lambda svc, name, attrs: query in svc.lower() or query in name.lower()
                        or any(query in v.lower() for v in attrs.values()))
    assert matched(index, search, query) == want


def test_row_filter_keeps_the_order_and_reads_root_text_until_the_search_is_built(sample):
    index, search, services_text, services = sample
    trace_of = list(range(len(index.trace_ids)))
    quick = [f"{index.service(s.root)}\n{index.name[s.root]}".lower() for s in index.traces]
    order = list(reversed(trace_of))
    t = index.trace_index[bytes.fromhex(ORDER_TRACE)]
    full = RowFilter(trace_of, quick, search, services_text)
    early = RowFilter(trace_of, quick)
    assert full.apply(order, "ORD_7303") == [t]
    assert early.apply(order, "ord_7303") == []  # not built yet
    assert early.apply(order, "payments") == full.apply(order, "payments") == [
        i for i in order if "payments" in quick[i]]
    assert full.apply(order, "frontend") == [i for i in order if "frontend" in quick[i]]
    assert len(full.apply(order, "service:checkout")) == 5  # any span of the service
    assert early.apply(order, "service:checkout") == []  # no root span of it
    assert full.apply(order, "  ") is order
    assert services == ["checkout", "email-worker", "frontend", "inventory", "payments-worker"]


def test_rows_newer_than_the_search_text_match_on_their_root(sample):
    """Live mode: traces that arrived after the text was built still show, by their root."""
    index, search, services_text, _ = sample
    trace_of = [*range(len(index.trace_ids)), len(index.trace_ids)]  # one more, not in it
    quick = [*(f"{index.service(s.root)}\n{index.name[s.root]}".lower() for s in index.traces),
             "late-svc\nlate op"]
    f = RowFilter(trace_of, quick, search, services_text)
    assert f.apply(list(range(len(quick))), "late op") == [len(quick) - 1]
    assert f.apply(list(range(len(quick))), "service:late-svc") == [len(quick) - 1]
    # a resource attribute (deployment.environment=demo) of every known trace, not the late one
    assert f.apply(list(range(len(quick))), "environment=demo") == list(range(len(quick) - 1))


def test_the_table_filter_finds_child_attributes_once_the_search_is_built():
    async def run():
        app = create_app([str(SAMPLE)])
        async with app.run_test(size=(160, 50)) as pilot:
            while app.loading:
                await pilot.pause(0.02)
            pane, table = app.traces_pane, app.traces_table
            assert await pane.wait_search(10)
            pane.set_filter("ord_7303")
            await pilot.pause()
            assert [r.trace_id for r in table.visible_rows] == [ORDER_TRACE]
            pane.set_filter("kafka")
            await pilot.pause()
            assert table.row_count == 6
            pane.set_filter("/kafka")  # what a user who types the key twice sees: nothing
            await pilot.pause()
            assert table.row_count == 0

    asyncio.run(run())
