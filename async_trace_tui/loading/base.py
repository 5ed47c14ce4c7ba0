"""What every format's loader shares: where rows go, what is reported, resource caches."""

from __future__ import annotations

from collections.abc import Callable

from ..index import IndexBuilder
from ..model import Resource, Scope
from .report import FileReport, LoadReport


class LoaderBase:
    def __init__(self, builder: IndexBuilder, report: LoadReport, file: FileReport,
                 progress: Callable[[int], None] | None = None) -> None:
        self.b = builder
        self.report = report
        self.file = file
        self.progress = progress
        # Resources and scopes repeat in every batch: one object each, shared by its spans.
        self._resources: dict[bytes, Resource] = {}
        self._scopes: dict[bytes, Scope] = {}
