"""ClickHouse `otel_traces` as a source, against the real engine (chDB, in-process) and the
exporter's own DDL (async_trace_tui/sources/clickhouse/otel_traces.sql, a copy of
shared/clickhouse/otel_traces.sql).

The same SDK-written spans go into chDB twice, independently: through `trace-tui export`
(the exporter's current mapping) and through plain INSERT rows written here from the OTLP
JSON with the json module, in an older exporter's table (Duration Int64, SPAN_KIND_SERVER /
STATUS_CODE_ERROR, no scope columns, no lookup table). Both must give the views a file gives.

chDB opens one data directory per process: every test here shares one (databases `otel`
and `old` in it), and the module closes it at the end.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sdk_data import to_otlp_json

from async_trace_tui.cli import main
from async_trace_tui.loading import default_sample
from async_trace_tui.sources import SourceError, open_source
from async_trace_tui.sources.clickhouse.backend import ChdbBackend
from async_trace_tui.sources.clickhouse.target import Target, TargetError, parse_target
from async_trace_tui.sources.window import WindowError, parse_time, parse_window

pytest.importorskip("chdb")

WINDOW = ["--since", "2020-01-01T00:00:00Z", "--until", "2035-01-01T00:00:00Z"]
OLD_DDL = """
CREATE TABLE old.otel_traces (
    Timestamp DateTime64(9) CODEC(Delta, ZSTD(1)),
    TraceId String, SpanId String, ParentSpanId String, TraceState String,
    SpanName LowCardinality(String), SpanKind LowCardinality(String),
    ServiceName LowCardinality(String),
    ResourceAttributes Map(LowCardinality(String), String),
    SpanAttributes Map(LowCardinality(String), String),
    Duration Int64, StatusCode LowCardinality(String), StatusMessage String,
    Events Nested (Timestamp DateTime64(9), Name LowCardinality(String),
                   Attributes Map(LowCardinality(String), String)),
    Links Nested (TraceId String, SpanId String, TraceState String,
                  Attributes Map(LowCardinality(String), String))
) ENGINE MergeTree() PARTITION BY toDate(Timestamp)
ORDER BY (ServiceName, SpanName, toUnixTimestamp(Timestamp), TraceId)
"""
OLD_KIND = ["SPAN_KIND_UNSPECIFIED", "SPAN_KIND_INTERNAL", "SPAN_KIND_SERVER",
            "SPAN_KIND_CLIENT", "SPAN_KIND_PRODUCER", "SPAN_KIND_CONSUMER"]
OLD_STATUS = ["STATUS_CODE_UNSET", "STATUS_CODE_OK", "STATUS_CODE_ERROR"]


def run(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return code, out, err


@pytest.fixture(scope="module")
def files(tmp_path_factory, sdk_request) -> list[str]:
    d = tmp_path_factory.mktemp("files")
    sdk = d / "sdk.json"
    sdk.write_bytes(to_otlp_json(sdk_request))
    return [str(default_sample()), str(sdk)]


def _sql_str(s: str) -> str:
    return "'" + s.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _sql_map(attrs: list[dict]) -> str:
    items = []
    for a in attrs or []:
        v = a.get("value", {})
        text = next(iter(v.values()), "") if v else ""
        items.append(f"{_sql_str(a['key'])}, {_sql_str(text if isinstance(text, str) else json.dumps(text))}")
    return "map(" + ", ".join(items) + ")"


def old_exporter_inserts(path: str) -> list[str]:
    """INSERT statements for an older exporter's table, from OTLP/JSON read with json."""
    doc = json.loads(Path(path).read_text())
    out = []
    for rs in doc["resourceSpans"]:
        rattrs = rs.get("resource", {}).get("attributes", [])
        service = next((a["value"]["stringValue"] for a in rattrs if a["key"] == "service.name"), "")
        for ss in rs["scopeSpans"]:
            for sp in ss["spans"]:
                start, end = int(sp["startTimeUnixNano"]), int(sp["endTimeUnixNano"])
                links = sp.get("links", [])
                kind = sp.get("kind", 0)
                kind = kind if isinstance(kind, int) else OLD_KIND.index(kind)
                code = sp.get("status", {}).get("code", 0)
                code = code if isinstance(code, int) else OLD_STATUS.index(code)
                out.append(
                    "INSERT INTO old.otel_traces (Timestamp, TraceId, SpanId, ParentSpanId, "
                    "SpanName, SpanKind, ServiceName, ResourceAttributes, SpanAttributes, Duration, "
                    "StatusCode, `Links.TraceId`, `Links.SpanId`, `Links.TraceState`, "
                    "`Links.Attributes`) VALUES ("
                    f"fromUnixTimestamp64Nano({start}), {_sql_str(sp['traceId'])}, "
                    f"{_sql_str(sp['spanId'])}, {_sql_str(sp.get('parentSpanId', ''))}, "
                    f"{_sql_str(sp['name'])}, '{OLD_KIND[kind]}', {_sql_str(service)}, "
                    f"{_sql_map(rattrs)}, {_sql_map(sp.get('attributes', []))}, {end - start}, "
                    f"'{OLD_STATUS[code]}', "
                    f"[{', '.join(_sql_str(lk['traceId']) for lk in links)}], "
                    f"[{', '.join(_sql_str(lk['spanId']) for lk in links)}], "
                    f"[{', '.join(chr(39) * 2 for _ in links)}], "
                    f"[{', '.join(_sql_map(lk.get('attributes', [])) for lk in links)}])")
    return out


