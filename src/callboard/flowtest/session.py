"""A run of many tests: finding files, selecting tests, running them (in parallel
processes), the report and the exit status."""

from __future__ import annotations

import fnmatch
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from callboard.flowtest.coverage import Coverage, flow_coverage
from callboard.flowtest.loader import load_test_file
from callboard.flowtest.model import FlowTest, TestFile, TestFileError
from callboard.flowtest.runner import Driver, Failure, TestResult, run_test

__all__ = ["DriverFactory", "Session", "find_files", "select"]

DriverFactory = Callable[[TestFile], Driver]
PATTERNS = ("*.test.yaml", "*.test.yml", "*.test.json")


def find_files(paths: Sequence[str]) -> list[Path]:
    """Files as given; folders searched (recursively) for ``*.test.yaml`` (and .yml, .json)."""
    out: list[Path] = []
    for raw in paths or ["."]:
        p = Path(raw)
        if p.is_dir():
            found = {f for pattern in PATTERNS for f in p.rglob(pattern) if f.is_file()}
            out += sorted(f for f in found if not any(part.startswith(".") for part in f.parts))
        elif p.exists():
            out.append(p)
        else:
            raise TestFileError(str(p), "no such file or folder")
    return out


def select(tests: Sequence[FlowTest], pattern: str | None) -> list[FlowTest]:
    """``-k``: a glob (``*sales*``) or a plain substring of the name, case-insensitive."""
    if not pattern:
        return list(tests)
    p = pattern.lower()
    glob = any(c in p for c in "*?[")
    return [
        t for t in tests if (fnmatch.fnmatch(t.name.lower(), p) if glob else p in t.name.lower())
    ]


@dataclass(slots=True)
class Session:
    files: list[TestFile] = field(default_factory=list)
    results: list[TestResult] = field(default_factory=list)
    errors: list[TestFileError] = field(default_factory=list)

    def load(self, paths: Sequence[Path]) -> None:
        for p in paths:
            try:
                self.files.append(load_test_file(p))
            except TestFileError as exc:
                self.errors.append(exc)

    def run(
        self,
        factory: DriverFactory,
        pattern: str | None = None,
        jobs: int = 0,
        on_result: Callable[[TestResult], None] | None = None,
    ) -> None:
        work = [(f, t) for f in self.files for t in select(f.tests, pattern)]
        jobs = jobs or min(os.cpu_count() or 1, 4)
        if jobs <= 1 or len(work) <= 1:
            for f, t in work:
                self._add(_run_one(factory, f, t), on_result)
            return
        with ProcessPoolExecutor(max_workers=min(jobs, len(work))) as pool:
            futures = [pool.submit(_run_one, factory, f, t) for f, t in work]
            for future in futures:
                self._add(future.result(), on_result)

    def _add(self, result: TestResult, on_result: Callable[[TestResult], None] | None) -> None:
        self.results.append(result)
        if on_result is not None:
            on_result(result)

    def coverage(self) -> list[Coverage]:
        """Per flow file (tests of one flow in several files count together)."""
        by_flow: dict[str, tuple[TestFile, list[tuple[str, str, str]]]] = {}
        for f in self.files:
            if f.definition is None:
                continue
            key = str((Path(f.path).parent / f.flow).resolve())
            entry = by_flow.setdefault(key, (f, []))
            for r in self.results:
                if r.file == f.path:
                    entry[1].extend(r.taken)
        return [
            flow_coverage(str(Path(f.path).parent / f.flow), f.definition or {}, taken)
            for f, taken in by_flow.values()
        ]

    def exit_status(self) -> int:
        if self.errors or any(r.status == "error" for r in self.results):
            return 2
        return 1 if any(r.status == "failed" for r in self.results) else 0


def _run_one(factory: DriverFactory, file: TestFile, test: FlowTest) -> TestResult:
    try:
        driver = factory(file)
    except Exception as exc:  # the driver could not even start: a bad flow
        failure = Failure(f"cannot run the flow: {exc}", str(test.where))
        return TestResult(file.path, test.name, "error", failure)
    return run_test(file, test, driver)
