"""Bad credentials against a ClickHouse server: one line for the user, never the password.

chDB has no users, so the server here is a small HTTP server on 127.0.0.1 that answers
every request as ClickHouse's HTTP interface answers a wrong password: `403 Forbidden`,
`X-ClickHouse-Exception-Code: 516` and the `Code: 516. DB::Exception: ...
(AUTHENTICATION_FAILED)` text (as in ClickHouse/ClickHouse#72999 and #59549). The client is
the real one (clickhouse-connect, as `clickhouse://` uses it): the test checks it sent the
user and password it was given, so what is tested is the message path from a real client
meeting the protocol's answer, not a stand-in for the client.
"""

from __future__ import annotations

import asyncio
import base64
import http.server
import threading

import pytest

from async_trace_tui.cli import main
from async_trace_tui.sources import open_source
from async_trace_tui.ui.app import create_app

pytest.importorskip("clickhouse_connect")

DENIED = (b"Code: 516. DB::Exception: alice: Authentication failed: password is incorrect, or "
          b"there is no user with such name. (AUTHENTICATION_FAILED) "
          b"(version 24.10.3.21 (official build))\n")


@pytest.fixture
def server():
    """(port, requests seen): every request is refused as a wrong password."""
    seen: list[dict[str, str]] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def _deny(self) -> None:
            seen.append(dict(self.headers))
            length = int(self.headers.get("Content-Length") or 0)
            if length:
                self.rfile.read(length)
            self.send_response(403)
            self.send_header("Content-Type", "text/plain; charset=UTF-8")
            self.send_header("X-ClickHouse-Exception-Code", "516")
            self.send_header("Content-Length", str(len(DENIED)))
            self.end_headers()
            self.wfile.write(DENIED)

        do_GET = do_POST = _deny

        def log_message(self, *args) -> None:
            pass

    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    try:
        yield srv.server_address[1], seen
    finally:
        srv.shutdown()
        srv.server_close()


def test_a_wrong_password_is_one_line_without_the_password(capsys, server, monkeypatch):
    port, seen = server
    monkeypatch.delenv("CLICKHOUSE_PASSWORD", raising=False)
    for argv in (["--list"], ["--json"], ["--map", "--json"]):
        code = main([f"clickhouse://alice:s3cret-pw@127.0.0.1:{port}/otel", *argv])
        out, err = capsys.readouterr()
        assert code == 1 and out == ""
        assert err.splitlines() == [
            f"trace-tui: cannot connect to ClickHouse at 127.0.0.1:{port}: authentication "
            f"failed (user or password; CLICKHOUSE_PASSWORD)"]
        assert "s3cret" not in err
    # The real client asked with what it was given (HTTP basic auth).
    assert seen and all(h.get("Authorization") == "Basic " + base64.b64encode(
        b"alice:s3cret-pw").decode() for h in seen)
    # The password from the environment goes the same way.
    monkeypatch.setenv("CLICKHOUSE_PASSWORD", "from-env")
    seen.clear()
    assert main([f"clickhouse://bob@127.0.0.1:{port}", "--list"]) == 1
    assert "authentication failed" in capsys.readouterr().err
    assert seen[-1]["Authorization"] == "Basic " + base64.b64encode(b"bob:from-env").decode()


def test_the_tui_closes_with_the_same_line(server):
    port, _ = server

    async def go() -> list[str]:
        source = open_source([f"clickhouse://alice:nope@127.0.0.1:{port}"])
        app = create_app([f"clickhouse://127.0.0.1:{port}"], source=source)
        async with app.run_test(size=(100, 30)) as pilot:
            for _ in range(400):
                if app.nothing_loaded:
                    break
                await pilot.pause(0.05)
        assert app.nothing_loaded and app.return_code == 1
        return app.report.messages

    assert asyncio.run(go()) == [
        f"trace-tui: cannot connect to ClickHouse at 127.0.0.1:{port}: authentication failed "
        f"(user or password; CLICKHOUSE_PASSWORD)"]