@pytest.fixture(scope="module")
def store(tmp_path_factory, files):
    """The chDB directory, filled twice: `otel` by `trace-tui export`, `old` by INSERTs."""
    path = tmp_path_factory.mktemp("chdb") / "db"
    assert main(["export", *files, "--to", f"chdb:{path}"]) == 0
    backend = ChdbBackend(Target("chdb", path=str(path)))
    try:
        backend.command("CREATE DATABASE old")
        backend.command(OLD_DDL)
        for f in files:
            for stmt in old_exporter_inserts(f):
                backend.command(stmt)
        yield str(path)
    finally:
        backend.close()


def focus_spans(files):
    """Every span of the SDK scenario (every kind, shape, link case) and, of the sample, its
    batch consumer, one of its producers and the e-mail consumer a hop further."""
    doc = json.loads(Path(files[1]).read_text())
    ids = [sp["spanId"] for rs in doc["resourceSpans"] for ss in rs["scopeSpans"]
           for sp in ss["spans"]]
    return ids + ["fe2fbd720bdcb5d3", "4f0f4c3c2052e52b", "5b3916640d9792c1"]


@pytest.mark.parametrize("database", ["otel", "old"])
def test_traces_table_from_the_store_is_the_files(capsys, files, store, database):
    code, want, _ = run(capsys, *files, "--list", "--json")
    assert code == 0
    code, got, err = run(capsys, f"chdb:{store}?database={database}", *WINDOW, "--list", "--json")
    assert code == 0, err
    assert json.loads(got) == json.loads(want)
    assert len(json.loads(got)) == 11  # the sample's 7 traces and the SDK scenario's 4


@pytest.mark.parametrize("database", ["otel", "old"])
def test_every_dependencies_view_from_the_store_is_the_files(capsys, files, store, database):
    """`--json --span ID` for every span (links followed both ways, to --depth 3), and the
    default view; `old` has no lookup table and an older exporter's spellings and types."""
    src = f"chdb:{store}?database={database}"
    for sid in [None, *focus_spans(files)]:
        args = ["--json"] + (["--span", sid] if sid else [])
        code, want, _ = run(capsys, *files, *args)
        assert code == 0
        code, got, err = run(capsys, src, *WINDOW, *args)
        assert code == 0, (sid, err)
        assert json.loads(got) == json.loads(want), sid


def test_grouping_and_text_output_match_too(capsys, files, store):
    consumer = "fe2fbd720bdcb5d3"  # the sample's batch consumer: five producers converge
    for extra in (["--group-by", "service", "--agg", "max"], ["--group-by", "none", "--hide-internal"],
                  ["--group-by", "attr:messaging.system", "--async-cap", "1"]):
        want = run(capsys, *files, "--print", "--span", consumer, *extra)[1]
        got = run(capsys, f"chdb:{store}", *WINDOW, "--print", "--span", consumer, *extra)[1]
        assert got == want and "orders publish" in got


