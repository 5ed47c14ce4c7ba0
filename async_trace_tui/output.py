"""Where headless text goes: glyphs only where they can be shown (SPEC §5).

A stream whose encoding cannot hold the glyphs (`PYTHONIOENCODING=ascii`, a Latin-1 locale)
gets the `--ascii` set, and text from the data that it still cannot encode is written as
backslash escapes rather than ending in a UnicodeEncodeError. Under `LANG=C` Python writes
UTF-8 anyway (PEP 538/540: it coerces a C locale), but the terminal was told to expect
ASCII, so that falls back too. JSON is written as UTF-8 bytes whatever the stream says.
"""

from __future__ import annotations

import io
import os
import sys
from typing import TextIO

from .views.glyphs import UNICODE


def _glyph_text() -> str:
    g = UNICODE
    pieces = [*g.shape.values(), *g.edge.values(), g.trace, g.more, g.cycle, g.error, g.focus,
              g.async_open, g.async_close, g.sep, g.times, g.ellipsis, g.micro, g.branch,
              g.last, g.vertical, *(key for key, _ in g.legend)]
    return "".join(pieces)


def _encodes(stream: TextIO, text: str) -> bool:
    encoding = getattr(stream, "encoding", None)
    if not encoding:
        return True  # a str sink (io.StringIO): no bytes, nothing to fail
    try:
        text.encode(encoding)
    except (UnicodeEncodeError, LookupError):
        return False
    return True


def locale_is_ascii() -> bool:
    """LC_ALL/LANG say C or POSIX (Python has switched itself to UTF-8 under them)."""
    if not sys.flags.utf8_mode or "PYTHONUTF8" in os.environ or "utf8" in sys._xoptions:
        return False  # the stream's encoding follows the locale: _encodes tells
    return any(os.environ.get(v) in ("C", "POSIX") for v in ("LC_ALL", "LC_CTYPE", "LANG"))


def fit_for_text(stream: TextIO) -> bool:
    """Ready stdout for text (before anything is written: --help too); True when the glyphs
    would fail on (or be garbled by) it, so that `--ascii` applies. What it cannot encode is
    escaped; under a C locale it is made ASCII, as the terminal expects. (The TUI draws on
    stderr, so this never touches it.)"""
    if locale_is_ascii():
        if isinstance(stream, io.TextIOWrapper):
            stream.reconfigure(encoding="ascii", errors="backslashreplace")
        return True
    if _encodes(stream, _glyph_text()):
        return False
    if isinstance(stream, io.TextIOWrapper):
        stream.reconfigure(errors="backslashreplace")
    return True
