"""Untrusted text made safe to show: the one place that decides, for every renderer.

Span data and file names come from files nobody vetted. Written raw, an ESC or a C1 CSI
drives the terminal (sets its title, moves the cursor), a bidi override reorders what a line
seems to say, and an invisible, joining or modifying character makes the terminal's idea of
a row's width differ from Rich's, so every column after it (a panel's border) shifts.

- `safe_text(value)`: text for a terminal (the TUI, `--print`, `--list`, the load report).
  Shown as visible escapes (`\\e`, `\\n`, `\\x9b`, `\\u200d`): C0, DEL, C1, every format
  character (bidi controls, zero-width space/joiner/non-joiner, word joiner, BOM, soft
  hyphen, tags), line and paragraph separators, lone surrogates, unassigned code points,
  variation selectors, emoji skin-tone modifiers and the invisible Hangul fillers.
  A combining mark stays when it follows a visible character, at most
  `MAX_COMBINING` in a row; otherwise it is escaped too. What remains is as wide in a
  terminal as Rich measures it.
- `safe_json_dumps(obj, **kw)`: JSON text for any JSON writer (`--json`, `--list --json`, and
  every writer added later: call this, or `escape_json_text` on text encoded piece by piece).
  Non-ASCII stays readable UTF-8, but C0, DEL, C1, format characters (bidi overrides
  U+202A-U+202E and U+2066-U+2069 among them), line separators and lone surrogates are
  written as `\\uXXXX`: the decoded strings are the same, and no control byte reaches a
  terminal that shows the JSON.

Rich markup is no concern here: callers put the text into `rich.text.Text`, which never
parses markup.
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from typing import Any
from unicodedata import category

__all__ = ["safe_text", "safe_json_dumps", "escape_json_text", "MAX_COMBINING"]

MAX_COMBINING = 3  # combining marks kept on one base character (Zalgo text has dozens)

_ASCII_CONTROL = re.compile("[\x00-\x1f\x7f]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t", "\x1b": "\\e"}
# Categories never shown raw: controls, format characters, surrogates, unassigned,
# line/paragraph separators.
_ESCAPED_CATEGORIES = frozenset(("Cc", "Cf", "Cs", "Cn", "Zl", "Zp"))
# Not format characters, yet invisible or width-changing in context: variation selectors
# (VS16 widens the character before it in some terminals, not in others), emoji skin-tone
# modifiers (merged into the emoji before them by some terminals), Hangul fillers (blank,
# and measured 0 or 2 cells depending on who measures), Khmer inherent vowels.
_ALWAYS_ESCAPED = frozenset(
    [0x115F, 0x1160, 0x3164, 0xFFA0, 0x17B4, 0x17B5, 0x034F]
    + list(range(0xFE00, 0xFE10))
    + list(range(0xE0100, 0xE01F0))
    + list(range(0x1F3FB, 0x1F400))
)


def _escape(c: str) -> str:
    named = _NAMED.get(c)
    if named is not None:
        return named
    o = ord(c)
    if o < 0x100:
        return f"\\x{o:02x}"
    if o < 0x10000:
        return f"\\u{o:04x}"
    return f"\\U{o:08x}"


def _escape_match(m: re.Match[str]) -> str:
    return _escape(m.group())


def safe_text(value: object) -> str:
    """Text from span data (or a file name) with everything that could drive the terminal
    or hide itself shown as a visible escape; see the module docstring."""
    text = value if isinstance(value, str) else str(value)
    if text.isascii():
        if _ASCII_CONTROL.search(text) is None:
            return text
        return _ASCII_CONTROL.sub(_escape_match, text)
    if len(text) <= 256:
        return _safe_short(text)  # names and labels repeat: each is worked out once
    return _safe(text)


@lru_cache(maxsize=8192)
def _safe_short(text: str) -> str:
    return _safe(text)


def _safe(text: str) -> str:
    out: list[str] = []
    add = out.append
    base = False  # the last character kept is a visible one a combining mark can sit on
    marks = 0
    changed = False
    for c in text:
        o = ord(c)
        if o < 0x80:
            if o < 0x20 or o == 0x7F:
                add(_escape(c))
                changed, base = True, False
            else:
                add(c)
                base, marks = o != 0x20, 0
            continue
        cat = category(c)
        if cat in _ESCAPED_CATEGORIES or o in _ALWAYS_ESCAPED:
            add(_escape(c))
            changed, base = True, False
        elif cat[0] == "M":  # Mn, Mc, Me: combining
            if base and marks < MAX_COMBINING:
                add(c)
                marks += 1
            else:
                add(_escape(c))
                changed, base = True, False
        else:
            add(c)
            base, marks = cat != "Zs", 0
    return "".join(out) if changed else text


# For JSON: what a terminal showing the JSON must not get raw (json.dumps already escapes C0).
_JSON_UNSAFE = re.compile(
    "[\x7f-\x9f\u00ad\u0600-\u0605\u061c\u06dd\u070f\u180e\u200b-\u200f\u2028-\u202e"
    "\u2060-\u206f\ufe00-\ufe0f\ufeff\ufff9-\ufffb\ud800-\udfff"
    "\U000e0000-\U000e007f\U000e0100-\U000e01ef]"
)


def _json_escape_match(m: re.Match[str]) -> str:
    o = ord(m.group())
    if o < 0x10000:
        return f"\\u{o:04x}"
    o -= 0x10000  # JSON spells a code point past the BMP as its UTF-16 surrogate pair
    return f"\\u{0xD800 + (o >> 10):04x}\\u{0xDC00 + (o & 0x3FF):04x}"


def escape_json_text(text: str) -> str:
    """JSON text with C0/DEL/C1, format characters (bidi, zero-width), line separators
    and lone surrogates as `\\uXXXX` escapes. Only for text that is already JSON: such
    characters can only stand inside its strings, where the escape means the same."""
    if text.isascii():
        # json.dumps escapes C0 but not DEL
        return text.replace("\x7f", "\\u007f") if "\x7f" in text else text
    if _JSON_UNSAFE.search(text) is None:
        return text
    return _JSON_UNSAFE.sub(_json_escape_match, text)


def safe_json_dumps(obj: Any, **kwargs: Any) -> str:
    """`json.dumps` for every JSON writer: UTF-8 kept readable (unless ensure_ascii=True is
    passed), nothing unsafe for a terminal left raw (see `escape_json_text`)."""
    kwargs.setdefault("ensure_ascii", False)
    return escape_json_text(json.dumps(obj, **kwargs))
