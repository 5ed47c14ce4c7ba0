"""OTLP/JSON that mixes key styles loads like the spec's own (issue 9 items 3-5).

Grafana's Tempo datasource writes camelCase `resourceSpans` and snake_case below it
(`scope_spans`, `trace_id`, `string_value`), with base64 ids; a variant keeps camelCase
`scopeSpans` over snake_case spans. These are made here from the SDK request with
protobuf's own JSON writer (snake_case, base64) and the top levels renamed, as Grafana
does; a seeded shuffle then picks each key's style at random, field by field.
"""

from __future__ import annotations

import json
import random
import re

import pytest
from google.protobuf.json_format import MessageToDict
from sdk_data import snapshot, to_protobuf

from async_trace_tui.cli import main
from async_trace_tui.loading import load


@pytest.fixture(scope="module")
def expected(sdk_request, tmp_path_factory):
    path = tmp_path_factory.mktemp("base") / "base.binpb"
    path.write_bytes(to_protobuf(sdk_request))
    index, report = load([str(path)])
    assert not report.skipped and not report.warnings
    return snapshot(index)


def snake_doc(req):
    return MessageToDict(req, preserving_proto_field_name=True, use_integers_for_enums=True)


def camel(key):
    head, *rest = key.split("_")
    return head + "".join(w.title() for w in rest)


def snake(key):
    return re.sub(r"[A-Z]", lambda m: "_" + m.group(0).lower(), key)


def restyle(value, choose):
    """Every key of every object renamed by `choose(key) -> key`, all the way down (OTLP's
    attribute names are values of "key", so they are left as they are)."""
    if isinstance(value, dict):
        return {choose(k): restyle(v, choose) for k, v in value.items()}
    if isinstance(value, list):
        return [restyle(v, choose) for v in value]
    return value


def load_ok(path):
    index, report = load([path])
    assert not report.failed_files and not report.skipped and not report.warnings, report.lines()
    return index


def test_tempo_datasource_shape(sdk_request, expected, write):
    """camelCase resourceSpans, then snake_case all the way down, base64 ids."""
    doc = snake_doc(sdk_request)
    doc = {"resourceSpans": doc.pop("resource_spans")}
    text = json.dumps(doc)
    assert '"scope_spans"' in text and '"trace_id"' in text and '"string_value"' in text
    assert snapshot(load_ok(write("tempo.json", text))) == expected


def test_camel_scope_spans_over_snake_spans(sdk_request, expected, write):
    """The variant that used to report every span as `span id '' is not 8 bytes`."""
    doc = snake_doc(sdk_request)
    for rs in doc["resource_spans"]:
        rs["scopeSpans"] = rs.pop("scope_spans")
    doc = {"resourceSpans": doc.pop("resource_spans")}
    assert snapshot(load_ok(write("variant.json", doc))) == expected


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("lines", [False, True], ids=["document", "lines"])
def test_any_key_in_either_style(seed, lines, sdk_request, expected, write):
    """Each key's style drawn at random: levels, span fields, links, events, values."""
    rnd = random.Random(seed)
    doc = restyle(snake_doc(sdk_request), lambda k: camel(k) if rnd.random() < 0.5 else snake(k))
    if lines:
        top = next(k for k in doc if k in ("resourceSpans", "resource_spans"))
        text = "".join(json.dumps({top: [rs]}) + "\n" for rs in doc[top])
    else:
        text = json.dumps(doc, indent=1)
    index = load_ok(write("mixed.json", text))
    assert snapshot(index) == expected


def test_a_resource_without_a_span_list_is_said_so(write, capsys):
    doc = {"resourceSpans": [{"resource": {"attributes": []},
                              "scopeSpanz": [{"spans": [{"name": "lost"}]}]}]}
    path = write("typo.json", doc)
    index, report = load([path])
    assert len(index) == 0
    assert report.messages == [
        f"{path}: resourceSpans[0] has no scopeSpans/scope_spans/instrumentationLibrarySpans"]
    assert main([path, "--list"]) == 1
    assert "resourceSpans[0] has no scopeSpans" in capsys.readouterr().err


@pytest.mark.parametrize("key, words", [
    ("resourceLogs", "OTLP logs data (resourceLogs)"),
    ("resource_metrics", "OTLP metrics data (resourceMetrics)"),
])
@pytest.mark.parametrize("lines", [False, True], ids=["document", "lines"])
def test_other_signals_alone_are_named(key, words, lines, write, capsys):
    record = {key: [{"resource": {}, "scopeLogs": [], "scope_metrics": []}]}
    text = json.dumps(record) + "\n" + json.dumps(record) + "\n" if lines else json.dumps(record)
    path = write("other.json", text)
    index, report = load([path])
    assert len(index) == 0
    [f] = report.files
    assert f.error == f"no trace data: this is {words}"
    assert main([path, "--list"]) == 1
    assert "Traceback" not in capsys.readouterr().err
