"""Tests stored with a flow (``/callboard/v1/Flows/{FW}/Tests``) and the publish gate.

Each save is a new version of the flow's test file, tagged with the flow revision that
was latest then; ``require_green`` (per flow, kept with the latest version) makes
publishing run the tests first. Stored tests run against the flow's latest revision
(its draft), or against a definition about to be published.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

from callboard.flowtest.coverage import flow_coverage
from callboard.flowtest.driver import stored_flow
from callboard.flowtest.loader import parse_test_text
from callboard.flowtest.model import TestFile, TestFileError
from callboard.flowtest.runner import Failure, TestResult, run_test
from callboard.flowtest.session import DriverFactory
from callboard.runtime.service import Callboard
from callboard.store.flow_tests import flow_test_rows, flow_test_version, insert_flow_test
from callboard.store.values import to_db_time

__all__ = ["fetch_tests", "list_versions", "publish_gate", "run_stored", "save_tests"]

STORED = "tests.yaml"  # the name stored test files go by in messages


def _row_json(row: Any) -> dict[str, Any]:
    return {
        "flow_sid": row.flow_sid,
        "version": row.version,
        "flow_revision": row.flow_revision,
        "tests": row.text,
        "require_green": bool(row.require_green),
        "date_created": row.date_created.strftime("%Y-%m-%dT%H:%M:%SZ"),
    }


def save_tests(
    service: Callboard, account_sid: str, flow_sid: str, text: str, require_green: bool | None
) -> dict[str, Any]:
    """Check ``text`` (:class:`TestFileError` when bad) and store it as a new version."""
    revision, _, _ = stored_flow(service, account_sid, flow_sid)
    if text.strip():
        parse_test_text(text, STORED)
    with service.db.write() as conn:
        last = flow_test_version(conn, flow_sid)
        row = {
            "flow_sid": flow_sid,
            "version": (last.version if last is not None else 0) + 1,
            "account_sid": account_sid,
            "flow_revision": revision,
            "text": text,
            "require_green": bool(
                require_green if require_green is not None else last and last.require_green
            ),
            "date_created": to_db_time(service.env.now()),
        }
        saved = insert_flow_test(conn, row)
    return _row_json(saved)


def fetch_tests(
    service: Callboard, account_sid: str, flow_sid: str, version: int | None = None
) -> dict[str, Any]:
    """The latest version (or ``version``); an empty test file when none was saved."""
    stored_flow(service, account_sid, flow_sid)  # NotFound for another account's flow
    with service.db.read() as conn:
        row = flow_test_version(conn, flow_sid, version)
    if row is None:
        if version is not None:
            raise KeyError(version)
        return {
            "flow_sid": flow_sid,
            "version": 0,
            "flow_revision": None,
            "tests": "",
            "require_green": False,
            "date_created": None,
        }
    return _row_json(row)


def list_versions(service: Callboard, account_sid: str, flow_sid: str) -> list[dict[str, Any]]:
    stored_flow(service, account_sid, flow_sid)
    with service.db.read() as conn:
        rows = flow_test_rows(conn, flow_sid)
    return [{k: v for k, v in _row_json(r).items() if k != "tests"} for r in rows]


def _result_json(r: TestResult) -> dict[str, Any]:
    failure = None
    if r.failure is not None:
        f = r.failure
        failure = {
            "message": f.message,
            "where": f.where,
            "line": int(f.where.rsplit(":", 1)[1])
            if f.where.rsplit(":", 1)[-1].isdigit()
            else None,
            "expected": f.expected,
            "got": f.got,
            "path": f.path,
            "text": f.text(),
        }
    return {
        "name": r.name,
        "status": r.status,
        "failure": failure,
        "path": r.visited,
        "seconds": round(r.seconds, 3),
    }


def run_stored(
    service: Callboard,
    driver: DriverFactory,
    account_sid: str,
    flow_sid: str,
    *,
    text: str | None = None,
    definition: dict[str, Any] | None = None,
    on_result: Callable[[TestResult], None] | None = None,
) -> dict[str, Any]:
    """Run the flow's stored tests (or ``text``) against its draft (or ``definition``),
    each on a driver made by ``driver`` (:attr:`callboard.api.services.Services.test_driver`,
    set by the composition root): ``{"passed", "results", "coverage", "error"}``."""
    revision, draft, subflows = stored_flow(service, account_sid, flow_sid)
    if text is None:
        text = str(fetch_tests(service, account_sid, flow_sid)["tests"])
    used = definition if definition is not None else draft
    out: dict[str, Any] = {"flow_sid": flow_sid, "flow_revision": revision}
    if not text.strip():
        return {**out, "passed": True, "results": [], "coverage": None, "error": None}
    try:
        parsed = parse_test_text(text, STORED)
    except TestFileError as exc:
        return {**out, "passed": False, "results": [], "coverage": None, "error": exc.text()}
    file: TestFile = replace(parsed, definition=used, subflows={**subflows, **parsed.subflows})
    results = []
    for test in file.tests:
        try:
            result = run_test(file, test, driver(file))
        except Exception as exc:  # the flow could not even be stored
            result = TestResult(STORED, test.name, "error", Failure(str(exc), str(test.where)))
        results.append(result)
        if on_result is not None:
            on_result(result)
    taken = [tr for r in results for tr in r.taken]
    coverage = flow_coverage(flow_sid, used, taken).to_json()
    passed = all(r.status == "passed" for r in results)
    return {
        **out,
        "passed": passed,
        "results": [_result_json(r) for r in results],
        "coverage": coverage,
        "error": None,
    }


def publish_gate(
    service: Callboard,
    driver: DriverFactory | None,
    account_sid: str,
    flow_sid: str,
    definition: dict[str, Any] | None,
) -> str | None:
    """None when the flow may be published; else why not (its tests are not green)."""
    stored = fetch_tests(service, account_sid, flow_sid)
    if not stored["require_green"]:
        return None
    if driver is None:
        return "this flow requires green tests to publish, and tests cannot run on this server"
    report = run_stored(service, driver, account_sid, flow_sid, definition=definition)
    if report["error"]:
        return (
            f"this flow requires green tests to publish; its tests file is bad: {report['error']}"
        )
    failed = [r["name"] for r in report["results"] if r["status"] != "passed"]
    if failed:
        return (
            f"this flow requires green tests to publish: {len(failed)} of "
            f"{len(report['results'])} failed ({', '.join(failed)})"
        )
    return None
