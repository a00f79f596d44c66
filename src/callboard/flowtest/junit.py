"""JUnit XML (the common schema: testsuites/testsuite/testcase/failure|error)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Sequence
from pathlib import Path

from callboard.flowtest.runner import TestResult

__all__ = ["junit_xml", "write_junit"]


def junit_xml(results: Sequence[TestResult]) -> str:
    """One ``testsuite`` per test file, one ``testcase`` per test."""
    root = ET.Element("testsuites", name="callboard test")
    files: dict[str, list[TestResult]] = {}
    for r in results:
        files.setdefault(r.file, []).append(r)
    totals = {"tests": 0, "failures": 0, "errors": 0, "time": 0.0}
    for file, rs in files.items():
        failures = sum(1 for r in rs if r.status == "failed")
        errors = sum(1 for r in rs if r.status == "error")
        seconds = sum(r.seconds for r in rs)
        suite = ET.SubElement(
            root,
            "testsuite",
            name=file,
            tests=str(len(rs)),
            failures=str(failures),
            errors=str(errors),
            skipped="0",
            time=f"{seconds:.3f}",
        )
        for r in rs:
            case = ET.SubElement(
                suite, "testcase", name=r.name, classname=file, time=f"{r.seconds:.3f}"
            )
            if r.failure is not None:
                tag = "error" if r.status == "error" else "failure"
                node = ET.SubElement(case, tag, message=r.failure.message, type=tag)
                node.text = r.failure.text()
        totals["tests"] += len(rs)
        totals["failures"] += failures
        totals["errors"] += errors
        totals["time"] += seconds
    for key in ("tests", "failures", "errors"):
        root.set(key, str(int(totals[key])))
    root.set("time", f"{totals['time']:.3f}")
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode")


def write_junit(path: str | Path, results: Sequence[TestResult]) -> None:
    Path(path).write_text(junit_xml(results) + "\n", encoding="utf-8")
