// Flow tests stored with the flow: edit, save (versioned), run against the latest saved
// revision, see each failure's diff, show the transitions no test took on the canvas,
// and require green tests to publish. The format: docs/testing-flows.md.

import { useEffect, useState } from "react";
import { fetchStepKinds, fetchTests, runTests, saveTests, type StoredTests, type TestReport } from "../api/flowtests";
import { useStoreSlice } from "../lib/store";
import { toast } from "../lib/toast";
import { useEditor } from "../state/context";
import { uncoveredEdges } from "../state/flowtests";

export function TestsPanel({ onClose }: { onClose: () => void }) {
  const editor = useEditor();
  const flow = useStoreSlice(editor.store, (s) => s.flow);
  const dirty = useStoreSlice(editor.store, (s) => s.dirty);
  const [stored, setStored] = useState<StoredTests | null>(null);
  const [text, setText] = useState("");
  const [report, setReport] = useState<TestReport | null>(null);
  const [busy, setBusy] = useState(false);
  const [kinds, setKinds] = useState<string[]>([]);

  useEffect(() => {
    if (!flow) return;
    fetchTests(flow.sid)
      .then((t) => {
        setStored(t);
        setText(t.tests);
      })
      .catch((e: Error) => toast(e.message, "error"));
    fetchStepKinds()
      .then(setKinds)
      .catch(() => setKinds([]));
  }, [flow]);

  useEffect(() => () => editor.setHighlight(null), [editor]);

  if (!flow) return null;

  const save = async (requireGreen?: boolean) => {
    setBusy(true);
    try {
      const saved = await saveTests(flow.sid, text, requireGreen);
      setStored(saved);
      toast(`Tests saved (version ${saved.version}).`, "success");
    } catch (e) {
      toast((e as Error).message, "error", 8000);
    } finally {
      setBusy(false);
    }
  };

  const run = async () => {
    setBusy(true);
    try {
      const r = await runTests(flow.sid, text);
      setReport(r);
      editor.setHighlight(null);
    } catch (e) {
      toast((e as Error).message, "error");
    } finally {
      setBusy(false);
    }
  };

  const showUncovered = () => {
    if (!report?.coverage) return;
    const s = editor.state;
    const uncovered = uncoveredEdges(report.coverage.untaken_transitions, s.nodes, s.edges);
    const visited = new Set(s.nodes.map((n) => n.data.name).filter((n) => !report.coverage!.untaken_widgets.includes(n)));
    editor.setHighlight({ visited, edges: new Set(), active: null, uncovered });
  };

  const changed = stored !== null && text !== stored.tests;
  const passed = report?.results.filter((r) => r.status === "passed").length ?? 0;

  return (
    <aside className="side-panel tests-panel" aria-label="Tests">
      <div className="panel-head">
        <h3>Tests</h3>
        <button type="button" className="icon-btn" aria-label="Close" onClick={onClose}>
          ×
        </button>
      </div>
      <p className="muted small">
        Golden conversations, run against the latest saved revision
        {dirty ? " — you have unsaved changes: save the flow first" : ""}.
        {stored && stored.version > 0 ? ` Version ${stored.version} (flow revision ${stored.flow_revision}).` : ""}
      </p>
      <textarea
        className="tests-text"
        aria-label="Test file"
        spellCheck={false}
        value={text}
        placeholder={"tests:\n  - name: happy path\n    steps:\n      - send: hello\n      - expect: /Hi/"}
        onChange={(e) => setText(e.target.value)}
      />
      {kinds.length > 0 && <div className="muted small">Steps: {kinds.join(", ")}</div>}
      <div className="tests-actions">
        <button type="button" className="btn primary" disabled={busy} onClick={() => void run()}>
          Run tests
        </button>
        <button type="button" className="btn" disabled={busy || !changed} onClick={() => void save()}>
          Save tests
        </button>
        <label className="small">
          <input
            type="checkbox"
            aria-label="Require green tests to publish"
            checked={stored?.require_green ?? false}
            disabled={busy}
            onChange={(e) => void save(e.target.checked)}
          />{" "}
          Require green tests to publish
        </label>
      </div>
      {report && (
        <div className="tests-report" aria-label="Test results">
          {report.error && <pre className="test-diff">{report.error}</pre>}
          {!report.error && (
            <div className={`tests-summary ${report.passed ? "ok" : "bad"}`}>
              {passed} passed, {report.results.length - passed} failed
            </div>
          )}
          {report.results.map((r) => (
            <div key={r.name}>
              <div className={`test-row ${r.status}`} data-test={r.name}>
                <span className="badge">{r.status === "passed" ? "PASS" : r.status === "failed" ? "FAIL" : "ERROR"}</span>
                <span>{r.name}</span>
              </div>
              {r.failure && <pre className="test-diff">{r.failure.text}</pre>}
            </div>
          ))}
          {report.coverage && (
            <div className="tests-coverage">
              <div className="small">
                {report.coverage.transitions - report.coverage.untaken_transitions.length}/{report.coverage.transitions} transitions
                taken
              </div>
              {report.coverage.untaken_transitions.length > 0 && (
                <>
                  <ul className="uncovered-list" aria-label="Transitions not taken">
                    {report.coverage.untaken_transitions.map((t) => (
                      <li key={`${t.widget}-${t.event}-${t.next}`}>
                        {t.widget} —{t.event}→ {t.next}
                      </li>
                    ))}
                  </ul>
                  <button type="button" className="btn" onClick={showUncovered}>
                    Show uncovered on canvas
                  </button>
                </>
              )}
            </div>
          )}
        </div>
      )}
    </aside>
  );
}
