"""Headless output to a stream that cannot show the glyphs (SPEC §5): `PYTHONIOENCODING=ascii`
or `LANG=C` fall back to `--ascii`, and data it cannot encode is escaped, never a traceback."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from sdk_data import TRACE_A, doc_json, link_json, sid, span_json

NAME = "café 中文 \u202eevil"


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    path = tmp_path_factory.mktemp("enc") / "t.json"
    root = span_json(sid(1), NAME, TRACE_A)
    child = span_json(sid(2), "commit", TRACE_A, parent=sid(1), kind=5,
                      links=[link_json("ab" * 16, "cd" * 8)])
    path.write_text(json.dumps(doc_json(root, child, service="sérvice")))
    return str(path)


def run(env_changes: dict[str, str | None], *argv: str) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    for k, v in env_changes.items():
        if v is None:
            env.pop(k, None)
        else:
            env[k] = v
    return subprocess.run([sys.executable, "-m", "async_trace_tui", *argv], env=env,
                          capture_output=True, timeout=60)


ASCII_STREAM = {"PYTHONIOENCODING": "ascii"}
C_LOCALE = {"LANG": "C", "LC_ALL": None, "LC_CTYPE": None, "PYTHONUTF8": None,
            "PYTHONIOENCODING": None}


@pytest.mark.parametrize("env", [ASCII_STREAM, C_LOCALE], ids=["PYTHONIOENCODING=ascii", "LANG=C"])
@pytest.mark.parametrize("argv", [["--print"], ["--list"], ["--print", "--span", sid(2)],
                                  ["--map"], ["--flow"], ["--help"], ["--no-such-option"]])
def test_text_output_falls_back_to_ascii(data, env, argv):
    p = run(env, data, *argv)
    assert b"Traceback" not in p.stderr and b"UnicodeEncodeError" not in p.stderr
    assert p.returncode == (2 if argv == ["--no-such-option"] else 0), p.stderr
    p.stdout.decode("ascii")  # every byte is ASCII: glyphs and data alike
    assert b"\\u25" not in p.stdout and b"\\u2192" not in p.stdout  # ASCII glyphs, not escapes
    if argv[0] == "--print":
        assert b"<= focus" in p.stdout
        assert "◀".encode() not in p.stdout
    if argv[0] in ("--print", "--list"):
        assert b"caf\\xe9 \\u4e2d\\u6587" in p.stdout  # escaped, not lost


@pytest.mark.parametrize("env", [ASCII_STREAM, C_LOCALE], ids=["PYTHONIOENCODING=ascii", "LANG=C"])
@pytest.mark.parametrize("argv", [["--json"], ["--list", "--json"]])
def test_json_output_stays_utf8_json(data, env, argv):
    """JSON is UTF-8 whatever the stream claims: the data comes back intact."""
    p = run(env, data, *argv)
    assert p.returncode == 0 and b"Traceback" not in p.stderr, p.stderr
    doc = json.loads(p.stdout)
    names = ([doc["root"]["children"][0]["operation"]] if argv == ["--json"]
             else [r["root_operation"] for r in doc])
    assert names == [NAME]
    if argv == ["--list", "--json"]:
        assert "\u202e".encode() not in p.stdout  # the bidi override stays escaped


def test_utf8_stream_keeps_the_glyphs(data):
    p = run({"PYTHONIOENCODING": "utf-8", "LANG": "C.UTF-8", "LC_ALL": None}, data, "--print")
    assert p.returncode == 0
    assert "◀ focus" in p.stdout.decode() and NAME.replace("\u202e", "\\u202e") in p.stdout.decode()


def test_version_names_the_installed_release():
    from importlib.metadata import version

    p = run({}, "--version")
    assert p.returncode == 0, p.stderr
    assert p.stdout.decode().strip() == f"trace-tui {version('async-trace-tui')}"
