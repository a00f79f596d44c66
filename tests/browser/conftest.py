"""Fixtures for the browser tests: a real ``callboard serve`` (temp SQLite database) and
Debian's chromium driven by Playwright.

The browser tests are skipped when ``/usr/bin/chromium`` is missing (``./test`` installs
it through ``scripts/ensure-chromium``) -- except under ``CI=true``, where they fail.
Screenshots go to ``<repo>/test-artifacts/`` (ignored by git).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.e2e.server import Server, running_server

REPO = Path(__file__).resolve().parents[2]
CHROMIUM = Path(os.environ.get("CALLBOARD_CHROMIUM", "/usr/bin/chromium"))
STATIC = REPO / "src" / "callboard" / "api" / "static" / "index.html"
ARTIFACTS = REPO / "test-artifacts"
# Chromium's own background connections fail on a closed network; keep it quiet.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
VIEWPORT = {"width": 1440, "height": 900}


def _unavailable(message: str) -> None:
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(message + " (CI=true: the browser tests must run)")
    pytest.skip(message)


@pytest.fixture(scope="session")
def chromium_path() -> Path:
    if not CHROMIUM.exists():
        _unavailable(f"{CHROMIUM} is missing: install Debian's chromium (scripts/ensure-chromium)")
    return CHROMIUM


@pytest.fixture(scope="session")
def editor_bundle() -> Path:
    """The built editor; built here when missing (needs npm)."""
    if not STATIC.exists():
        if shutil.which("npm") is None:
            _unavailable("the editor is not built and npm is missing (scripts/build-web)")
        subprocess.run([str(REPO / "scripts" / "build-web")], check=True, timeout=600)
    return STATIC


@pytest.fixture(scope="session")
def server(editor_bundle: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    tmp = tmp_path_factory.mktemp("browser-server")
    with running_server(f"sqlite:///{tmp / 'browser.db'}", tmp) as srv:
        yield srv


@pytest.fixture(scope="session")
def api(server: Server) -> Iterator[httpx.Client]:
    """An authenticated client for the server's REST API."""
    with httpx.Client(
        base_url=server.url, auth=(server.account_sid, server.auth_token), timeout=30
    ) as client:
        yield client


@pytest.fixture(scope="session")
def browser(chromium_path: Path) -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=str(chromium_path), args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser: object, server: Server) -> Iterator[object]:
    """A fresh browser context (own sessionStorage) with a page; page errors fail the test."""
    from playwright.sync_api import Browser

    assert isinstance(browser, Browser)
    context = browser.new_context(viewport=VIEWPORT, accept_downloads=True)
    pg = context.new_page()
    pg.set_default_timeout(15_000)
    errors: list[str] = []
    pg.on("pageerror", lambda exc: errors.append(f"{exc}\n{exc.stack}"))
    yield pg
    context.close()
    assert not errors, f"JavaScript errors in the page: {errors}"


@pytest.fixture
def shot(request: pytest.FixtureRequest) -> object:
    """shot(page, "name") saves test-artifacts/<test>-<name>.png."""
    ARTIFACTS.mkdir(exist_ok=True)

    def take(pg: object, name: str) -> Path:
        path = ARTIFACTS / f"{request.node.name}-{name}.png"
        pg.screenshot(path=str(path))  # type: ignore[attr-defined]
        return path

    return take
