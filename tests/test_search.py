"""The Traces filter's full-text search (issue 8 item 6): every span's service, operation
and attribute values, of every trace, not only the root's; built in the background, and
each key answered at once (the previous rows shown while a thread works a big one out)."""

from __future__ import annotations

import asyncio
import json
import threading

import pytest
from opentelemetry import trace as otel_trace
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind
from sdk_data import BASE_NS, SeededIds

import async_trace_tui.views.search as search_mod
from async_trace_tui.index import SpanIndex
from async_trace_tui.loading import decode, default_sample, load
from async_trace_tui.loading.report import LoadReport
from async_trace_tui.ui.app import create_app
from async_trace_tui.ui.widgets.traces_table import TracesTable
from async_trace_tui.views.search import Pending, TraceFilter, build_search, parse_query
from async_trace_tui.views.traces import TraceRow, trace_rows

SAMPLE = default_sample()
ORDER_TRACE = "60ec6db25097c0405e571eaa66c164e7"  # its POST /orders child has app.order.id


# -- the sample, read with the json module ----------------------------------------------

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
    n = len(index.trace_ids)
    flags = TraceFilter(list(range(n)), [""] * n, search).answer(query.lower()).flags
    return {index.trace_ids[t].hex() for t in range(n) if flags[t]}


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


def test_the_filter_reads_root_text_until_the_search_is_built(sample):
    index, search, services_text, services = sample
    n = len(index.trace_ids)
    trace_of = list(range(n))
    quick = [f"{index.service(s.root)}\n{index.name[s.root]}".lower() for s in index.traces]
    t = index.trace_index[bytes.fromhex(ORDER_TRACE)]

    def kept(tf, query):
        flags = tf.answer(query).flags
        return [i for i in range(n) if flags[i]]

    full, early = TraceFilter(trace_of, quick, search), TraceFilter(trace_of, quick)
    assert kept(full, "ord_7303") == [t]
    assert kept(early, "ord_7303") == []  # not built yet
    assert kept(early, "payments") == kept(full, "payments") == [
        i for i in range(n) if "payments" in quick[i]]
    assert len(kept(full, "service:checkout")) == 5  # any span of the service
    assert kept(early, "service:checkout") == []  # no root span of it
    assert services_text is search.services
    assert services == ["checkout", "email-worker", "frontend", "inventory", "payments-worker"]


def test_rows_of_traces_the_text_does_not_know_match_on_their_root(sample):
    """A store's rows, or traces newer than the text: they still show, by their root."""
    index, search, *_ = sample
    n = len(index.trace_ids)
    trace_of = [*range(n), 1 << 62]  # one more row, of no trace the text knows
    quick = [*(f"{index.service(s.root)}\n{index.name[s.root]}".lower() for s in index.traces),
             "late-svc\nlate op"]
    tf = TraceFilter(trace_of, quick, search)
    assert list(tf.answer("late op").flags) == [0] * n + [1]
    assert list(tf.answer("service:late-svc").flags) == [0] * n + [1]
    # a resource attribute (deployment.environment=demo) of every known trace, not the late one
    assert list(tf.answer("environment=demo").flags) == [1] * n + [0]


# -- many traces, recorded with the SDK; answers against a brute-force reference ----------

N_TRACES = 240
SERVICES = ("frontend", "checkout", "payments-worker", "email-worker", "inventory")


