"""Issue 7 items 9-11: untrusted text (file names, span data) never reaches a terminal raw,
in any output; JSON escapes what a terminal would act on; invisible characters show, and
every row is as wide as Rich measures it."""

from __future__ import annotations

import json
import unicodedata

import pytest
from rich.cells import cell_len, get_character_cell_size
from sdk_data import doc_json, sid, span_json
from test_ui_dependencies import PaneApp, pane_of, run_async

from async_trace_tui.cli import main
from async_trace_tui.loading import load
from async_trace_tui.textsafe import MAX_COMBINING, escape_json_text, safe_json_dumps, safe_text
from async_trace_tui.ui.screens import report_text

RAW = [chr(c) for c in (*range(0x20), 0x7F, *range(0x80, 0xA0))]
BIDI = [chr(c) for c in (*range(0x202A, 0x202F), *range(0x2066, 0x206A))]
ZERO_WIDTH = ["\u200b", "\u200d", "\u2060", "\ufeff"]
EMOJI_ZWJ = "\U0001F468\u200d\U0001F469\u200d\U0001F467"  # family: one glyph where joined
COMBINING = "e\u0301\u0302\u0303\u0304\u0305"  # five marks on one letter
NASTY_NAMES = [f"zwj {EMOJI_ZWJ} op", f"marks {COMBINING} op", "zw a\u200bb\u2060c\ufeffd op",
               "\u0301 leading mark", "vs16 \u2764\ufe0f and tone \U0001F44B\U0001F3FD",
               "bidi \u202egnp.exe", "c1 \x9b31m and del \x7f"]


def run_cli(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


# -- 9: file names ---------------------------------------------------------------------------

def test_9_file_names_are_escaped_on_stderr_and_in_the_tui_report(tmp_path, capsys):
    d = tmp_path / "dir"
    d.mkdir()
    evil = d / "bad\x1b]0;PWNED\x07.json"
    evil.write_text("not json at all")
    (d / "also\x9b2J\u202e.json").write_text(json.dumps(doc_json(span_json(sid(1), "ok"))))
    code, out, err = run_cli(capsys, str(d), "--list")
    assert code == 0
    assert not any(c in out + err for c in RAW[:0x0A] + RAW[0x0B:] + BIDI), repr(err)
    assert "bad\\e]0;PWNED\\x07.json: " in err
    _, report = load([str(d)])
    shown = report_text(report).plain
    assert "bad\\e]0;PWNED\\x07.json" in shown and "\x1b" not in shown and "\x9b" not in shown


# -- 10: JSON ---------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def nasty_file(tmp_path_factory) -> str:
    spans = [span_json(sid(1), NASTY_NAMES[0])]
    spans += [span_json(sid(i + 2), name, parent=sid(1)) for i, name in enumerate(NASTY_NAMES[1:])]
    path = tmp_path_factory.mktemp("nasty") / "nasty.json"
    path.write_text(json.dumps(doc_json(*spans, service="svc\x9b\u202e\x7f")))
    return str(path)


@pytest.mark.parametrize("argv", [["--json"], ["--list", "--json"], ["--map", "--json"],
                                  ["--flow", "--json"]])
def test_10_every_json_writer_escapes_controls_and_bidi(nasty_file, argv, capsys):
    code, out, _ = run_cli(capsys, nasty_file, *argv)
    assert code == 0
    assert not any(c in out for c in RAW[:0x0A] + RAW[0x0B:] + BIDI + ZERO_WIDTH), argv
    assert "svc\\u009b\\u202e\\u007f" in out
    json.loads(out)  # still JSON, and the strings decode to what the file held
    assert "svc\x9b\u202e\x7f" in json.dumps(json.loads(out), ensure_ascii=False)


def test_10_safe_json_dumps_round_trips_every_code_point_class():
    text = "".join(RAW + BIDI + ZERO_WIDTH) + "\ud800 \U000e0041 é 日本"
    out = safe_json_dumps({"k": text})
    assert json.loads(out) == {"k": text}
    assert out.isascii() is False and "é 日本" in out  # readable where harmless
    assert not any(c in out for c in RAW + BIDI + ZERO_WIDTH + ["\ud800", "\U000e0041"])
    assert escape_json_text('"\x7f"') == '"\\u007f"'


# -- 11: invisible characters, widths ---------------------------------------------------------

def test_11_print_and_list_show_invisible_characters(nasty_file, capsys):
    for argv in (["--print"], ["--list"]):
        code, out, _ = run_cli(capsys, nasty_file, *argv, "--hide-internal") if argv == ["--print"] \
            else run_cli(capsys, nasty_file, *argv)
        assert code == 0
        assert not any(c in out for c in RAW[:0x0A] + RAW[0x0B:] + BIDI + ZERO_WIDTH), argv
    code, out, _ = run_cli(capsys, nasty_file, "--print")
    assert "a\\u200bb\\u2060c\\ufeffd" in out and "\\U0001f468\\u200d" not in out
    assert "\U0001F468\\u200d\U0001F469" in out  # the emoji stay, the joiner shows


def _terminal_width(text: str) -> int:
    """Width as a terminal that adds up characters sees it (no grapheme joining)."""
    return sum(get_character_cell_size(c) for c in text)


@pytest.mark.parametrize("name", NASTY_NAMES)
def test_11_escaped_text_measures_the_same_whoever_measures_it(name):
    shown = safe_text(name)
    assert cell_len(shown) == _terminal_width(shown)
    for i, c in enumerate(shown):
        if get_character_cell_size(c) == 0:  # only a combining mark on a visible base
            assert unicodedata.category(c)[0] == "M" and i and shown[i - 1] != " "


def test_11_what_is_escaped_and_what_is_kept():
    for c in RAW + BIDI + ZERO_WIDTH + ["\u2028", "\u00ad", "\ufe0f", "\U0001F3FD", "\u3164"]:
        assert c not in safe_text(f"a{c}b"), repr(c)
    assert safe_text("e\u0301") == "e\u0301"  # a mark on a letter is text, not a trick
    kept = safe_text(COMBINING)
    assert kept.startswith("e\u0301\u0302\u0303") and kept.count("\\u") == 5 - MAX_COMBINING
    assert safe_text("日本語 ok") == "日本語 ok"
    assert safe_text("\x1b[2J") == "\\e[2J"
    # every category that must never show raw
    for cp in range(0x110000):
        c = chr(cp)
        if unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp") and cp > 0x7f:
            assert c not in safe_text(c), hex(cp)


@run_async
async def test_11_nasty_rows_keep_the_details_border_in_the_dependencies_tab(nasty_file):
    index, _ = load([nasty_file])
    async with PaneApp(index, 0).run_test(size=(140, 30)) as pilot:
        await pilot.pause()
        pane = pane_of(pilot.app)
        shown = {n for r in range(len(index)) for n in [index.name[r]]}
        tree_text = "\n".join(pane.dep_tree.line_text(i) for i in range(pane.dep_tree.line_count))
        assert all(safe_text(n) in tree_text for n in shown)
        border_x = pane.details_panel.region.x  # its left border (vkey: ▏)
        strips = list(pilot.app.screen._compositor.render_strips())
        rows = range(pane.details_panel.region.y, pane.details_panel.region.bottom)
        for y in rows:
            text = strips[y].text
            assert _terminal_width(text) == cell_len(text) == 140, (y, text)
            col = 0
            for c in text:  # the character at the border's column, as a terminal places it
                if col >= border_x:
                    break
                col += get_character_cell_size(c)
            assert col == border_x and c == "▏", (y, repr(text))
