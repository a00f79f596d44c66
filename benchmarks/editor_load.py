"""Editor benchmark: open a generated 1,000-widget flow in the browser editor.

Measures, in Debian's headless chromium driven by Playwright against a real
``callboard serve`` (temporary SQLite database):

* **time to interactive** -- from navigation start until the canvas has drawn its
  widgets and the page answers two animation frames in a row (bar: under 2 s);
* **frame rate while panning** -- requestAnimationFrame callbacks counted while the mouse
  drags the canvas for ~2 s, at the opening zoom and zoomed out to 25 %;
* **rename keystroke** -- typing in the Inspector's name field of a widget that ~200
  split widgets refer to (``{{widgets.w0.body}}`` in their input and condition): each
  keystroke renames it and rewrites every reference; time from the input event until the
  second animation frame after it (bar: under 100 ms).

Run: ``.venv/bin/python benchmarks/editor_load.py [--widgets 1000] [--runs 3]``.
Prints the figures and writes ``benchmarks/results/editor_load.json``; exits 1 when the
time-to-interactive or the rename bar is missed.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, VIEWPORT  # noqa: E402
from tests.e2e.server import running_server  # noqa: E402
from tests.e2e.teams import ensure_owner, session_cookie  # noqa: E402

TTI_BAR_MS = 2000.0
RENAME_BAR_MS = 100.0
REFERENCED = "w0"  # on screen at the opening view; every split refers to it
COLUMNS = 25


def generate_flow(widgets: int) -> dict[str, Any]:
    """Trigger + ``widgets - 1`` widgets on a grid; a chain with split branches."""
    kinds = ["set-variables", "split-based-on", "send-message", "make-http-request", "say-play"]
    names = [f"w{i}" for i in range(widgets - 1)]
    states: list[dict[str, Any]] = [
        {
            "name": "Trigger",
            "type": "trigger",
            "transitions": [
                {"event": "incomingMessage", "next": names[0]},
                {"event": "incomingCall"},
                {"event": "incomingConversationMessage"},
                {"event": "incomingRequest", "next": names[0]},
                {"event": "incomingParent"},
            ],
            "properties": {"offset": {"x": 0, "y": -240}},
        }
    ]
    for i, name in enumerate(names):
        kind = kinds[i % len(kinds)]
        nxt = names[i + 1] if i + 1 < len(names) else None
        far = names[i + COLUMNS] if i + COLUMNS < len(names) else None
        offset = {"x": (i % COLUMNS) * 340, "y": (i // COLUMNS) * 240}

        def t(event: str, target: str | None) -> dict[str, Any]:
            return {"event": event, "next": target} if target else {"event": event}

        if kind == "set-variables":
            props: dict[str, Any] = {"variables": [{"key": f"v{i}", "value": str(i)}]}
            transitions = [t("next", nxt)]
        elif kind == "split-based-on":
            props = {"input": f"{{{{widgets.{REFERENCED}.body}}}}"}
            cond = {
                "friendly_name": f"is {i}",
                "arguments": [f"{{{{widgets.{REFERENCED}.body}}}}"],
                "type": "equal_to",
                "value": str(i),
            }
            transitions = [t("noMatch", nxt), {**t("match", far), "conditions": [cond]}]
        elif kind == "send-message":
            props = {"body": f"Message {i}"}
            transitions = [t("sent", nxt), t("failed", None)]
        elif kind == "make-http-request":
            props = {"method": "GET", "url": "http://127.0.0.1:9/x"}
            transitions = [t("success", nxt), t("failed", far)]
        else:
            props = {"say": f"Step {i}", "loop": 1}
            transitions = [t("audioComplete", nxt)]
        states.append(
            {
                "name": name,
                "type": kind,
                "transitions": transitions,
                "properties": {**props, "offset": offset},
            }
        )
    return {
        "description": f"Benchmark flow with {widgets} widgets",
        "states": states,
        "initial_state": "Trigger",
        "flags": {"allow_concurrent_calls": True},
    }


PAN_FPS_JS = """async ([ms]) => {
  let frames = 0; let running = true;
  const tick = () => { if (!running) return; frames++; requestAnimationFrame(tick); };
  requestAnimationFrame(tick);
  const start = performance.now();
  window.__panDone = () => {
    running = false;
    return frames / ((performance.now() - start) / 1000);
  };
  return true;
}"""


def pan_fps(page: Any, duration_ms: int = 2000) -> float:
    box = page.locator(".canvas .react-flow__pane").bounding_box()
    cx, cy = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.evaluate(PAN_FPS_JS, [duration_ms])
    page.mouse.move(cx, cy)
    page.mouse.down()
    steps = 120
    start = time.monotonic()
    for i in range(steps):
        dx = 300 * (1 if (i // 30) % 2 == 0 else -1)
        page.mouse.move(cx + dx * ((i % 30) / 30), cy + 150 * ((i % 30) / 30), steps=1)
        remaining = start + (i + 1) * duration_ms / 1000 / steps - time.monotonic()
        if remaining > 0:
            time.sleep(remaining)
    page.mouse.up()
    fps: float = page.evaluate("window.__panDone()")
    return fps


RENAME_JS = """async ([suffix]) => {
  const input = document.querySelector('#widget-name');
  const setter = Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, 'value').set;
  const frames = () => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)));
  input.focus();
  const times = [];
  for (const ch of suffix) {
    const start = performance.now();
    setter.call(input, input.value + ch);
    input.dispatchEvent(new Event('input', { bubbles: true }));
    await frames();
    times.push(performance.now() - start);
  }
  input.blur();
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)];
}"""


def rename_ms(page: Any) -> float:
    """Median time of a keystroke renaming the widget every split refers to."""
    page.locator(f'.react-flow__node:has(.wnode[data-name="{REFERENCED}"]) .wnode-head').click()
    page.wait_for_selector(f'.inspector[data-widget="{REFERENCED}"]')
    ms: float = page.evaluate(RENAME_JS, ["_renamed"])
    page.wait_for_selector(f'.wnode[data-name="{REFERENCED}_renamed"]')
    # Every split follows (checked on one of them through the inspector).
    page.locator('.react-flow__node:has(.wnode[data-name="w1"]) .wnode-head').click()
    value = page.locator("#prop-input").input_value()
    assert value == f"{{{{widgets.{REFERENCED}_renamed.body}}}}", value
    page.keyboard.press("Control+z")  # one undo step puts it all back
    page.wait_for_selector(f'.wnode[data-name="{REFERENCED}"]')
    page.locator(".canvas .react-flow__pane").click(position={"x": 5, "y": 5})
    return ms


def measure(url: str, sid: str, creds: dict[str, str], browser: Any) -> dict[str, float]:
    context = browser.new_context(viewport=VIEWPORT)
    context.add_cookies([creds])  # a logged-in session (issue 14)
    page = context.new_page()
    page.goto(f"{url}/#/flows/{sid}")
    page.wait_for_selector(".react-flow__node .wnode", timeout=30_000)
    tti: float = page.evaluate(
        "() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(() =>"
        " r(performance.now()))))"
    )
    rendered = page.locator(".react-flow__node").count()
    rename = rename_ms(page)
    fps_open = pan_fps(page)
    page.evaluate("() => 0")
    # Zoom out to 25 % (many more widgets on screen) and pan again.
    page.locator(".canvas .react-flow__pane").hover()
    for _ in range(12):
        page.mouse.wheel(0, 300)
        page.wait_for_timeout(30)
    page.wait_for_timeout(300)
    rendered_out = page.locator(".react-flow__node").count()
    fps_out = pan_fps(page)
    context.close()
    return {
        "tti_ms": tti,
        "rename_keystroke_ms": rename,
        "fps_pan": fps_open,
        "fps_pan_zoomed_out": fps_out,
        "nodes_rendered": rendered,
        "nodes_rendered_zoomed_out": rendered_out,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--widgets", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    if not CHROMIUM.exists():
        print(f"editor benchmark: {CHROMIUM} is missing (apt-get install chromium)")
        return 2
    if not (REPO / "src/callboard/api/static/index.html").exists():
        print("editor benchmark: the editor is not built; run ./scripts/build-web")
        return 2
    import httpx
    from playwright.sync_api import sync_playwright

    flow = generate_flow(args.widgets)
    with (
        tempfile.TemporaryDirectory() as tmp,
        running_server(f"sqlite:///{tmp}/bench.db", Path(tmp)) as server,
    ):
        auth = (server.account_sid, server.auth_token)
        created = httpx.post(
            f"{server.url}/v2/Flows",
            auth=auth,
            data={"FriendlyName": "Benchmark", "Status": "draft", "Definition": json.dumps(flow)},
            timeout=60,
        )
        created.raise_for_status()
        sid = created.json()["sid"]
        creds = session_cookie(server, *ensure_owner(server))
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            runs = [measure(server.url, sid, creds, browser) for _ in range(args.runs)]
            browser.close()
    result = {
        "widgets": args.widgets,
        "runs": runs,
        "tti_ms_median": statistics.median(r["tti_ms"] for r in runs),
        "fps_pan_median": statistics.median(r["fps_pan"] for r in runs),
        "fps_pan_zoomed_out_median": statistics.median(r["fps_pan_zoomed_out"] for r in runs),
        "rename_keystroke_ms_median": statistics.median(r["rename_keystroke_ms"] for r in runs),
        "tti_bar_ms": TTI_BAR_MS,
        "rename_bar_ms": RENAME_BAR_MS,
    }
    out = REPO / "benchmarks" / "results"
    out.mkdir(parents=True, exist_ok=True)
    (out / "editor_load.json").write_text(json.dumps(result, indent=2) + "\n")
    ok = result["tti_ms_median"] < TTI_BAR_MS
    rename_ok = result["rename_keystroke_ms_median"] < RENAME_BAR_MS
    print(f"editor with {args.widgets} widgets, {args.runs} runs (medians):")
    print(
        f"  time to interactive   {result['tti_ms_median']:7.0f} ms  (bar < {TTI_BAR_MS:.0f} ms:"
        f" {'PASS' if ok else 'FAIL'})"
    )
    print(
        f"  panning               {result['fps_pan_median']:7.1f} fps"
        f"  ({runs[0]['nodes_rendered']} widgets drawn)"
    )
    print(
        f"  panning at 25 % zoom  {result['fps_pan_zoomed_out_median']:7.1f} fps"
        f"  ({runs[0]['nodes_rendered_zoomed_out']} widgets drawn)"
    )
    print(
        f"  rename keystroke      {result['rename_keystroke_ms_median']:7.1f} ms"
        f"  (~{sum(1 for s in flow['states'] if s['type'] == 'split-based-on')} widgets refer"
        f" to it; bar < {RENAME_BAR_MS:.0f} ms: {'PASS' if rename_ok else 'FAIL'})"
    )
    return 0 if ok and rename_ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
