"""What a load did: files read, records skipped and why, warnings. Shown by the CLI and TUI."""

from __future__ import annotations

from collections import Counter
from typing import Any

from ..textsafe import safe_text
from ..words import counted

# Reasons are written in the plural; a count of one reads them in the singular. The first
# phrase found is the head of the reason (more specific phrases come first).
_ONE = (
    ("resourceSpans without", "resourceSpans without"),  # a field name: as it is
    ("lines that do not", "line that does not"),
    ("records that are not", "record that is not"),
    ("records (", "record ("),
    ("spans ending before they start", "span ending before it starts"),
    ("spans", "span"), ("links", "link"), ("references", "reference"), ("messages", "message"),
    ("inputs with", "input with"), ("parent ids", "parent id"), ("traces", "trace"),
)


def _reason(n: int, reason: str) -> str:
    """`3 duplicate spans (already loaded)`, `1 duplicate span (already loaded)`."""
    if n == 1:
        for many, one in _ONE:
            if many in reason:
                reason = reason.replace(many, one, 1)
                break
    return f"{n:,} {reason}"


class LoadError(Exception):
    """A whole input could not be read; the message is one line for the user."""


class FileReport:
    __slots__ = ("name", "format", "spans", "error", "skipped", "ignored", "noted")

    def __init__(self, name: str) -> None:
        self.name = name  # as given: escape it (textsafe.safe_text) wherever it is shown
        self.format = ""
        self.spans = 0
        self.error = ""
        self.skipped = 0  # bad records of this file
        self.ignored = 0  # other signals' records of this file
        self.noted = 0  # messages naming this file


class LoadReport:
    """Counts by reason, plus the first few messages of each reason with file and line."""

    MAX_MESSAGES_PER_REASON = 5

    def __init__(self) -> None:
        self.files: list[FileReport] = []
        self.skipped: Counter[str] = Counter()  # bad records, by reason
        self.ignored: Counter[str] = Counter()  # not errors: other signals' lines
        self.warnings: Counter[str] = Counter()  # loaded, but something was off
        self.messages: list[str] = []
        self._shown: Counter[str] = Counter()
        self.spans = 0
        self.traces = 0
        self.live: Any = None  # live mode's counts (live.ingest.LiveStats): lines()
        self.empty_request = False  # live mode: a request that validly holds no spans
        self._current: FileReport | None = None  # the file being read: its counts go there

    def file(self, name: str) -> FileReport:
        f = FileReport(name)
        self.files.append(f)
        self._current = f
        return f

    def _note(self, reason: str, where: str, detail: str) -> None:
        if self._shown[reason] < self.MAX_MESSAGES_PER_REASON:
            self._shown[reason] += 1
            self.messages.append(f"{where}: {detail or reason}")
            if self._current is not None:
                self._current.noted += 1

    def note(self, f: FileReport, message: str) -> None:
        """A line about a whole file that is not a failure (it was read)."""
        f.noted += 1
        self.messages.append(f"{f.name}: {message}")

    def skip(self, reason: str, where: str, detail: str = "", count: int = 1) -> None:
        self.skipped[reason] += count
        if self._current is not None:
            self._current.skipped += count
        self._note(reason, where, detail)

    def warn(self, reason: str, where: str, detail: str = "", count: int = 1) -> None:
        self.warnings[reason] += count
        self._note(reason, where, detail)

    def ignore(self, reason: str, count: int = 1) -> None:
        self.ignored[reason] += count
        if self._current is not None:
            self._current.ignored += count

    def fail(self, f: FileReport, message: str) -> None:
        f.error = message
        f.noted += 1
        self.messages.append(f"{f.name}: {message}")

    @property
    def failed_files(self) -> list[FileReport]:
        return [f for f in self.files if f.error]

    def summary(self) -> str:
        ok = len(self.files) - len(self.failed_files)
        loaded = f"loaded {counted(self.spans, 'span')} in {counted(self.traces, 'trace')}"
        # A store's or a receiver's report has no files: "from 0 of 0 files" would mislead.
        parts = [f"{loaded} from {ok} of {counted(len(self.files), 'file')}"
                 if self.files else loaded]
        for what, counts in (("skipped ", self.skipped), ("ignored ", self.ignored),
                             ("warnings: ", self.warnings)):
            if counts:
                parts.append(what + ", ".join(_reason(n, reason)
                                              for reason, n in counts.most_common()))
        return "; ".join(parts)

    def lines(self) -> list[str]:
        """The report as the CLI prints it to stderr: summary first, then the details, each
        line escaped (file names and span data are untrusted text)."""
        return [safe_text(line) for line in (self.summary(), *self.messages)]
