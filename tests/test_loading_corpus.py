"""Every file of ../shared/corpus/ loads with the counts its README gives.

The README's per-file table is read at test time (so a file added there is checked too) and
also spelled out below for the files whose facts matter most, so that a README edit cannot
quietly weaken these tests.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest
from sdk_data import snapshot

from async_trace_tui.loading import DUPLICATES, load
from async_trace_tui.model import KIND_NAMES, UNKNOWN_SERVICE

OTEL_TUI = "otel-tui/test_data.json"
OTEL_TUI_FLAVOURS = [
    OTEL_TUI,
    "derived/otel-tui.traces-only.jsonl",
    "derived/otel-tui.traces.fileexporter-proto.binpb",
    "derived/otel-tui.traces.fileexporter-proto-zstd-legacy.bin",
    "derived/otel-tui.traces.fileexporter-json-native.jsonl.zst",
    "derived/otel-tui.traces.single-TracesData.binpb",
    "derived/otel-tui.traces.python-MessageToJson-default.NONCONFORMING.json",
    "derived/otel-tui.traces.snake_case.NONCONFORMING.jsonl",
]
SPEC_EMPTY_IDS = "derived/opentelemetry-specification.file-exporter-example.traces.jsonl"
DEBUG_TEXT = ("opentelemetry-collector/"
              "exporter__debugexporter__internal__otlptext__testdata__traces__two_spans.out")
JAEGER_01 = "jaeger/internal__storage__v2__memory__fixtures__otel_traces_01.json"
JAEGER_LINK_ATTRS = "jaeger/internal__storage__integration__fixtures__traces__link_attributes_trace.json"
JAEGER_EXAMPLE = "jaeger/internal__storage__integration__fixtures__traces__example_trace.json"
JAEGER_V3 = ("jaeger/cmd__jaeger__internal__extension__jaegerquery__internal__apiv3__snapshots__"
             "GetTrace.json")
JAEGER_DUP = ("jaeger/cmd__jaeger__internal__extension__jaegerquery__internal__fixture__"
              "otlp2jaeger-in.json")
JAEGER_UI = ("jaeger-ui/packages__jaeger-ui__src__utils__fixtures__"
             "otlp2jaeger-multi-in-combined.json")
PROTO_EXAMPLE = "opentelemetry-proto/examples__trace.json"


# -- what the loader gives, measured the same way for every file --------------------------

_cache: dict[str, tuple] = {}


def loaded(corpus: Path, rel: str):
    if rel not in _cache:
        _cache[rel] = load([str(corpus / rel)])
    return _cache[rel]


def facts(index):
    links = [(r, t) for r in range(len(index)) for (_, _, t) in index.links_of(r)]
    cross = sum(
        1 for r in range(len(index)) for (tid, _, _) in index.links_of(r)
        if tid != index.trace_id_of(r)
    )
    return {
        "spans": len(index),
        "traces": len({index.trace[r] for r in range(len(index))}),
        "svc": len({index.service(r) for r in range(len(index))} - {UNKNOWN_SERVICE}),
        "kinds": Counter(KIND_NAMES[index.kind[r]].lower() for r in range(len(index))),
        "links": len(links),
        "cross": cross,
        "resolvable": sum(1 for _, t in links if t is not None),
    }


# -- the README table -----------------------------------------------------------------------

def readme_rows(corpus: Path) -> list[dict[str, str]]:
    text = (corpus / "README.md").read_text()
    head = "| file | bytes | format | spans |"
    lines = text[text.index(head):].splitlines()
    cols = [c.strip() for c in lines[0].strip("|").split("|")]
    rows = []
    for line in lines[2:]:
        if not line.startswith("|"):
            break
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        rows.append(dict(zip(cols, cells, strict=True)))
    return rows


def resolve_name(corpus: Path, name: str) -> str:
    """README names elide the middle with `...`: find the one file they mean."""
    if "..." not in name:
        return name
    pattern = re.compile(re.escape(name).replace(re.escape("..."), ".*") + "$")
    hits = [str(p.relative_to(corpus)) for p in corpus.rglob("*") if p.is_file()
            and pattern.match(str(p.relative_to(corpus)))]
    assert len(hits) == 1, (name, hits)
    return hits[0]


def number(cell: str) -> int | None:
    m = re.match(r"\**(\d+)", cell)
    return int(m.group(1)) if m else None


def test_readme_table_lists_every_data_file(corpus):
    listed = {resolve_name(corpus, r["file"]) for r in readme_rows(corpus)}
    on_disk = {str(p.relative_to(corpus)) for p in corpus.rglob("*")
               if p.is_file() and p.name != "README.md"}
    assert listed == on_disk


def test_readme_counts_match_the_loader(corpus):
    """Every number the README table gives, for every file, against the loader."""
    checked = 0
    for row in readme_rows(corpus):
        rel = resolve_name(corpus, row["file"])
        path = corpus / rel
        assert path.stat().st_size == number(row["bytes"]), f"{rel} changed on disk"
        if rel in (DEBUG_TEXT, SPEC_EMPTY_IDS):
            continue  # not loadable by design: their own tests below
        index, report = loaded(corpus, rel)
        # The README counts records as written; a span written twice (one fixture holds
        # the same span twice) is loaded once and counted as a duplicate (SPEC §1).
        dups = report.skipped[DUPLICATES]
        assert not report.failed_files and set(report.skipped) <= {DUPLICATES}, (rel, report.lines())
        got = facts(index)
        got["spans"] += dups
        for col in ("spans", "traces", "svc", "cross", "resolvable"):
            want = number(row[col])
            if want is not None:
                assert got[col] == want, (rel, col, got[col], want)
                checked += 1
        want = number(row["links/refs"])
        if want is not None:
            assert got["links"] == want, (rel, "links", got["links"], want)
            checked += 1
        kinds = row["kinds"].replace("*", "")
        if kinds and kinds != "mixed":
            counted = dict(re.findall(r"([a-z]+) (\d+)", kinds))
            if counted:
                assert {k: int(v) for k, v in counted.items()} == dict(got["kinds"]), rel
            else:
                assert set(re.findall(r"[a-z]+", kinds)) == set(got["kinds"]), rel
            checked += 1
        for col, shape in (("db", "database"), ("http", "http"), ("msg", "pubsub")):
            shapes = {index.shape(r) for r in range(len(index))}
            if row[col].startswith("yes"):
                assert shape in shapes, (rel, col)
                checked += 1
            elif row[col].startswith("no"):
                assert shape not in shapes, (rel, col)
                checked += 1
    assert checked > 40


# -- the same facts, written down -----------------------------------------------------------

@pytest.mark.parametrize("rel, spans, traces, links, resolvable", [
    (PROTO_EXAMPLE, 1, 1, 0, 0),
    (JAEGER_01, 4, 2, 8, 4),
    (JAEGER_LINK_ATTRS, 1, 1, 3, 0),
    (JAEGER_EXAMPLE, 5, 1, 0, 0),
    (JAEGER_DUP, 1, 1, 0, 0),  # the same span written twice: loaded once (SPEC §1)
    (JAEGER_V3, 1, 1, 0, 0),
    (JAEGER_UI, 4, 1, 0, 0),
    *[(f, 547, 141, 53, 53) for f in OTEL_TUI_FLAVOURS],
])
def test_file_counts(corpus, rel, spans, traces, links, resolvable):
    index, report = loaded(corpus, rel)
    got = facts(index)
    assert (got["spans"], got["traces"], got["links"], got["resolvable"]) == (
        spans, traces, links, resolvable)
    assert report.spans == spans and report.traces == traces
    assert report.skipped[DUPLICATES] == (1 if rel == JAEGER_DUP else 0)
    assert not report.failed_files and set(report.skipped) <= {DUPLICATES} and not report.warnings
    assert [f.spans for f in report.files] == [spans]


def test_otel_tui_flavours_are_identical(corpus):
    """All eight flavours of the otel-tui capture give the same spans, links, attributes."""
    base = snapshot(loaded(corpus, OTEL_TUI)[0])
    assert len(base) == 547
    for rel in OTEL_TUI_FLAVOURS[1:]:
        assert snapshot(loaded(corpus, rel)[0]) == base, rel


def test_otel_tui_details(corpus):
    index, _ = loaded(corpus, OTEL_TUI)
    kinds = Counter(KIND_NAMES[k].lower() for k in index.kind)
    assert kinds == {"internal": 27, "server": 277, "client": 243}
    assert len({index.service(r) for r in range(len(index))}) == 8
    # every link crosses traces and resolves, and the reverse map agrees
    outgoing = [(r, t) for r in range(len(index)) for _, _, t in index.links_of(r)]
    assert len(outgoing) == 53
    assert all(t is not None and index.trace[t] != index.trace[r] for r, t in outgoing)
    assert sum(len(index.linked_from(r)) for r in range(len(index))) == 53
    assert sum(s.links_out for s in index.traces) == sum(s.links_in for s in index.traces) == 53


def test_mixed_signals_are_ignored_not_errors(corpus):
    index, report = loaded(corpus, OTEL_TUI)
    assert report.ignored == {"metrics records (not traces)": 40, "logs records (not traces)": 16}
    assert not report.skipped and not report.failed_files
    assert report.files[0].format == "OTLP/JSON Lines"
    summary = report.lines()[0]
    assert "40 metrics" in summary and "16 logs" in summary
    assert "skipped" not in summary


def test_traces_only_flavour_has_nothing_to_ignore(corpus):
    _, report = loaded(corpus, "derived/otel-tui.traces-only.jsonl")
    assert not report.ignored and not report.skipped


def test_all_empty_ids_index_nothing(corpus):
    index, report = loaded(corpus, SPEC_EMPTY_IDS)
    assert len(index) == 0 and len(index.trace_ids) == 0
    assert report.skipped == {"spans with an empty or malformed id": 8}
    assert not report.failed_files  # the file was read; its records were bad
    assert all(SPEC_EMPTY_IDS.split("/")[1] in m for m in report.messages)
    assert report.messages and all("id" in m for m in report.messages)
    # "" is never an id, so nothing can be found or resolved under it
    assert index.find(b"", b"") is None
    assert index.find_span(b"") == []
    assert not index.links_out and not index.links_in


def test_empty_ids_never_resolve_next_to_real_data(corpus, write):
    """Loaded together with real spans, the empty-id spans and links still match nothing."""
    index, report = load([str(corpus / SPEC_EMPTY_IDS), str(corpus / JAEGER_01)])
    assert len(index) == 4
    assert report.skipped["spans with an empty or malformed id"] == 8
    assert index.find_span(b"") == []
    assert all(t for r in range(len(index)) for t, _, _ in index.links_of(r))


def test_debug_exporter_text_is_named_for_what_it_is(corpus):
    index, report = loaded(corpus, DEBUG_TEXT)
    assert len(index) == 0
    [f] = report.files
    assert "debug" in f.error and "exporter" in f.error
    assert "not a data format" in f.error
    [msg] = report.messages
    assert msg.startswith(str(corpus / DEBUG_TEXT) + ": ")
    assert "\n" not in msg


def test_jaeger_links_self_link_and_orphans(corpus):
    index, _ = loaded(corpus, JAEGER_01)
    t1 = bytes.fromhex("00000000000000010000000000000000")
    t2 = bytes.fromhex("00000000000000020000000000000000")
    s4 = index.find(t1, bytes.fromhex("0000000000000004"))
    assert s4 is not None
    assert {KIND_NAMES[index.kind[r]] for r in range(4)} == {
        "SERVER", "CLIENT", "PRODUCER", "CONSUMER"}
    # every span links to span 4 of trace 1 (itself included) and to a trace not loaded
    for r in range(4):
        targets = [t for _, _, t in index.links_of(r)]
        assert targets == [s4, None]
    assert sorted(index.linked_from(s4)) == [0, 1, 2, 3]
    # span 2 (trace 1) names parent 3, which exists only in trace 2: an orphan, not a child
    s2 = index.find(t1, bytes.fromhex("0000000000000002"))
    s3 = index.find(t2, bytes.fromhex("0000000000000003"))
    assert index.parent[s2] == -1 and index.is_orphan(s2)
    assert s2 not in index.children(s3)
    d = index.detail(s2)
    assert [lk.attributes["opentracing.ref_type"] for lk in d.links] == [
        "follows_from", "child_of"]


def test_jaeger_typed_link_attributes(corpus):
    index, _ = loaded(corpus, JAEGER_LINK_ATTRS)
    [row] = range(len(index))
    assert index.kind[row] == 0 and index.is_internal(row)  # unspecified reads as internal
    links = index.detail(row).links
    assert len(links) == 3
    assert links[0].attributes == {
        "opentracing.ref_type": "child_of",
        "sameplacelinkattribute1": "sameplacevalue",
        "sameplacelinkattribute2": 123,
        "sameplacelinkattribute4": True,
        "sameplacelinkattribute3": 72.5,
        "linkblob": bytes([0, 0, 0x30, 0x39]),
    }
    assert [lk.attributes for lk in links[1:]] == [
        {"opentracing.ref_type": "child_of"}, {"opentracing.ref_type": "follows_from"}]
    # the trace holds only span 1 of itself... the links point at span 2 and at trace 0xff
    assert all(t is None for _, _, t in index.links_of(row))


def test_jaeger_v3_result_wrapper_and_unknown_service(corpus):
    index, report = loaded(corpus, JAEGER_V3)
    assert len(index) == 1
    assert index.name[0] == "foobar"
    assert index.service(0) == UNKNOWN_SERVICE
    assert index.status[0] == 2
    assert report.files[0].format == "OTLP/JSON"


def test_duplicate_span_in_jaeger_fixture(corpus):
    index, _ = loaded(corpus, JAEGER_DUP)
    tid = bytes.fromhex("83a9efd15c1c98a977e0711cc93ee28b")
    sid = bytes.fromhex("e127af99e3b3e074")
    assert index.find(tid, sid) == 0  # the first one stands
    assert index.find_span(sid) == [0]
    assert all(index.is_orphan(r) for r in range(len(index)))


def test_uppercase_hex_spec_example(corpus):
    index, _ = loaded(corpus, PROTO_EXAMPLE)
    assert index.trace_ids == [bytes.fromhex("5b8efff798038103d269b633813fc60c")]
    assert index.span_id[0] == bytes.fromhex("eee19b7ec3c1b174")
    assert index.is_orphan(0)  # its parent is not in the file
    assert index.service(0) == "my.service"
    assert index.scope(0).name == "my.library"
    assert index.scope(0).attributes == {"my.scope.attribute": "some scope attribute"}
    assert index.detail(0).attributes == {"my.span.attr": "some value"}
    assert index.end[0] - index.start[0] == 1_000_000_000


def test_jaeger_example_services_and_resources(corpus):
    index, _ = loaded(corpus, JAEGER_EXAMPLE)
    assert len({index.service(r) for r in range(len(index))}) == 3
    assert len({id(index.resource(r)) for r in range(len(index))}) == 3


def test_jaeger_ui_four_resources_one_trace(corpus):
    index, _ = loaded(corpus, JAEGER_UI)
    assert len(index.trace_ids) == 1
    assert all(index.is_internal(r) for r in range(len(index)))
    # spans spread over four resourceSpans still form one tree: main > info > 2x ohboy.do
    [main] = index.roots(0)
    assert index.name[main] == "main" and index.traces[0].root == main
    [info] = index.children(main)
    assert index.name[info] == "info"
    assert [index.name[r] for r in index.children(info)] == ["ohboy.do", "ohboy.do"]
    assert {index.scope(r).name for r in range(len(index))} == {"widgets", "ohboy"}


def test_whole_corpus_in_one_call(corpus):
    """The directory as one input: every file read; the debug text and the README are the
    only failures, each with its own line; the same spans in eight flavours index once."""
    index, report = load([str(corpus)])
    assert len(report.files) == 18  # 17 data files + README.md
    failed = sorted(Path(f.name).name for f in report.failed_files)
    assert failed == sorted([Path(DEBUG_TEXT).name, "README.md"])
    readme = next(f for f in report.failed_files if f.name.endswith("README.md"))
    assert "not OTLP" in readme.error
    # every flavour of the otel-tui capture holds the same spans: loaded once, the other
    # copies counted as duplicates (SPEC §1)
    assert report.skipped[DUPLICATES] >= 547 * (len(OTEL_TUI_FLAVOURS) - 1)
    otel = loaded(corpus, OTEL_TUI)[0]
    for r in range(0, len(otel), 37):
        tid, sid = otel.trace_id_of(r), otel.span_id[r]
        row = index.find(tid, sid)
        assert row is not None and index.find_span(sid) == [row]
    assert sum(1 for r in range(len(index)) for *_, t in index.links_of(r) if t is not None) >= 53


def test_corpus_ships_with_the_repository(corpus):
    """The suite reads its corpus from tests/data, not from a ../shared that a clone lacks;
    tests/data/README.md gives every source directory's provenance and licence."""
    repo = Path(__file__).resolve().parent.parent
    assert corpus.resolve().is_relative_to(repo / "tests" / "data")
    provenance = (repo / "tests" / "data" / "README.md").read_text()
    assert "Apache-2.0" in provenance
    assert (repo / "tests" / "data" / "corpus-LICENSE-Apache-2.0.txt").read_text().lstrip() \
        .startswith("Apache License")
    for sub in sorted(p.name for p in corpus.iterdir() if p.is_dir()):
        assert f"| {sub}/ |" in (corpus / "README.md").read_text(), sub
