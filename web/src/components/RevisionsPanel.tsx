// Revisions: list (with their authors), compare any two (or one with the canvas),
// restore one (a new draft revision by you, on the server).

import { useCallback, useEffect, useState } from "react";
import { fetchRevision } from "../api/studio";
import { listRevisionAuthors, restoreRevision, type RevisionAuthor } from "../api/team";
import type { FlowDefinition } from "../api/types";
import { useStoreSlice } from "../lib/store";
import { toast } from "../lib/toast";
import { can } from "../state/auth";
import { useEditor } from "../state/context";
import { diffDefinitions, isEmptyDiff, type FlowDiff } from "../state/diff";

const CANVAS = -1;

export function RevisionsPanel({ onClose }: { onClose: () => void }) {
  const editor = useEditor();
  const flow = useStoreSlice(editor.store, (s) => s.flow);
  const [revisions, setRevisions] = useState<RevisionAuthor[] | null>(null);
  const [picked, setPicked] = useState<number[]>([]);
  const [diff, setDiff] = useState<{ a: number; b: number; diff: FlowDiff } | null>(null);
  const flowSid = flow?.sid;

  const load = useCallback(() => {
    if (!flowSid) return;
    listRevisionAuthors(flowSid)
      .then((list) => setRevisions([...list].sort((x, y) => y.revision - x.revision)))
      .catch((e: Error) => toast(e.message, "error"));
  }, [flowSid]);
  useEffect(load, [load, flow?.revision]);

  const definitionOf = async (rev: number): Promise<FlowDefinition> => {
    if (rev === CANVAS) return editor.definition();
    const r = await fetchRevision(flow!.sid, rev);
    if (!r.definition) throw new Error(`Revision ${rev} has no definition`);
    return r.definition;
  };

  const toggle = (rev: number) =>
    setPicked((p) => (p.includes(rev) ? p.filter((x) => x !== rev) : [...p, rev].slice(-2)));

  const compare = async () => {
    const [x, y] = [...picked].sort((m, n) => (m === CANVAS ? 1 : n === CANVAS ? -1 : m - n));
    try {
      const [da, db] = await Promise.all([definitionOf(x), definitionOf(y)]);
      setDiff({ a: x, b: y, diff: diffDefinitions(da, db) });
    } catch (e) {
      toast((e as Error).message, "error");
    }
  };

  const restore = async (rev: number) => {
    if (editor.state.dirty && !window.confirm(`Discard your unsaved changes and restore revision ${rev}?`)) return;
    try {
      const restored = await restoreRevision(flow!.sid, rev);
      editor.load(restored);
      toast(`Restored revision ${rev} as draft revision ${restored.revision}`, "success", 7000);
    } catch (e) {
      toast((e as Error).message, "error");
    }
  };

  const authorOf = (rev: number) => revisions?.find((r) => r.revision === rev)?.author;
  const label = (rev: number) => {
    if (rev === CANVAS) return "the canvas";
    const by = authorOf(rev);
    return by ? `revision ${rev} (by ${by})` : `revision ${rev}`;
  };

  return (
    <aside className="side-panel" aria-label="Revisions">
      <div className="panel-head">
        <h3>Revisions</h3>
        <button type="button" className="icon-btn" aria-label="Close" onClick={onClose}>
          ×
        </button>
      </div>
      <p className="muted small">Tick two revisions (or one and the canvas) to compare them.</p>
      <div className="rev-list">
        <label className="rev-item canvas-item">
          <input type="checkbox" checked={picked.includes(CANVAS)} onChange={() => toggle(CANVAS)} />
          <div>
            <strong>Canvas</strong> <span className="muted">(what you are editing)</span>
          </div>
        </label>
        {revisions === null && <div className="muted">Loading…</div>}
        {revisions?.map((r) => (
          <div className="rev-item" key={r.revision} data-revision={r.revision}>
            <input
              type="checkbox"
              aria-label={`Select revision ${r.revision}`}
              checked={picked.includes(r.revision)}
              onChange={() => toggle(r.revision)}
            />
            <div className="rev-main">
              <div>
                <strong>Revision {r.revision}</strong>{" "}
                <span className={`status-badge ${r.status}`}>{r.status}</span>
              </div>
              <div className="rev-msg">{r.commit_message || <span className="muted">No commit message</span>}</div>
              <div className="muted small">
                <span className="rev-author">{r.author ?? "unknown"}</span> · {new Date(r.date_created).toLocaleString()}
              </div>
            </div>
            {can("editor") && (
              <button type="button" className="btn small" onClick={() => void restore(r.revision)}>
                Restore
              </button>
            )}
          </div>
        ))}
      </div>
      <button type="button" className="btn" disabled={picked.length !== 2} onClick={() => void compare()}>
        Compare
      </button>
      {diff && (
        <div className="diff" aria-label="Revision differences">
          <h4>
            From {label(diff.a)} to {label(diff.b)}
          </h4>
          {isEmptyDiff(diff.diff) && <div className="muted">No differences.</div>}
          {diff.diff.added.map((n) => (
            <div className="diff-line added" key={`a${n}`}>+ {n} added</div>
          ))}
          {diff.diff.removed.map((n) => (
            <div className="diff-line removed" key={`r${n}`}>− {n} removed</div>
          ))}
          {diff.diff.changed.map((c) => (
            <div className="diff-line changed" key={`c${c.name}`}>
              ~ {c.name} changed: {c.fields.join(", ")}
            </div>
          ))}
          {diff.diff.rewired.map((r) => (
            <div className="diff-line rewired" key={`w${r.name}${r.transition}`}>
              ⇄ {r.name} · {r.transition}: {r.before} → {r.after}
            </div>
          ))}
          {diff.diff.moved.length > 0 && (
            <div className="diff-line muted">Moved on the canvas: {diff.diff.moved.join(", ")}</div>
          )}
          {diff.diff.settings.length > 0 && (
            <div className="diff-line changed">~ flow settings: {diff.diff.settings.join(", ")}</div>
          )}
        </div>
      )}
    </aside>
  );
}
