"""The real `trace-tui` console script in a real terminal (tmux): keys in, screen text out.

Runs on its own tmux server (-L) so it never touches the user's sessions; skipped when
tmux is not installed.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

TMUX = shutil.which("tmux")
SCRIPT = Path(sys.executable).parent / "trace-tui"

pytestmark = pytest.mark.skipif(TMUX is None, reason="tmux is not installed")


def terminal_env() -> dict[str, str]:
    """The environment without COLUMNS and LINES (set under pytest, and by tests before
    this one): they would win over the terminal's real size, and the app would draw 80x24
    in a window of another size."""
    return {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}


class Terminal:
    def __init__(self, tmp_path: Path, args: list[str], width: int = 160, height: int = 50) -> None:
        self.socket = f"trace-tui-test-{os.getpid()}-{time.monotonic_ns()}"
        self.status = tmp_path / "exit-status"
        command = " ".join(shlex.quote(a) for a in [str(SCRIPT), *args])
        # The shell stays after trace-tui exits, so what it printed can be read.
        shell = f"{command}; echo $? > {shlex.quote(str(self.status))}; sleep 60"
        self.tmux("new-session", "-d", "-s", "t", "-x", str(width), "-y", str(height),
                  "sh", "-c", shell)

    def tmux(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return subprocess.run([TMUX, "-L", self.socket, *args], capture_output=True, text=True,
                              check=check, timeout=20, env=terminal_env())

    def screen(self) -> str:
        return self.tmux("capture-pane", "-p", "-t", "t").stdout

    def keys(self, *keys: str) -> None:
        self.tmux("send-keys", "-t", "t", *keys)

    def wait_for(self, text: str, timeout: float = 30.0) -> str:
        deadline = time.monotonic() + timeout
        screen = ""
        while time.monotonic() < deadline:
            screen = self.screen()
            if text in screen:
                return screen
            time.sleep(0.1)
        raise AssertionError(f"{text!r} never showed; the screen was:\n{screen}")

    def wait_gone(self, text: str, timeout: float = 30.0) -> str:
        deadline = time.monotonic() + timeout
        screen = self.screen()
        while text in screen and time.monotonic() < deadline:
            time.sleep(0.1)
            screen = self.screen()
        assert text not in screen, f"{text!r} stayed; the screen was:\n{screen}"
        return screen

    def exit_status(self, timeout: float) -> str | None:
        """trace-tui's exit status once it has exited, None if it still runs."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.status.exists() and self.status.read_text().strip():
                return self.status.read_text().strip()
            time.sleep(0.1)
        return None

    def close(self) -> None:
        self.tmux("kill-server", check=False)


@pytest.fixture
def terminal(tmp_path):
    made: list[Terminal] = []

    def start(*args: str) -> Terminal:
        term = Terminal(tmp_path, list(args))
        made.append(term)
        return term

    yield start
    for term in made:
        term.close()


def test_trace_tui_in_a_real_terminal(terminal):
    assert SCRIPT.exists(), f"no console script at {SCRIPT}"
    term = terminal()  # no file: the bundled sample
    # The table's rows and its status line are painted in separate frames: wait for both.
    term.wait_for("payments-worker")
    screen = term.wait_for("7 traces")
    assert "root service" in screen and "payments-worker" in screen
    assert "\x1b" not in screen

    # filter to the batch consumer, back to the table, open its dependencies; the footer
    # lists the table's keys only while the table has the focus
    table_keys = "S Reverse sort"
    term.wait_for(table_keys)
    term.keys("/")
    term.wait_gone(table_keys)
    term.keys("payments")
    term.wait_for("1 match for 'payments'")
    term.keys("Enter")
    term.wait_for(table_keys)
    term.keys("Enter")
    screen = term.wait_for("Dependencies")
    term.wait_for("payments-worker · orders process")
    term.wait_for("Group by")  # the controls may paint a frame after the tree

    # its trace as a waterfall tab, then closed again
    term.keys("o")
    term.wait_for("waterfall: 060b…4be9")
    term.keys("w")
    term.wait_gone("waterfall:", timeout=10)

    term.keys("q")
    assert term.exit_status(15) == "0", "trace-tui did not exit (status 0) on q"


def test_nothing_loaded_exits_1_with_the_report(terminal, tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text('{"hello": "world"}')
    term = terminal(str(bad))
    assert term.exit_status(20) == "1"
    # the UI closed itself; the load report is on the terminal as the CLI prints it
    screen = term.wait_for("nothing could be loaded")
    assert "no resourceSpans" in screen and "bad.json" in screen
