"""Issue 7 item 12: property-based fuzzing of every loader and every headless output.

Hypothesis mutates the bundled sample and real-world corpus files (tests/data/corpus: see
tests/data/README.md for their provenance, Apache-2.0): truncation, bit flips, spliced bytes,
wrong JSON types at any field, bad UTF-8, huge numbers, lying length prefixes, bad or nested
compression. For each mutant: no exception escapes `load()`, every report line names the file,
no loader failed with an internal error, and the dependencies view, its text and JSON, the
Traces table's JSON and the details of what loaded do not raise.

CI runs the `ci` profile (a few hundred examples); `--hypothesis-profile=long` (or
HYPOTHESIS_PROFILE=long) runs 20,000 for a long local hunt (profiles: tests/conftest.py).
"""

from __future__ import annotations

import gzip
import json
import os
import random
import struct
import tempfile
from pathlib import Path

import zstandard
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from async_trace_tui.loading import load
from async_trace_tui.textsafe import safe_json_dumps
from async_trace_tui.views.dependencies import DependencyView, ViewOptions, walk
from async_trace_tui.views.details import DetailsBuilder
from async_trace_tui.views.glyphs import UNICODE
from async_trace_tui.views.labels import plain
from async_trace_tui.views.render_json import json_chunks
from async_trace_tui.views.render_text import tree_rows
from async_trace_tui.views.traces import trace_rows

HERE = Path(__file__).resolve().parent
SAMPLE = HERE.parent / "async_trace_tui" / "sample"
CORPUS = HERE / "data" / "corpus"
# Small seeds of every flavour (the big corpus files cost a second a mutant; the
# CLI fuzzer in ../shared/tools covers them).
SEEDS = [
    SAMPLE / "checkout-async.otlp.json",
    SAMPLE / "checkout-async.binpb",
    SAMPLE / "checkout-async.zipkin.json",
    CORPUS / "opentelemetry-proto" / "examples__trace.json",
    CORPUS / "jaeger" / "internal__storage__v2__memory__fixtures__otel_traces_01.json",
    CORPUS / "jaeger" / "cmd__jaeger__internal__extension__jaegerquery__internal__apiv3__snapshots__GetTrace.json",
    CORPUS / "jaeger-ui" / "packages__jaeger-ui__src__utils__fixtures__otlp2jaeger-multi-in-combined.json",
    CORPUS / "derived" / "opentelemetry-specification.file-exporter-example.traces.jsonl",
    CORPUS / "derived" / "otel-tui.traces.fileexporter-proto-zstd-legacy.bin",
    CORPUS / "derived" / "otel-tui.traces.fileexporter-json-native.jsonl.zst",
]
_DATA = {p.name: p.read_bytes() for p in SEEDS}


def _plain(data: bytes) -> bytes:
    """A seed without its compression (mutations then apply to the content)."""
    for _ in range(3):
        if data[:4] == b"\x28\xb5\x2f\xfd":
            data = zstandard.ZstdDecompressor().decompressobj().decompress(data)
        elif data[:2] == b"\x1f\x8b":
            data = gzip.decompress(data)
    return data


WEIRD = [None, True, 0, -1, 1.5, 2**64, "", "x", "\xff", [], {}, [None], {"a": 1},
         "ZZZZ", "0" * 32, "SPAN_KIND_²", "9" * 5000, "\u202e\u200d\x1b[2J\x9b"]
HUGE_NUMBERS = [b"1e400", b"-1e400", b"18446744073709551616", b"99999999999999999999999999"]


def _json_paths(doc: object, path: tuple = ()) -> list[tuple]:
    out = [path]
    if isinstance(doc, dict):
        for k, v in doc.items():
            out += _json_paths(v, (*path, k))
    elif isinstance(doc, list):
        for i, v in enumerate(doc[:4]):
            out += _json_paths(v, (*path, i))
    return out


def _set(doc: object, path: tuple, value: object) -> object:
    if not path:
        return value
    node = doc
    for key in path[:-1]:
        node = node[key]  # type: ignore[index]
    node[path[-1]] = value  # type: ignore[index]
    return doc