def test_filter_sort_and_pages_run_in_sql(store):
    src = open_source([f"chdb:{store}"], since="2020-01-01T00:00:00Z",
                      until="2035-01-01T00:00:00Z", limit=4)
    try:
        first = src.open()
        assert len(first) == 4
        newest = src.trace_rows(sort="start", reverse=True, limit=100)
        assert [r.start_ns for r in newest] == sorted((r.start_ns for r in newest), reverse=True)
        pages = [r.trace_id for o in range(0, 12, 4)
                 for r in src.trace_rows(sort="start", reverse=True, offset=o)]
        assert pages == [r.trace_id for r in newest]
        workers = src.trace_rows(query="service:email-worker", limit=100)
        assert workers and all("email" in r.root_service or r.spans for r in workers)
        # a span of that service in every trace listed, whatever its root
        assert {r.trace_id for r in workers} <= {r.trace_id for r in newest}
        assert src.trace_rows(query="CHARGE CARD", limit=100)  # case-insensitive, any span
        assert src.trace_rows(query="no such operation anywhere", limit=100) == []
        by_links = src.trace_rows(sort="links_in", reverse=True, limit=100)
        assert by_links[0].links_in == max(r.links_in for r in newest) > 0
        assert len(src.index) == 0  # the table came from aggregates: no span was fetched
    finally:
        src.close()


def test_a_window_that_misses_everything_lists_nothing(capsys, store):
    code, out, err = run(capsys, f"chdb:{store}", "--since", "90s", "--list", "--json")
    assert code == 0 and json.loads(out) == []
    code, out, err = run(capsys, f"chdb:{store}", "--since", "15m", "--print")
    assert code == 2 and "no traces in the window" in err


def test_unknown_table_and_missing_column_are_one_line(capsys, store):
    code, out, err = run(capsys, f"chdb:{store}?table=nope", "--list")
    assert code == 1 and "no table otel.nope" in err and len(err.strip().splitlines()) == 1
    b = ChdbBackend(Target("chdb", path=store))
    try:
        b.command("CREATE TABLE otel.bare (Timestamp DateTime64(9), TraceId String) "
                  "ENGINE MergeTree ORDER BY Timestamp")
    finally:
        b.close()
    code, out, err = run(capsys, f"chdb:{store}?table=bare", *WINDOW, "--list")
    assert code == 1 and "has no column SpanId" in err and len(err.strip().splitlines()) == 1


def test_a_server_that_is_down_is_one_line(capsys):
    code, out, err = run(capsys, "clickhouse://127.0.0.1:1", "--list")
    assert code == 1
    assert err.strip().splitlines() == [
        "trace-tui: cannot connect to ClickHouse at 127.0.0.1:1: connection refused "
        "(is the server running?)"]


def test_missing_extra_names_it(monkeypatch, capsys, tmp_path):
    import sys

    monkeypatch.setitem(sys.modules, "chdb", None)
    monkeypatch.setitem(sys.modules, "clickhouse_connect", None)
    for url in (f"chdb:{tmp_path}/x", "clickhouse://127.0.0.1:1"):
        code, out, err = run(capsys, url, "--list")
        assert code == 1 and "pip install 'async-trace-tui[clickhouse]'" in err


