"""Labels cut to fit (SPEC §3): with an ellipsis, names first, never inside a number and its
unit, at any width."""

from __future__ import annotations

import re

import pytest
from rich.cells import cell_len

from async_trace_tui.loading import default_sample, load
from async_trace_tui.views.dependencies import DependencyView, ViewOptions, walk
from async_trace_tui.views.glyphs import ASCII, UNICODE
from async_trace_tui.views.labels import fit_parts, label_parts, plain


@pytest.fixture(scope="module")
def labels():
    """(parts, names) of every label of the sample's views, expanded in full."""
    index, _ = load([str(default_sample())])
    out = []
    for focus in sorted({s.root for s in index.traces}):
        for options in (ViewOptions(), ViewOptions(group_by="none", async_cap=0)):
            for node, _ in walk(DependencyView(index, focus, options).root):
                for g in (UNICODE, ASCII):
                    names: list[int] = []
                    out.append((label_parts(node, g, names=names), names, g))
    assert len(out) > 200
    return out


NUMBER = re.compile(r"\d")


def test_fitted_labels_keep_every_number_whole_at_every_width(labels):
    for parts, names, g in labels:
        full = plain(parts)
        for width in range(cell_len(full) + 2):
            fitted = fit_parts(parts, names, width, g.ellipsis)
            text = plain(fitted)
            assert cell_len(text) <= width, (full, width, text)
            if cell_len(full) <= width:
                assert fitted == parts
                continue
            if width < cell_len(g.ellipsis):
                assert g.ellipsis.startswith(text)
                continue
            assert g.ellipsis in text, (full, width, text)  # cut, and says so
            for k, (piece, _style) in enumerate(fitted):
                if k < len(parts) and piece == parts[k][0]:
                    continue  # whole
                if k in names and piece.endswith(g.ellipsis) and k < len(parts):
                    continue  # a name, shortened
                # else the one ellipsis that ends a line cut short, and nothing after it
                assert piece == g.ellipsis and k == len(fitted) - 1, (full, width, fitted)
            # no piece holding a number (a duration, a count, a lag) was cut inside
            kept = {p for p, _ in fitted}
            for k, (piece, _) in enumerate(parts):
                if k not in names and NUMBER.search(piece) and piece not in kept:
                    assert k >= len(fitted) - 1, (full, width, text)


def test_names_give_way_before_numbers(labels):
    """Cut to the width of a small terminal's tree, a label keeps its duration and drops
    letters of its names first."""
    parts = [("◆ ", "glyph"), ("payments-worker", "service"), (" · ", ""),
             ("orders process", "operation"), ("  avg 6.3 ms", ""), ("  ×5", ""),
             ("  lag avg 3.7 ms", "")]
    names = [1, 3]
    assert plain(fit_parts(parts, names, 45)) == "◆ pay… · ord…  avg 6.3 ms  ×5  lag avg 3.7 ms"
    assert plain(fit_parts(parts, names, 60)) == (
        "◆ payments-w… · orders proc…  avg 6.3 ms  ×5  lag avg 3.7 ms")
    assert plain(fit_parts(parts, names, 30)) == "◆ pay… · ord…  avg 6.3 ms  ×5…"
    # Too narrow for the numbers: they go, and the names have the room they leave (not
    # `◆ pay… · ord…` and seven blank cells).
    assert plain(fit_parts(parts, names, 20)) == "◆ paymen… · orders…"
    assert plain(fit_parts(parts, names, 1)) == "…"
    assert plain(fit_parts(parts, names, 0)) == ""


def test_a_piece_left_off_gives_its_room_to_the_names():
    """The sample's converging consumers in a 100-column terminal's tree: the lag does not
    fit, and the names take the room it leaves instead of being cut to four cells each
    (`⬡ 2 s… · ord…  avg 326.6 ms  ×2…` and ten blank cells)."""
    parts = [("⬡ ", "glyph"), ("2 services", "service"), (" · ", ""),
             ("orders process", "operation"), ("  avg 326.6 ms", ""), ("  ×2", ""),
             ("  lag avg 3.18 s", "")]
    assert plain(fit_parts(parts, [1, 3], 44)) == "⬡ 2 services · orders pr…  avg 326.6 ms  ×2…"
    # Where every number fits with four cells a name, the numbers stay (SPEC §3).
    assert plain(fit_parts(parts, [1, 3], 48)) == "⬡ 2 se… · ord…  avg 326.6 ms  ×2  lag avg 3.18 s"


@pytest.mark.parametrize("total, cells, expected", [
    (634_200_000, 60, ["0", "200 ms", "400 ms", "600 ms"]),
    (1_600_000, 60, ["0", "0.5 ms", "1 ms", "1.5 ms"]),
    (12_400, 40, ["0", "5 µs", "10 µs"]),
    (300_000_000_000, 70, ["0", "1 min", "2 min", "3 min", "4 min", "5 min"]),
    (3_680_000_000, 50, ["0", "1 s", "2 s", "3 s"]),
    (97, 30, ["0", "50 ns"]),
])
def test_time_axis_ticks_are_round_in_one_unit(total, cells, expected):
    from async_trace_tui.views.format import axis_ticks

    ticks = axis_ticks(total, cells)
    assert [text for _, text in ticks] == expected
    positions = [pos for pos, _ in ticks]
    assert positions[0] == 0 and positions == sorted(positions) and positions[-1] <= cells
    assert all(b - a >= 9 for a, b in zip(positions, positions[1:]))
