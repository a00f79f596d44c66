// The editor's top bar: flow name, status, undo/redo, Save, Publish and the panels.

import { useState } from "react";
import { updateFlow } from "../api/studio";
import { downloadJson, safeFileName } from "../lib/download";
import { useStoreSlice } from "../lib/store";
import { toast } from "../lib/toast";
import { save, checkWithServer, type SaveResult } from "../state/actions";
import { can, roleNeeded } from "../state/auth";
import { useEditor } from "../state/context";
import { countClientErrors } from "../state/validate";
import { Modal } from "./Modal";

export type Panel = "revisions" | "executions" | "simulator" | "tests" | null;

type Dialog =
  | { kind: "save" | "publish" }
  | { kind: "conflict"; status: "draft" | "published"; message: string; latest: number }
  | null;

export function TopBar({ panel, setPanel }: { panel: Panel; setPanel: (p: Panel) => void }) {
  const editor = useEditor();
  const name = useStoreSlice(editor.store, (s) => s.name);
  const flow = useStoreSlice(editor.store, (s) => s.flow);
  const dirty = useStoreSlice(editor.store, (s) => s.dirty);
  const canUndo = useStoreSlice(editor.store, (s) => s.past.length > 0);
  const canRedo = useStoreSlice(editor.store, (s) => s.future.length > 0);
  const clientErrors = useStoreSlice(editor.store, (s) => countClientErrors(s.nodes, editor.schemas));
  const serverErrors = useStoreSlice(editor.store, (s) =>
    Object.values(s.serverErrors).reduce((c, f) => c + Object.keys(f).length, 0),
  );
  const [dialog, setDialog] = useState<Dialog>(null);
  const [message, setMessage] = useState("");
  const [busy, setBusy] = useState(false);
  const errors = clientErrors + serverErrors;

  const report = (res: SaveResult, status: "draft" | "published", msg: string) => {
    if (res.ok) {
      toast(status === "published" ? `Published revision ${res.flow.revision}` : `Saved revision ${res.flow.revision}`, "success");
      setDialog(null);
      setMessage("");
    } else if (res.reason === "conflict") {
      setDialog({ kind: "conflict", status, message: msg, latest: res.latest.revision });
    } else if (res.reason === "invalid") {
      setDialog(null);
      toast(`The flow has ${res.count} validation error${res.count === 1 ? "" : "s"}; fix ${res.count === 1 ? "it" : "them"} first (see the widgets marked in red).`, "error", 8000);
    } else {
      toast(res.message, "error", 8000);
    }
  };

  const run = async (status: "draft" | "published", force = false) => {
    setBusy(true);
    try {
      report(await save(editor, { status, commitMessage: message, force }), status, message);
    } finally {
      setBusy(false);
    }
  };

  const rename = async (newName: string) => {
    const trimmed = newName.trim();
    if (!flow || !trimmed || trimmed === flow.friendly_name || !can("editor")) return;
    editor.store.set({ name: trimmed });
    try {
      const updated = await updateFlow(flow.sid, { status: flow.status, name: trimmed });
      editor.store.set({ flow: { ...flow, friendly_name: updated.friendly_name } });
      toast("Flow renamed", "success");
    } catch (e) {
      toast(`Rename failed: ${(e as Error).message}`, "error");
    }
  };

  const toggle = (p: Exclude<Panel, null>) => setPanel(panel === p ? null : p);

  return (
    <header className="topbar">
      <a className="back" href="#/" title="All flows">
        ← Flows
      </a>
      <input
        className="flow-name"
        aria-label="Flow name"
        readOnly={!can("editor")}
        defaultValue={name}
        key={flow?.sid}
        onBlur={(e) => void rename(e.target.value)}
        onKeyDown={(e) => e.key === "Enter" && (e.target as HTMLInputElement).blur()}
      />
      <span className={`status-badge ${flow?.status}`}>{flow?.status === "published" ? "Published" : "Draft"}</span>
      <span className="rev">rev {flow?.revision}</span>
      {dirty && <span className="unsaved">Unsaved changes</span>}
      {errors > 0 && (
        <span className="error-count" title="Validation errors">
          {errors} error{errors === 1 ? "" : "s"}
        </span>
      )}
      <div className="spacer" />
      <button type="button" className="tb" title="Undo (Ctrl+Z)" disabled={!canUndo} onClick={() => editor.undo()}>
        ↶
      </button>
      <button type="button" className="tb" title="Redo (Ctrl+Shift+Z)" disabled={!canRedo} onClick={() => editor.redo()}>
        ↷
      </button>
      <button type="button" className="tb" title="Arrange widgets automatically" onClick={() => editor.layout()}>
        Auto-layout
      </button>
      <button
        type="button"
        className="tb"
        title="Ask the server to validate the flow"
        onClick={() =>
          checkWithServer(editor)
            .then((n) => toast(n ? `${n} validation error${n === 1 ? "" : "s"}` : "The flow is valid", n ? "error" : "success"))
            .catch((e: Error) => toast(e.message, "error"))
        }
      >
        Check
      </button>
      <button
        type="button"
        className="tb"
        title="Download the flow as Studio JSON"
        onClick={() => downloadJson(`${safeFileName(name)}.json`, editor.definition())}
      >
        Export
      </button>
      <span className="sep" />
      <button type="button" className={`tb${panel === "revisions" ? " on" : ""}`} onClick={() => toggle("revisions")}>
        Revisions
      </button>
      <button type="button" className={`tb${panel === "executions" ? " on" : ""}`} onClick={() => toggle("executions")}>
        Executions
      </button>
      <button
        type="button"
        className={`tb${panel === "simulator" ? " on" : ""}`}
        disabled={!can("editor")}
        title={can("editor") ? undefined : roleNeeded("editor")}
        onClick={() => toggle("simulator")}
      >
        Simulator
      </button>
      <button type="button" className={`tb${panel === "tests" ? " on" : ""}`} onClick={() => toggle("tests")}>
        Tests
      </button>
      <span className="sep" />
      <button
        type="button"
        className="btn"
        disabled={busy || !can("editor")}
        title={can("editor") ? "Save a draft revision" : roleNeeded("editor")}
        onClick={() => setDialog({ kind: "save" })}
      >
        Save
      </button>
      <button
        type="button"
        className="btn primary"
        disabled={busy || errors > 0 || !can("admin")}
        title={
          !can("admin")
            ? roleNeeded("admin")
            : errors > 0
              ? "Fix the validation errors before publishing"
              : "Make this flow live"
        }
        onClick={() => setDialog({ kind: "publish" })}
      >
        Publish
      </button>

      {(dialog?.kind === "save" || dialog?.kind === "publish") && (
        <Modal
          title={dialog.kind === "save" ? "Save draft" : "Publish flow"}
          onClose={() => setDialog(null)}
          actions={
            <>
              <button type="button" className="btn" onClick={() => setDialog(null)}>
                Cancel
              </button>
              <button
                type="button"
                className="btn primary"
                disabled={busy}
                onClick={() => void run(dialog.kind === "save" ? "draft" : "published")}
              >
                {dialog.kind === "save" ? "Save" : "Publish"}
              </button>
            </>
          }
        >
          <p className="muted">
            {dialog.kind === "save"
              ? "Saving creates a new draft revision. The published revision keeps running."
              : "Publishing makes the canvas the live revision of this flow."}
          </p>
          <label htmlFor="commit-message">Commit message</label>
          <textarea
            id="commit-message"
            rows={3}
            autoFocus
            value={message}
            placeholder="What changed?"
            onChange={(e) => setMessage(e.target.value)}
          />
        </Modal>
      )}
      {dialog?.kind === "conflict" && (
        <Modal
          title="This flow changed on the server"
          onClose={() => setDialog(null)}
          actions={
            <>
              <button type="button" className="btn" onClick={() => setDialog(null)}>
                Cancel
              </button>
              <button type="button" className="btn danger" onClick={() => void run(dialog.status, true)}>
                Overwrite revision {dialog.latest}
              </button>
            </>
          }
        >
          <p role="alert">
            Revision {dialog.latest} was saved after revision {editor.state.baseRevision}, the one you are editing.
            Saving now would replace its changes with yours.
          </p>
          <p className="muted">Cancel to keep your work on the canvas (you can compare revisions in the Revisions panel).</p>
        </Modal>
      )}
    </header>
  );
}
