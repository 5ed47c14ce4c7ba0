"""A plain, non-editable `pip install .` into a fresh venv, then `trace-tui` with no file:
the bundled sample is package data, found without the source tree (issue 8 item 2).

Builds a wheel from a copy of the sources (so no build/ or egg-info lands in the checkout)
and installs it `--no-deps` into a fresh venv whose dependencies come from this test's venv
(a `.pth` line adds its site-packages to the path; its own `.pth` files, the editable
install's among them, are not run from there), so the package runs only from the wheel.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SAMPLE = REPO / "async_trace_tui" / "sample"


def pip(*args: str, cwd: Path) -> None:
    p = subprocess.run([sys.executable, "-m", "pip", "-q", "--disable-pip-version-check", *args],
                       capture_output=True, text=True, cwd=cwd, timeout=240)
    assert p.returncode == 0, p.stdout + p.stderr


@pytest.mark.install
def test_non_editable_install_opens_the_bundled_sample(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(REPO / name, src / name)
    shutil.copytree(REPO / "async_trace_tui", src / "async_trace_tui",
                    ignore=shutil.ignore_patterns("__pycache__"))
    pip("wheel", "--no-deps", "-w", str(tmp_path / "wheels"), str(src), cwd=tmp_path)
    [wheel] = (tmp_path / "wheels").glob("async_trace_tui-*.whl")
    shutil.rmtree(src)  # nothing of the sources is left to fall back on

    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True,
                   timeout=120)
    python = venv / "bin" / "python"
    pip("--python", str(python), "install", "--no-deps", "--no-index", str(wheel), cwd=tmp_path)
    site = subprocess.run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          capture_output=True, text=True, check=True, timeout=60).stdout.strip()
    (Path(site) / "deps-from-the-test-venv.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")

    where = subprocess.run([python, "-c", "import async_trace_tui; print(async_trace_tui.__file__)"],
                           capture_output=True, text=True, cwd=tmp_path, timeout=60)
    assert Path(where.stdout.strip()).is_relative_to(venv), where.stdout  # the installed copy

    p = subprocess.run([venv / "bin" / "trace-tui", "--list", "--json"], capture_output=True,
                       text=True, cwd=tmp_path, timeout=60)
    assert p.returncode == 0, p.stderr
    assert p.stderr.splitlines() == ["loaded 49 spans in 7 traces from 1 of 1 file"]
    assert len(json.loads(p.stdout)) == 7


def test_shipped_sample_is_what_the_generator_writes(tmp_path):
    """sample_data/generate.py (the real SDK) writes the package's sample: one copy, no drift."""
    p = subprocess.run([sys.executable, str(REPO / "sample_data" / "generate.py"),
                        "--out", str(tmp_path)], capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    for name in ("checkout-async.otlp.json", "checkout-async.binpb", "checkout-async.jaeger.json",
                 "checkout-async.zipkin.json"):
        assert (tmp_path / name).read_bytes() == (SAMPLE / name).read_bytes(), name
    assert not list((REPO / "sample_data").glob("checkout-async.*"))  # no second copy
