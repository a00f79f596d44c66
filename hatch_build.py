"""Hatch build hook: the browser editor goes into the wheel.

Building a wheel (``python -m build``, ``pip wheel .``, ``pipx install ./callboard``) runs
the Vite build of ``web/`` (``npm ci`` when ``web/node_modules`` is missing or stale, then
``npm run build``), which writes ``src/callboard/api/static/``; that folder is not in git,
so it is added to the wheel as an artifact. The machine that *builds* the wheel needs
Node.js 20.19+ and npm; the machines that install it do not. The sdist carries ``web/``
(without ``node_modules``) so a wheel can be built from it. Editable installs skip the
build (``./scripts/bootstrap`` builds the editor when serving).

``CALLBOARD_SKIP_EDITOR_BUILD=1`` uses an existing ``static/`` as it is.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

STATIC = "src/callboard/api/static"


class EditorBuildHook(BuildHookInterface):  # type: ignore[type-arg]
    PLUGIN_NAME = "custom"

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        if self.target_name != "wheel" or version == "editable":
            return
        root = Path(self.root)
        index = root / STATIC / "index.html"
        web = root / "web"
        if os.environ.get("CALLBOARD_SKIP_EDITOR_BUILD") == "1" and index.is_file():
            pass
        elif (web / "package.json").is_file():
            self._build(web)
        elif not index.is_file():
            raise RuntimeError(
                "callboard: neither web/ nor a built editor (src/callboard/api/static/) "
                "is here: build the wheel from a checkout or from the sdist"
            )
        if not index.is_file():
            raise RuntimeError(f"callboard: the editor build did not write {index}")
        build_data["artifacts"].append(f"/{STATIC}/")

    def _build(self, web: Path) -> None:
        npm = shutil.which("npm")
        if npm is None:
            raise RuntimeError(
                "callboard: building the wheel builds the browser editor (web/), which needs "
                "Node.js 20.19+ and npm on PATH. Install them, or build the wheel elsewhere."
            )
        lock = web / "package-lock.json"
        marker = web / "node_modules" / ".package-lock.json"
        if not marker.is_file() or lock.stat().st_mtime > marker.stat().st_mtime:
            self.app.display_info("callboard: npm ci (web/)")
            subprocess.run(
                [npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=web, check=True
            )
        self.app.display_info("callboard: building the browser editor (web/ -> static/)")
        subprocess.run([npm, "run", "--silent", "build"], cwd=web, check=True)
