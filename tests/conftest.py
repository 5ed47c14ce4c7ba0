"""Shared fixtures. Keep this generic: data builders live in sdk_data.py."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parent.parent
# A verbatim copy of ../shared/corpus (see tests/data/README.md): the suite runs in any clone.
DATA = REPO / "tests" / "data"
CORPUS = DATA / "corpus"


@pytest.fixture
def write(tmp_path: Path) -> Callable[..., str]:
    """write(name, data) -> path: bytes as they are, str as UTF-8, anything else as JSON.
    `name` may contain sub-directories."""

    def _write(name: str, data: Any) -> str:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(data, str):
            data = data.encode()
        elif not isinstance(data, bytes | bytearray):
            data = json.dumps(data).encode()
        path.write_bytes(data)
        return str(path)

    return _write


@pytest.fixture(scope="session")
def corpus() -> Path:
    """tests/data/corpus, read in place (never modified)."""
    return CORPUS


@pytest.fixture(scope="session")
def sdk_request() -> Any:
    """The SDK-recorded scenario of sdk_data.build_spans(), as an ExportTraceServiceRequest.
    Session-scoped: do not mutate it (copy it with CopyFrom first)."""
    import sdk_data

    return sdk_data.build_request()


# Hypothesis profiles (tests/test_fuzz_loading.py): `ci` by default, a few hundred examples;
# `--hypothesis-profile=long` or HYPOTHESIS_PROFILE=long for a long local hunt. `ci` draws the
# same examples every run, so a red CI always means a change broke something (a random draw
# once failed one run in three on a bug of the test's own mutator); `long` draws anew each run.
try:
    import os as _os

    from hypothesis import settings as _settings

    _settings.register_profile("ci", max_examples=250, deadline=None, database=None,
                               derandomize=True, print_blob=True)
    _settings.register_profile("long", max_examples=20_000, deadline=None, print_blob=True)
    _settings.load_profile(_os.environ.get("HYPOTHESIS_PROFILE", "ci"))
except ImportError:  # hypothesis is a test dependency; without it only the fuzz test fails
    pass
