"""The wheel is the whole product: built from a clean copy of the tree with the standard
tooling (``python -m build``: the sdist, then the wheel from the sdist), installed into a
fresh virtual environment, ``callboard serve`` serves the editor and its login API with
no Node.js on ``PATH``."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import httpx
import pytest

from tests.e2e.server import free_port

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]

REPO = Path(__file__).resolve().parents[2]


def _clean_copy(dest: Path) -> None:
    """The files git would check out (tracked, plus new ones not ignored): no .venv,
    no node_modules, no built editor."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=REPO,
        capture_output=True,
        check=True,
    ).stdout.split(b"\0")
    for name in filter(None, (n.decode() for n in listed)):
        source = REPO / name
        if source.is_file():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, dest / name)


def test_the_wheel_serves_the_editor_without_node(tmp_path: Path) -> None:
    if shutil.which("npm") is None or shutil.which("git") is None:
        pytest.skip("building the wheel needs npm (the editor) and git (the clean copy)")
    tree = tmp_path / "tree"
    _clean_copy(tree)
    assert not (tree / "src/callboard/api/static").exists()
    dist = tmp_path / "dist"
    built = subprocess.run(
        [sys.executable, "-m", "build", "--no-isolation", "--outdir", str(dist), str(tree)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert built.returncode == 0, built.stdout[-3000:] + built.stderr[-3000:]
    (wheel,) = dist.glob("callboard-*.whl")
    (sdist,) = dist.glob("callboard-*.tar.gz")
    with zipfile.ZipFile(wheel) as zf:
        names = zf.namelist()
    assert "callboard/api/static/index.html" in names
    assert any(re.match(r"callboard/api/static/assets/index-.*\.js$", n) for n in names)
    import tarfile

    with tarfile.open(sdist) as tf:
        carried = tf.getnames()
    assert any(n.endswith("/web/package.json") for n in carried)
    assert not any("node_modules" in n for n in carried)

    venv = tmp_path / "fresh"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    py = venv / "bin" / "python"
    uv = shutil.which("uv", path=str(Path(sys.executable).parent))
    if uv is not None:  # the locked runtime dependencies, from uv's cache when it has them
        install = [uv, "pip", "install", "--quiet", "--python", str(py)]
        subprocess.run([*install, "-r", str(REPO / "requirements.lock")], check=True, timeout=600)
        subprocess.run([*install, "--no-deps", str(wheel)], check=True, timeout=300)
    else:
        pip = [str(py), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
        subprocess.run([*pip, "-r", str(REPO / "requirements.lock")], check=True, timeout=600)
        subprocess.run([*pip, "--no-deps", str(wheel)], check=True, timeout=300)

    path = str(venv / "bin")
    assert shutil.which("node", path=path) is None and shutil.which("npm", path=path) is None
    env = {
        "PATH": path,
        "HOME": str(tmp_path / "home"),
        "CALLBOARD_DATA_DIR": str(tmp_path / "data"),
        "LANG": "C.UTF-8",
    }
    callboard = str(venv / "bin" / "callboard")
    workdir = tmp_path / "elsewhere"  # not the source tree: the installed package serves
    workdir.mkdir()
    created = subprocess.run(
        [callboard, "accounts", "create", "--json"],
        env=env,
        cwd=workdir,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert created.returncode == 0, created.stderr
    account = json.loads(created.stdout)
    port = free_port()
    log = (tmp_path / "serve.log").open("w")
    proc = subprocess.Popen(
        [callboard, "serve", "--port", str(port)],
        env=env,
        cwd=workdir,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert proc.poll() is None, (tmp_path / "serve.log").read_text()
            try:
                if httpx.get(f"{url}/callboard/v1/Health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, (tmp_path / "serve.log").read_text()
            time.sleep(0.2)
        page = httpx.get(f"{url}/", timeout=30)
        assert page.status_code == 200
        assert '<div id="root">' in page.text and "has not been built" not in page.text
        script = re.search(r'src="(/assets/[^"]+\.js)"', page.text)
        assert script is not None
        bundle = httpx.get(url + script.group(1), timeout=30)
        assert bundle.status_code == 200 and "javascript" in bundle.headers["content-type"]
        # the editor's login: its API call with the credentials (and X-Requested-With)
        headers = {"X-Requested-With": "XMLHttpRequest"}
        me = httpx.get(
            f"{url}/callboard/v1/Me",
            auth=(account["account_sid"], account["auth_token"]),
            headers=headers,
            timeout=30,
        )
        assert me.status_code == 200, me.text
        assert me.json()["account_sid"] == account["account_sid"]
        wrong = httpx.get(
            f"{url}/callboard/v1/Me",
            auth=(account["account_sid"], "0" * 32),
            headers=headers,
            timeout=30,
        )
        assert wrong.status_code == 401 and "www-authenticate" not in wrong.headers
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
        log.close()