def record(n_traces: int, seed: int) -> bytes:
    """`n_traces` traces recorded with the OpenTelemetry SDK, as an OTLP protobuf request:
    a root in one service, children in it and in a second one, attributes with values
    shared by many traces (routes, methods), by a few (status), and one per trace
    (order ids), a non-ASCII value."""
    exporter = InMemorySpanExporter()
    ids = SeededIds(seed)
    providers = {}
    for k, svc in enumerate(SERVICES):
        p = TracerProvider(resource=Resource({"service.name": svc, "host.name": f"host-{k}",
                                              "deployment.environment": "staging"}),
                           id_generator=ids, shutdown_on_exit=False)
        p.add_span_processor(SimpleSpanProcessor(exporter))
        providers[svc] = p
    for i in range(n_traces):
        a = SERVICES[i % len(SERVICES)]
        b = SERVICES[(i * 7 + 1) % len(SERVICES)]
        t0 = BASE_NS + i * 1_000_000_000
        root = providers[a].get_tracer("bench").start_span(
            f"GET /route/{i % 9}", kind=SpanKind.SERVER, start_time=t0,
            attributes={"http.request.method": "GET", "http.route": f"/route/{i % 9}"})
        ctx = otel_trace.set_span_in_context(root)
        for j in range(i % 4):
            child = providers[b].get_tracer("bench").start_span(
                f"step {j}", context=ctx, kind=SpanKind.CLIENT, start_time=t0 + 1000 * (j + 1),
                attributes={"order.id": f"ord_{i:04d}", "retry": j, "ok": j % 2 == 0,
                            "status.text": "Größe überschritten" if i % 50 == 0 else "fine"})
            child.end(end_time=t0 + 1000 * (j + 2))
        root.end(end_time=t0 + 100_000)
    for p in providers.values():
        p.shutdown()
    return encode_spans(exporter.get_finished_spans()).SerializeToString()


def reference(index: SpanIndex, query: str) -> set[str]:
    """Trace ids (hex) the query keeps: a span of the trace whose service is NAME
    (`service:NAME`), or with a service, operation, `key=value` of its attributes or its
    resource's that holds the text, any case. Span by span, the slow way."""
    kind, arg = parse_query(query)
    out = set()
    for row in range(len(index)):
        service = index.service(row)
        if kind == "service":
            hit = service.lower() == arg
        else:
            attributes = {**index.resource(row).attributes, **index.detail(row).attributes}
            terms = [service, index.name[row], *(f"{k}={v}" for k, v in attributes.items())]
            hit = any(arg in term.lower() for term in terms)
        if hit:
            out.add(index.trace_id_of(row).hex())
    return out


QUERIES = ["ord_0042", "ord_00", "ord_0", "ORD_", "get /route/3", "service:checkout",
           "service:email-worker", "host-2", "retry=2", "ok=true", "grösse", "größe",
           "payments", "e", "zz top", "service:nobody", "staging"]


@pytest.fixture(scope="module")
def recorded(tmp_path_factory):
    path = tmp_path_factory.mktemp("search") / "traces.binpb"
    path.write_bytes(record(N_TRACES, seed=11))
    index, _ = load([str(path)])
    return str(path), index, {q: reference(index, q) for q in QUERIES}


def test_answers_equal_the_reference_over_small_chunks_typed_and_erased(recorded, monkeypatch):
    """Text packed in small chunks (many chunks, sparse and dense ones), queries typed a
    key at a time and erased: answered before, narrowed from a shorter query, or anew."""
    _, index, refs = recorded
    monkeypatch.setattr(search_mod, "CHUNK", 300)
    search, _, _ = build_search(index)
    assert len(search.chunks) > 20
    rows = trace_rows(index)
    tf = TraceFilter([r.summary.index for r in rows],
                     [f"{r.root_service}\n{r.root_operation}".lower() for r in rows], search)
    narrowed = 0
    for q in QUERIES:
        norm = q.strip().lower()
        keys = [norm[:k] for k in range(1, len(norm) + 1)]
        for key in keys + keys[-2::-1] + [norm]:
            job = tf.answer(key)
            narrowed += job.narrowed_from is not None
            tf.remember(key, job.flags)
            got = {r.trace_id for r, f in zip(rows, job.flags, strict=True) if f}
            want = refs[q] if key == norm else reference(index, key)
            assert got == want, key
    assert narrowed  # some keys looked only at a shorter query's rows


# -- the table in the app: threads, stale answers, the build still running ----------------

def visible(table) -> list[str]:
    return [r.trace_id for r in table.visible_rows]


def in_order(table, ids: set[str]) -> list[str]:
    """`ids` in the table's current sort order."""
    return [r.trace_id for r in (table._rows[i] for i in table._sorted()) if r.trace_id in ids]


async def settle(pilot, table, timeout: float = 10.0) -> None:
    for _ in range(int(timeout / 0.01)):
        if not table.searching:
            break
        await pilot.pause(0.01)
    await pilot.pause()
    assert not table.searching