def test_urls(monkeypatch):
    monkeypatch.delenv("CLICKHOUSE_PASSWORD", raising=False)
    t = parse_target("clickhouse://alice:s%40cret@db.example:9000/traces?table=spans&secure=1")
    assert (t.host, t.port, t.user, t.password, t.database, t.table, t.secure) == (
        "db.example", 9000, "alice", "s@cret", "traces", "spans", True)
    assert "s@cret" not in str(t)
    t = parse_target("clickhouse://localhost")
    assert (t.port, t.user, t.password, t.database, t.table) == (8123, "default", "", "otel", "otel_traces")
    assert parse_target("clickhouse://h?secure=true").port == 8443
    monkeypatch.setenv("CLICKHOUSE_PASSWORD", "from-env")
    assert parse_target("clickhouse://bob@h").password == "from-env"
    assert parse_target("clickhouse://bob:given@h").password == "given"
    t = parse_target("chdb:/data/x?database=d1&table=t1")
    assert (t.kind, t.path, t.database, t.table) == ("chdb", "/data/x", "d1", "t1")
    for bad in ("clickhouse://", "chdb:", "clickhouse://h?table=a;drop", "chdb:x?colour=red",
                "clickhouse://h:notaport"):
        with pytest.raises(TargetError):
            parse_target(bad)


def test_windows():
    now = parse_time("2026-03-01T12:00:00Z")
    assert parse_window(None, None, now) == (now - 3600 * 10**9, now)
    for text, seconds in (("90s", 90), ("15m", 900), ("1h", 3600), ("7d", 7 * 86400)):
        assert parse_window(text, None, now) == (now - seconds * 10**9, now)
    assert parse_window("2026-03-01T11:00:00.5+01:00", "2026-03-01T12:00:00Z", now) == (
        parse_time("2026-03-01T10:00:00Z") + 5 * 10**8, now)
    for bad in (("yesterday", None), ("1h", "noon"), ("2026-03-02T00:00:00Z", "2026-03-01T00:00:00Z")):
        with pytest.raises(WindowError):
            parse_window(*bad, now)


def test_bad_window_and_url_are_usage_errors(capsys):
    assert run(capsys, "chdb:/x", "--since", "soon", "--list")[0] == 2
    assert run(capsys, "clickhouse://h?table=x-y", "--list")[0] == 2
    with pytest.raises(SystemExit) as exit_:
        main(["--since", "1h", "--list"])
    assert exit_.value.code == 2
    assert "--since/--until apply to a clickhouse:// or chdb: source" in capsys.readouterr().err


def test_source_errors_are_source_errors(store):
    src = open_source([f"chdb:{store}"], since="1h")
    try:
        src.connect()
        with pytest.raises(SourceError):
            src._rows("SELECT nope FROM otel.otel_traces")
    finally:
        src.close()


@pytest.mark.parametrize("database", ["otel", "old"])
@pytest.mark.parametrize("by", ["service", "resource:host.name", "resource:no.such.key"])
def test_service_map_from_the_store_is_the_files(capsys, files, store, database, by):
    """--map --json as SQL aggregates over the window (sync and async pairs, a CONSUMER
    child, links both resolved and not, errors, nearest-rank percentiles) equals the map
    of the same spans loaded from the files."""
    code, want, _ = run(capsys, *files, "--map", "--json", "--by", by)
    assert code == 0
    code, got, err = run(capsys, f"chdb:{store}?database={database}", *WINDOW, "--map",
                         "--json", "--by", by)
    assert code == 0, err
    assert json.loads(got) == json.loads(want)
    doc = json.loads(got)
    if by == "service":
        assert {e["kind"] for e in doc["edges"]} == {"sync", "async"}
        assert any(s["unresolved_links"] for s in doc["services"])  # the never-loaded span


def test_service_map_fetches_no_span(store):
    src = open_source([f"chdb:{store}"], since="2020-01-01T00:00:00Z", until="2035-01-01T00:00:00Z")
    try:
        src.open()
        doc = src.service_map_json("service")
        assert doc["edges"] and len(src.index) == 0
    finally:
        src.close()



def test_the_same_map_asked_again_is_the_same(capsys, files, store):
    """chDB 26.9's query condition cache once answered the map's query, asked a second time
    over the older exporter's table, without some of its spans: the backend turns it off."""
    code, want, _ = run(capsys, *files, "--map", "--json", "--by", "resource:host.name")
    for _ in range(3):
        code, got, err = run(capsys, f"chdb:{store}?database=old", *WINDOW, "--map", "--json",
                             "--by", "resource:host.name")
        assert code == 0 and json.loads(got) == json.loads(want), err
