"""The data code knows nothing of the UI: only async_trace_tui/ui/ may import Textual, and
the loader knows nothing of the views (data flows files -> loader -> index -> views -> ui)."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "async_trace_tui"


def imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            names.add(("." * node.level) + (node.module or ""))
    return names


def test_only_the_ui_imports_textual():
    offenders = [
        str(p.relative_to(PACKAGE)) for p in PACKAGE.rglob("*.py")
        if "ui" not in p.relative_to(PACKAGE).parts[:1]
        and any(n == "textual" or n.startswith("textual.") for n in imports(p))
    ]
    assert offenders == []


def test_loading_and_index_do_not_import_views_or_ui():
    for p in [PACKAGE / "index.py", PACKAGE / "model.py", *(PACKAGE / "loading").glob("*.py")]:
        bad = [n for n in imports(p) if "views" in n or n.lstrip(".").startswith("ui")]
        assert bad == [], (p, bad)