def mutate(data: bytes, rnd: random.Random, ops: list[str]) -> bytes:
    op = rnd.choice(["truncate", "flip", "splice", "json-type", "json-utf8", "json-number",
                     "length-prefix", "zero-run", "compress", "compress-cut", "layers"])
    ops.append(op)
    n = len(data)
    if op == "truncate":
        return data[:rnd.randrange(n + 1)]
    if op == "flip":
        if not n:  # an earlier round truncated it to nothing: no bit to flip
            return data
        b = bytearray(data)
        for _ in range(rnd.randint(1, 8)):
            b[rnd.randrange(n)] ^= 1 << rnd.randrange(8)
        return bytes(b)
    if op == "splice":
        at = rnd.randrange(n + 1)
        return data[:at] + rnd.randbytes(rnd.randint(1, 64)) + data[at + rnd.randint(0, 64):]
    if op.startswith("json"):
        first, sep, rest = data.partition(b"\n")
        try:
            doc = json.loads(first)
        except ValueError:
            return mutate(data, rnd, ops)
        path = rnd.choice(_json_paths(doc))
        if op == "json-type":
            doc = _set(doc, path, rnd.choice(WEIRD))
            return json.dumps(doc, ensure_ascii=False).encode("utf-8", "surrogatepass") + sep + rest
        marker = "\u0007MARK\u0007"
        doc = _set(doc, path, marker)
        text = json.dumps(doc).encode()
        swap = b"\xff\xfe" if op == "json-utf8" else rnd.choice(HUGE_NUMBERS)
        quoted = b'"\\u0007MARK\\u0007"'
        return text.replace(quoted, b'"' + swap + b'"' if op == "json-utf8" else swap) + sep + rest
    if op == "length-prefix":
        b = bytearray(data)
        at = rnd.randrange(max(1, n - 4)) if rnd.random() < 0.5 else 0
        b[at:at + 4] = struct.pack(">I", rnd.choice([0, 1, n, 2**31, 2**32 - 1, rnd.randrange(2**32)]))
        return bytes(b)
    if op == "zero-run":
        at = rnd.randrange(n + 1)
        return data[:at] + bytes(rnd.choice([4, 5, 4096, 40000])) + data[at:]
    if op == "compress":
        return rnd.choice([gzip.compress, zstandard.ZstdCompressor().compress])(data)
    if op == "compress-cut":
        c = rnd.choice([gzip.compress, zstandard.ZstdCompressor().compress])(data)
        return c[:rnd.randrange(len(c))]
    c = data  # layers
    for _ in range(rnd.randint(2, 9)):
        c = rnd.choice([gzip.compress, zstandard.ZstdCompressor().compress])(c)
    return c


def check_everything_survives(data: bytes) -> None:
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "mutant\x1b]0;x\x07.bin")  # an untrusted name too
        with open(path, "wb") as f:
            f.write(data)
        index, report = load([path], max_bytes=256 << 20)
    lines = report.lines()
    assert all(line.startswith(path.replace("\x1b", "\\e").replace("\x07", "\\x07"))
               for line in lines[1:]), lines
    assert not any("internal error" in m for m in report.messages), report.messages
    if not len(index):
        assert lines[1:], "a file that gave nothing says so"
        return
    json.loads(safe_json_dumps([r.as_json() for r in trace_rows(index)]))
    details = DetailsBuilder(index)
    for t in range(min(2, len(index.trace_ids))):
        root = index.traces[t].root
        if root < 0:
            continue
        view = DependencyView(index, root, ViewOptions(depth=2))
        text = "\n".join(plain(parts) for parts in tree_rows(view.root, UNICODE))
        assert "\x1b" not in text
        json.loads("".join(json_chunks(view)))
        for k, (node, _) in enumerate(walk(view.root)):
            if k > 40:
                break
            details.build(node)


@settings(suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(seed=st.sampled_from(sorted(_DATA)), salt=st.integers(0, 2**32 - 1), rounds=st.integers(1, 3))
@example(seed="examples__trace.json", salt=73446, rounds=2)  # truncated to nothing, then a flip
def test_mutants_of_real_files_never_escape_the_loader(seed: str, salt: int, rounds: int) -> None:
    rnd = random.Random(salt)
    data = _plain(_DATA[seed])
    ops: list[str] = []
    for _ in range(rounds):
        data = mutate(data, rnd, ops)
    check_everything_survives(data)


@settings(suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=512))
def test_arbitrary_bytes_never_escape_the_loader(data: bytes) -> None:
    check_everything_survives(data)
