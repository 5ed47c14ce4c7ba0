"""A JSON input is one document or JSON Lines of records: what every JSON format shares.

Subclasses read one record (`_record`); this tells a document from lines, names lines in
the report and keeps one broken line from costing the others.
"""

from __future__ import annotations

import re
from typing import Any

import msgspec

from .base import LoaderBase
from .report import LoadError

PLAIN = msgspec.json.Decoder()
_BLANK = re.compile(rb"[ \t\r\n]*")


class JsonInputLoader(LoaderBase):
    FORMAT = "JSON"  # the name the report gives the file's format

    def load(self, data: bytes) -> None:
        view = memoryview(data)
        first_end = data.find(b"\n")
        if first_end < 0 or not data[:first_end].strip():
            self._document(view)
        elif not _parses(view[:first_end]):
            try:
                self._document(view)  # a pretty-printed document, not JSON Lines
            except LoadError:
                if not next_line_is_object(data, first_end + 1):
                    raise
                self._lines(data, view)  # JSON Lines whose first line is broken
        else:
            self._lines(data, view)
        self._finish()

    def _document(self, view: memoryview) -> None:
        self.file.format = self.FORMAT
        try:
            self._record(view, self.file.name, whole=True)
        except msgspec.DecodeError as e:
            raise LoadError(f"not valid JSON ({short(e)})") from None

    def _lines(self, data: bytes, view: memoryview) -> None:
        self.file.format = self.FORMAT + " Lines"
        pos, n, lineno = 0, len(data), 0
        find = data.find
        count = data.count
        blank = _BLANK.match
        progress = self.progress
        while pos < n:
            skip = blank(data, pos).end()  # blank lines, a run of millions at C speed
            if skip > pos:
                lineno += count(b"\n", pos, skip)
                pos = skip
                if pos >= n:
                    break
            end = find(b"\n", pos)
            if end < 0:
                end = n
            lineno += 1
            line = view[pos:end]
            pos = end + 1
            where = f"{self.file.name}:{lineno}"
            try:
                self._record(line, where, whole=False)
            except msgspec.DecodeError as e:
                self.report.skip("JSON lines that do not parse", where,
                                 f"line does not parse as JSON ({short(e)})")
            if progress is not None and lineno % 64 == 0:
                progress(pos)

    def _record(self, buf: Any, where: str, whole: bool) -> None:
        """One document, or one line: msgspec.DecodeError if it is not JSON at all."""
        raise NotImplementedError

    def _finish(self) -> None:
        """After the last record (what needs the whole file, e.g. ids shared across records)."""


def _parses(buf: Any) -> bool:
    try:
        PLAIN.decode(buf)
    except msgspec.DecodeError:
        return False
    return True


def next_line_is_object(data: bytes, pos: int) -> bool:
    """Whether the first non-blank line from `pos` is a JSON object on its own."""
    n = len(data)
    while pos < n:
        end = data.find(b"\n", pos)
        end = n if end < 0 else end
        line = data[pos:end].strip()
        if line:
            try:
                return isinstance(PLAIN.decode(line), dict)
            except msgspec.DecodeError:
                return False
        pos = end + 1
    return False


def short(e: Exception) -> str:
    text = str(e).splitlines()[0] if str(e) else type(e).__name__
    return text[:160]
