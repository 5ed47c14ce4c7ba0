"""Decompression bombs against `trace-tui --list`: wall time and peak RSS of each run.

    python benchmarks/bombs.py                 # the issue's bombs: GBs inflated from KBs
    python benchmarks/bombs.py --small         # what CI runs: bombs just past the run limit

Each bomb is built here (cached in --cache; nothing big is committed):
  gzip2-zeros  a double gzip of 6 GiB of zeros (~10 KB)
  zstd-newlines  zstd of 3 GiB of newlines (~98 KB)
  gzip-zeros   one gzip layer of 4 GiB of zeros (~4 MB)
  zstd-json-spaces  zstd of `{"resourceSpans":[` and 5 GiB of spaces

Each runs in a fresh process (`trace-tui BOMB --list`) with the default --max-bytes; the
floor is the same command on the bundled sample, in the same run. Bar: every bomb ends in
under 10 s with peak RSS under 1 GB, with a one-line message naming the file.
"""

from __future__ import annotations

import argparse
import gzip
import os
import subprocess
import sys
import tempfile
import time

import zstandard

HERE = os.path.dirname(os.path.abspath(__file__))
CHUNK = 1 << 24


def _feed(write, fill: bytes, size: int) -> None:
    block = fill * CHUNK
    for _ in range(size // CHUNK):
        write(block)


def build(kind: str, size: int, path: str) -> None:
    tmp = path + ".part"
    with open(tmp, "wb") as out:
        if kind == "gzip2-zeros":
            inner = tempfile.TemporaryFile()
            with gzip.GzipFile(fileobj=inner, mode="wb", compresslevel=9) as g:
                _feed(g.write, b"\0", size)
            inner.seek(0)
            with gzip.GzipFile(fileobj=out, mode="wb", compresslevel=9) as g:
                g.write(inner.read())
        elif kind == "gzip-zeros":
            with gzip.GzipFile(fileobj=out, mode="wb", compresslevel=9) as g:
                _feed(g.write, b"\0", size)
        else:
            with zstandard.ZstdCompressor(level=19).stream_writer(out, closefd=False) as w:
                if kind == "zstd-json-spaces":
                    w.write(b'{"resourceSpans":[')
                _feed(w.write, b"\n" if kind == "zstd-newlines" else b" ", size)
    os.replace(tmp, path)


def run(argv: list[str]) -> tuple[float, float, int, int, str]:
    """Wall and CPU seconds, peak RSS (bytes), exit status and the report's last line about
    the file, of one run in a fresh process."""
    t0 = time.perf_counter()
    with tempfile.TemporaryFile() as err:
        p = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=err)
        _, status, ru = os.wait4(p.pid, 0)
        wall = time.perf_counter() - t0
        err.seek(0)
        lines = err.read().decode("utf-8", "replace").strip().splitlines()
    last = lines[-2] if len(lines) >= 2 else ""
    return (wall, ru.ru_utime + ru.ru_stime, ru.ru_maxrss * 1024, os.waitstatus_to_exitcode(status),
            last)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--small", action="store_true", help="bombs just past the 64 MiB run limit")
    ap.add_argument("--cache", default=os.path.join(tempfile.gettempdir(), "trace-tui-bombs"))
    a = ap.parse_args()
    gib = 1 << 30
    small = 80 << 20
    specs = [("gzip2-zeros", 6 * gib), ("zstd-newlines", 3 * gib), ("gzip-zeros", 4 * gib),
             ("zstd-json-spaces", 5 * gib)]
    os.makedirs(a.cache, exist_ok=True)
    tt = [sys.executable, "-m", "async_trace_tui"]
    sample = os.path.join(os.path.dirname(HERE), "async_trace_tui", "sample", "checkout-async.otlp.json")
    wall, cpu, rss, code, _ = run([*tt, sample, "--list"])
    print(f"{'floor (sample --list)':27s} {wall:6.2f} s wall {cpu:6.2f} s cpu {rss / 1e6:7.0f} MB  exit {code}")
    for kind, size in specs:
        size = small if a.small else size
        path = os.path.join(a.cache, f"{kind}-{size >> 20}M")
        if not os.path.exists(path):
            t0 = time.perf_counter()
            build(kind, size, path)
            print(f"  (built {kind}: {os.path.getsize(path):,} bytes -> {size:,} in "
                  f"{time.perf_counter() - t0:.0f} s)")
        wall, cpu, rss, code, last = run([*tt, path, "--list"])
        ok = wall < 10 and rss < 1e9 and code == 1 and last.startswith(path)
        print(f"{kind:16s} {os.path.getsize(path):>9,} B {wall:6.2f} s wall {cpu:6.2f} s cpu "
              f"{rss / 1e6:7.0f} MB  exit {code}  {'ok' if ok else 'OVER THE BAR'}")
        print(f"{'':16s} | {last[len(path):][:110]}")
    print("bar: each bomb < 10 s and < 1 GB peak RSS, exit 1 with a line naming the file "
          "(a loaded machine stretches wall time: compare cpu with the floor's)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