def watch_shown(table, refs) -> list[str]:
    """Every time the table shows rows as an answer (not searching), they must be the
    answer to the filter text of that moment: stale answers are never shown. Returns
    the list of problems seen."""
    problems: list[str] = []
    show = table._show

    def checked(view, keep):
        show(view, keep)
        if table.searching:
            return
        q = table.filter_text
        want = refs(q)
        if want is not None and set(visible(table)) != want:
            problems.append(f"{q!r}: shown {len(table._view)} rows, the answer has {len(want)}")

    table._show = checked
    return problems


def test_fast_typing_in_threads_never_shows_a_stale_answer(recorded, monkeypatch):
    path, index, refs = recorded
    monkeypatch.setattr(TracesTable, "sync_rows", 0)  # every key to a thread
    monkeypatch.setattr(search_mod, "CHUNK", 200)  # many slices: newer keys land mid-way
    monkeypatch.setattr(search_mod, "ROW_SLICE", 3)
    threaded: list[str] = []  # the queries handed to a thread (polling `searching` between
    work = TracesTable._work  # keys missed them on a loaded machine: a thread can finish first)

    def spy_work(self, job):
        threaded.append(self._searching)
        return work(self, job)

    monkeypatch.setattr(TracesTable, "_work", spy_work)
    answers: dict[str, set[str]] = {}

    def ref(text: str) -> set[str] | None:
        kind, arg = parse_query(text)
        if kind == "text" and not arg:
            return None
        if text not in answers:
            answers[text] = refs[text] if text in refs else reference(index, text)
        return answers[text]

    async def run():
        app = create_app([path])
        async with app.run_test(size=(160, 50)) as pilot:
            while app.loading:
                await pilot.pause(0.02)
            pane, table = app.traces_pane, app.traces_table
            assert await pane.wait_search(10)
            table.sort_by("spans", reverse=True)
            chosen = next(r.trace_id for r in table.visible_rows if r.trace_id in refs["ord_0"])
            assert table.select_trace(chosen)
            problems = watch_shown(table, ref)
            chosen_checked = False
            for q in ["ord_0", "ord_0042", "host-2", "service:checkout", "e", "ord_0"]:
                for k in range(1, len(q) + 1):  # typed faster than answered
                    pane.filter_input.value = q[:k]
                    await asyncio.sleep(0.002 if k % 3 else 0)
                await settle(pilot, table)
                assert visible(table) == in_order(table, ref(q)), q  # sort holds
                if q == "ord_0" and not chosen_checked:  # every key kept it: it held
                    assert table.current_row.trace_id == chosen
                    chosen_checked = True
                for k in range(len(q) - 1, 2, -1):  # erased
                    pane.filter_input.value = q[:k]
                await settle(pilot, table)
                assert set(visible(table)) == ref(q[:3]), q[:3]
                pane.filter_input.value = "zz top"  # replaced
                pane.filter_input.value = q
                await settle(pilot, table)
                assert set(visible(table)) == ref(q)
            assert threaded  # the thread path was taken
            assert "searching" not in " ".join(table.describe().split()[-3:])
            assert not problems, problems

    asyncio.run(run())


def test_typing_while_the_search_is_still_being_built(recorded, monkeypatch):
    """Until the text is built, rows match on their root's service and operation, and the
    status line says the rest is coming; then the full answer replaces it by itself."""
    path, index, refs = recorded
    monkeypatch.setattr(TracesTable, "sync_rows", 0)
    release = threading.Event()
    import async_trace_tui.ui.traces_pane as pane_mod

    real = pane_mod.build_search

    def slow_build(*args, **kwargs):
        assert release.wait(20)
        return real(*args, **kwargs)

    monkeypatch.setattr(pane_mod, "build_search", slow_build)

    async def run():
        app = create_app([path])
        async with app.run_test(size=(160, 50)) as pilot:
            while app.loading:
                await pilot.pause(0.02)
            pane, table = app.traces_pane, app.traces_table
            roots = {r.trace_id for r in table.all_rows if "checkout" in r.root_service.lower()}
            assert roots and roots != refs["service:checkout"]
            pane.filter_input.value = "ord_0042"
            await settle(pilot, table)
            assert visible(table) == []  # a child's attribute: not a root's
            pane.filter_input.value = "checkout"
            await settle(pilot, table)
            assert set(visible(table)) == roots
            assert "searching all spans and attributes" in str(
                app.query_one("#traces-status").render())
            release.set()
            assert await pane.wait_search(10)
            await settle(pilot, table)
            assert set(visible(table)) == reference(index, "checkout") != roots
            pane.filter_input.value = "ord_0042"
            await settle(pilot, table)
            assert set(visible(table)) == refs["ord_0042"]

    asyncio.run(run())


