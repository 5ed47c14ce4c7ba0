"""Issue 7 item 8: megabyte values (a span name, attributes) are cut for display with their
full length shown, folded in linear time, and whole a key away (`v` pages them, `c` copies)."""

from __future__ import annotations

import pytest
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from rich.cells import cell_len
from test_ui_dependencies import PaneApp, pane_of, run_async

from async_trace_tui.loading import load
from async_trace_tui.ui.value_screen import ValueScreen, WholeValues
from async_trace_tui.ui.widgets.details import _fold
from async_trace_tui.views.dependencies import DependencyView, ViewOptions, walk
from async_trace_tui.views.details import VALUE_CHARS, DetailsBuilder

MB = 1 << 20


def big(i: int) -> str:
    """1 MiB that shows where it is cut: words, one long line, a marker at the end."""
    body = (f"value{i} " + "lorem ipsum dolor sit amet " * 40000)[: MB - 8]
    return body + f"  END{i}!!"


@pytest.fixture(scope="module")
def huge(tmp_path_factory):
    """A span with a 1 MiB name and five 1 MiB attribute values, recorded by the SDK."""
    from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans

    exporter = InMemorySpanExporter()
    provider = TracerProvider(resource=Resource({"service.name": "svc"}))
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracer = provider.get_tracer("test")
    with tracer.start_as_current_span("root"):
        with tracer.start_as_current_span("N" * MB, attributes={f"k{i}": big(i) for i in range(5)}):
            pass
    provider.shutdown()
    path = tmp_path_factory.mktemp("huge") / "huge.binpb"
    path.write_bytes(encode_spans(exporter.get_finished_spans()).SerializeToString())
    index, report = load([str(path)])
    assert not report.skipped
    row = next(r for r in range(len(index)) if len(index.name[r]) == MB)
    return index, row


def test_values_are_cut_with_their_length_and_kept_whole(huge):
    index, row = huge
    node = next(n for n, _ in walk(DependencyView(index, row, ViewOptions()).root) if n.rows == [row])
    details = DetailsBuilder(index).build(node)
    assert len(details.title) < 1000
    fields = [f for s in details.sections for f in s.fields]
    cut = {f.label: f for f in fields if f.full is not None}
    assert set(cut) >= {"operation", "k0", "k1", "k2", "k3", "k4"}
    for i in range(5):
        f = cut[f"k{i}"]
        assert len(f.value) <= VALUE_CHARS and f.full == big(i)
        after = fields[fields.index(f) + 1]
        assert after.label == "" and "1,048,576 characters in all" in after.value
    assert all(len(f.value) <= VALUE_CHARS for f in fields)


def test_fold_is_exact_at_any_width():
    line = "word " * 300 + "x" * 250 + " 日本語の長い文字列" * 20 + " tail"
    for width in (1, 7, 40, 81):
        parts = _fold(line, width)
        assert all(cell_len(p) <= width or len(p) == 1 for p in parts), width
        assert "".join(parts).replace(" ", "") == line.replace(" ", "")
    assert _fold("short", 10) == ["short"]


def test_fold_of_a_megabyte_line_is_linear():
    """Cutting 1 MiB into 100-cell lines: 10,486 pieces, each character looked at a bounded
    number of times (the old fold re-measured the rest of the line for every piece)."""
    line = "a" * MB
    parts = _fold(line, 100)
    assert len(parts) == MB // 100 + 1 and parts[0] == "a" * 100
    wide = "日" * (MB // 8)
    assert "".join(_fold(wide, 99)) == wide


@run_async
async def test_v_pages_the_whole_values_and_c_copies_them(huge):
    index, row = huge
    async with PaneApp(index, row).run_test(size=(160, 45)) as pilot:
        await pilot.pause()
        panel = pane_of(pilot.app).details_panel
        shown = panel.text
        assert "1,048,576 characters in all: v shows the whole value" in shown
        assert len(shown) < 80_000 and "END0!!" not in shown
        panel.focus()
        await pilot.press("v")
        await pilot.pause()
        screen = pilot.app.screen
        assert isinstance(screen, ValueScreen)
        whole = screen.query_one(WholeValues).text
        for i in range(5):
            assert f"END{i}!!" in whole and f"value{i} lorem" in whole
        await pilot.press("c")
        assert pilot.app.clipboard.count("lorem ipsum") >= 5 * 38000
        assert "END4!!" in pilot.app.clipboard
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(pilot.app.screen, ValueScreen)
