"""The legend's glyphs and line pieces, in Unicode and in plain ASCII (`--ascii`)."""

from __future__ import annotations


class Glyphs:
    __slots__ = ("shape", "trace", "missing", "more", "cycle", "error", "focus", "async_open",
                 "async_close", "sep", "times", "ellipsis", "micro", "branch", "last", "vertical", "blank", "edge", "legend")

    def __init__(self, **kw: object) -> None:
        for k, v in kw.items():
            setattr(self, k, v)


UNICODE = Glyphs(
    shape={"http": "◆", "pubsub": "⬡", "database": "■", "generic": "●"},
    trace="▣", missing="?", more="…", cycle="↺", error="✗", focus="◀ focus",
    async_open="║", async_close="║", sep=" · ", times="×", ellipsis="…", micro="µs",
    branch="├", last="└", vertical="│ ", blank="  ",
    # What follows the branch character, by edge: solid for sync, dotted for async,
    # the arrow pointing the way the work flowed.
    edge={"sync": "─", "sync-up": "◀─", "async-down": "┄▶", "async-up": "◀┄", "root": ""},
    legend=[
        ("┄▶", "async request (a span link, or a consumed message)"),
        ("─", "sync request (parent → child)"),
        ("║ ║", "async trace (reached across a link)"),
        ("▶ ◀", "direction of the flow: ▶ caused by this node, ◀ led to it"),
        ("▣", "trace (its root spans)"),
        ("◆", "HTTP"), ("⬡", "pub/sub"), ("■", "database"),
        ("●", "generic (or merged spans of different shapes)"),
        ("?", "span not loaded"), ("✗", "error"), ("↺", "cycle (already on the path)"),
        ("…", "more async calls, expand to list them"),
        ("lag", "async wait: the effect's start minus its cause's end"),
        ("overlap", "a negative lag: the effect started before its cause ended (a link to "
                    "a span still running, or clocks that differ)"),
    ],
)

ASCII = Glyphs(
    shape={"http": "<>", "pubsub": "{}", "database": "[]", "generic": "()"},
    trace="##", missing="??", more="...", cycle="@", error="!", focus="<= focus",
    async_open="||", async_close="||", sep=" - ", times="x", ellipsis="..", micro="us",
    branch="|", last="`", vertical="| ", blank="  ",
    edge={"sync": "-", "sync-up": "<-", "async-down": ".>", "async-up": "<.", "root": ""},
    legend=[
        (".>", "async request (a span link, or a consumed message)"),
        ("-", "sync request (parent -> child)"),
        ("|| ||", "async trace (reached across a link)"),
        ("> <", "direction of the flow: > caused by this node, < led to it"),
        ("##", "trace (its root spans)"),
        ("<>", "HTTP"), ("{}", "pub/sub"), ("[]", "database"),
        ("()", "generic (or merged spans of different shapes)"),
        ("??", "span not loaded"), ("!", "error"), ("@", "cycle (already on the path)"),
        ("...", "more async calls, expand to list them"),
        ("lag", "async wait: the effect's start minus its cause's end"),
        ("overlap", "a negative lag: the effect started before its cause ended (a link to "
                    "a span still running, or clocks that differ)"),
    ],
)


def glyphs(ascii_only: bool = False) -> Glyphs:
    return ASCII if ascii_only else UNICODE