def test_the_slash_key_and_typed_keys_filter(recorded, monkeypatch):
    path, _, refs = recorded
    monkeypatch.setattr(TracesTable, "sync_rows", 0)

    async def run():
        app = create_app([path])
        async with app.run_test(size=(160, 50)) as pilot:
            while app.loading:
                await pilot.pause(0.02)
            assert await app.traces_pane.wait_search(10)
            table = app.traces_table
            await pilot.press("slash", *"ORD_0042")
            await settle(pilot, table)
            assert set(visible(table)) == refs["ord_0042"] and len(refs["ord_0042"]) == 1
            await pilot.press("enter", "escape")
            assert table.row_count == N_TRACES

    asyncio.run(run())


def test_the_search_keeps_up_with_a_growing_index(recorded, monkeypatch):
    """Live mode: spans appended to the index after the text was built (new traces and
    more spans of known ones) are searched too, in a thread."""
    _, _, _ = recorded
    monkeypatch.setattr(TracesTable, "sync_rows", 0)
    body = record(60, seed=12)
    full, _ = load_bytes(body)
    # (rows come grouped by resource) a trace whose root comes after the split and a child
    # before it grows; one with every row after it is new
    half = len(full) // 2
    first_row: dict[int, int] = {}
    for r in range(len(full)):
        first_row.setdefault(full.trace[r], r)
    t_grown = next(t for t, r in first_row.items() if r < half <= full.traces[t].root)
    t_new = next(t for t, r in first_row.items() if r >= half and full.traces[t].spans > 1)
    grown, new = full.trace_ids[t_grown].hex(), full.trace_ids[t_new].hex()
    route = full.name[full.traces[t_grown].root].lower()

    async def run():
        from textual.app import App

        index = SpanIndex.empty()
        batch, _f = decode(body, "first", LoadReport())
        first_rows = _first(batch, half)
        index.append(first_rows)

        class One(App):
            def compose(self):
                yield TracesTable(trace_rows(index))

        app = One()
        async with app.run_test(size=(160, 40)) as pilot:
            table = app.query_one(TracesTable)
            search, _, _ = build_search(index, pending=Pending(index, 0))
            table.set_search_texts(search)
            table.set_filter(route)
            await settle(pilot, table)
            before = set(visible(table))
            assert grown not in before and new not in before
            rest, _f = decode(body, "rest", LoadReport())
            arrivals = index.append(_rest(rest, half))
            pos = {r.summary.index: i for i, r in enumerate(table.all_rows)}
            updated, added = [], []
            for t in sorted(arrivals.touched):
                row = TraceRow(index, index.traces[t])
                (updated.append((pos[t], row)) if t in pos else added.append(row))
            table.grow(updated, added)
            await settle(pilot, table)
            want = reference(full, route)
            assert set(visible(table)) == want and grown in want
            # a new trace, by an attribute of a span that is not its root
            child = next(r for r in full.spans_of(t_new) if full.parent[r] >= 0)
            order_id = str(full.detail(child).attributes["order.id"])
            table.set_filter(order_id)
            await settle(pilot, table)
            assert set(visible(table)) == reference(full, order_id) == {new}
            table.set_filter("service:inventory")
            await settle(pilot, table)
            assert set(visible(table)) == reference(full, "service:inventory")

    asyncio.run(run())


def load_bytes(body: bytes):
    batch, _f = decode(body, "all", LoadReport())
    return batch.build(), None


def _first(batch, n: int):
    batch.truncate(n)
    return batch


def _rest(batch, n: int):
    batch.drop_rows(list(range(n)))
    return batch


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
