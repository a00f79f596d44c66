// All flows: create, rename, delete, import a Studio export, export one.

import { useCallback, useEffect, useState } from "react";
import { createFlow, deleteFlow, fetchFlow, listFlows, updateFlow } from "../api/studio";
import type { Flow, FlowDefinition } from "../api/types";
import { downloadJson, safeFileName } from "../lib/download";
import { toast } from "../lib/toast";
import { can, roleNeeded } from "../state/auth";
import { emptyDefinition } from "../state/graph";
import { AppHeader } from "./AppHeader";
import { Modal } from "./Modal";

type Dialog = { kind: "create" } | { kind: "import" } | { kind: "rename"; flow: Flow } | { kind: "delete"; flow: Flow } | null;

export function FlowList({ onLogout }: { onLogout: () => void }) {
  const [flows, setFlows] = useState<Flow[] | null>(null);
  const [dialog, setDialog] = useState<Dialog>(null);

  const load = useCallback(() => {
    listFlows()
      .then((list) => setFlows(list))
      .catch((e: Error) => toast(e.message, "error"));
  }, []);
  useEffect(load, [load]);

  const exportFlow = async (flow: Flow) => {
    try {
      const full = await fetchFlow(flow.sid);
      downloadJson(`${safeFileName(flow.friendly_name)}.json`, full.definition);
    } catch (e) {
      toast((e as Error).message, "error");
    }
  };

  return (
    <div className="flows-page">
      <AppHeader onLogout={onLogout} here="flows" />
      <main className="flows-main">
        <div className="flows-head">
          <h1>Flows</h1>
          <div className="spacer" />
          {can("editor") && (
            <>
              <button type="button" className="btn" onClick={() => setDialog({ kind: "import" })}>
                Import from JSON
              </button>
              <button type="button" className="btn primary" onClick={() => setDialog({ kind: "create" })}>
                + Create new flow
              </button>
            </>
          )}
        </div>
        {flows === null ? (
          <div className="muted">Loading…</div>
        ) : flows.length === 0 ? (
          <div className="empty-state">No flows yet. Create one, or import a flow exported from Studio.</div>
        ) : (
          <table className="flows-table">
            <thead>
              <tr>
                <th>Name</th>
                <th>SID</th>
                <th>Status</th>
                <th>Revision</th>
                <th>Updated</th>
                <th />
              </tr>
            </thead>
            <tbody>
              {flows.map((f) => (
                <tr key={f.sid} data-sid={f.sid}>
                  <td>
                    <a href={`#/flows/${f.sid}`} className="flow-link">
                      {f.friendly_name}
                    </a>
                  </td>
                  <td className="mono small">{f.sid}</td>
                  <td>
                    <span className={`status-badge ${f.status}`}>{f.status}</span>
                  </td>
                  <td>{f.revision}</td>
                  <td className="small">{new Date(f.date_updated ?? f.date_created).toLocaleString()}</td>
                  <td className="row-actions">
                    {can("editor") && (
                      <button type="button" className="link-btn" onClick={() => setDialog({ kind: "rename", flow: f })}>
                        Rename
                      </button>
                    )}
                    <button type="button" className="link-btn" onClick={() => void exportFlow(f)}>
                      Export
                    </button>
                    <button
                      type="button"
                      className="link-btn danger"
                      disabled={!can("admin")}
                      title={can("admin") ? undefined : roleNeeded("admin")}
                      onClick={() => setDialog({ kind: "delete", flow: f })}
                    >
                      Delete
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </main>
      {dialog?.kind === "create" && <CreateDialog onClose={() => setDialog(null)} />}
      {dialog?.kind === "import" && <ImportDialog onClose={() => setDialog(null)} />}
      {dialog?.kind === "rename" && (
        <RenameDialog flow={dialog.flow} onClose={() => setDialog(null)} onDone={load} />
      )}
      {dialog?.kind === "delete" && (
        <Modal
          title="Delete flow"
          onClose={() => setDialog(null)}
          actions={
            <>
              <button type="button" className="btn" onClick={() => setDialog(null)}>
                Cancel
              </button>
              <button
                type="button"
                className="btn danger"
                onClick={() =>
                  deleteFlow(dialog.flow.sid)
                    .then(() => {
                      toast(`Deleted ${dialog.flow.friendly_name}`, "success");
                      setDialog(null);
                      load();
                    })
                    .catch((e: Error) => toast(e.message, "error"))
                }
              >
                Delete
              </button>
            </>
          }
        >
          <p>
            Delete <strong>{dialog.flow.friendly_name}</strong> with all its revisions and executions? This cannot be undone.
          </p>
        </Modal>
      )}
    </div>
  );
}

function CreateDialog({ onClose }: { onClose: () => void }) {
  const [name, setName] = useState("");
  const create = () =>
    createFlow(name.trim(), emptyDefinition(name.trim()), "Created")
      .then((f) => (window.location.hash = `#/flows/${f.sid}`))
      .catch((e: Error) => toast(e.message, "error"));
  return (
    <Modal
      title="Create new flow"
      onClose={onClose}
      actions={
        <button type="button" className="btn primary" disabled={!name.trim()} onClick={() => void create()}>
          Create
        </button>
      }
    >
      <label htmlFor="new-flow-name">Flow name</label>
      <input id="new-flow-name" autoFocus value={name} onChange={(e) => setName(e.target.value)} onKeyDown={(e) => e.key === "Enter" && name.trim() && void create()} />
    </Modal>
  );
}

/** Parses a Studio export (the definition itself, or a Flow resource holding one). */
export function parseImport(text: string): FlowDefinition {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (e) {
    throw new Error(`Not valid JSON: ${(e as Error).message}`);
  }
  const obj = data as Record<string, unknown>;
  const def = (obj && typeof obj === "object" && "definition" in obj ? obj.definition : obj) as FlowDefinition;
  if (!def || typeof def !== "object" || !Array.isArray(def.states))
    throw new Error('This is not a Studio flow export: it has no "states" list.');
  if (typeof def.initial_state !== "string") throw new Error('This flow export has no "initial_state".');
  return def;
}

function ImportDialog({ onClose }: { onClose: () => void }) {
  const [name, setName] = useState("");
  const [text, setText] = useState("");
  const [error, setError] = useState("");
  const onFile = async (file: File | undefined) => {
    if (!file) return;
    setText(await file.text());
    if (!name) setName(file.name.replace(/\.json$/i, ""));
  };
  const submit = async () => {
    setError("");
    try {
      const def = parseImport(text);
      const flow = await createFlow(name.trim() || def.description || "Imported flow", def, "Imported from JSON");
      window.location.hash = `#/flows/${flow.sid}`;
    } catch (e) {
      const err = e as Error & { validationErrors?: { property_path: string; message: string }[] };
      const extra = err.validationErrors?.length
        ? `: ${err.validationErrors.slice(0, 5).map((v) => `${v.property_path} ${v.message}`).join("; ")}`
        : "";
      setError(err.message + extra);
    }
  };
  return (
    <Modal
      title="Import a Studio flow"
      wide
      onClose={onClose}
      actions={
        <button type="button" className="btn primary" disabled={!text.trim()} onClick={() => void submit()}>
          Import
        </button>
      }
    >
      <label htmlFor="import-name">Flow name</label>
      <input id="import-name" value={name} onChange={(e) => setName(e.target.value)} placeholder="Taken from the file when empty" />
      <label htmlFor="import-file">JSON file</label>
      <input id="import-file" type="file" accept=".json,application/json" onChange={(e) => void onFile(e.target.files?.[0])} />
      <label htmlFor="import-text">…or paste the flow's JSON</label>
      <textarea id="import-text" rows={12} className="mono" value={text} onChange={(e) => setText(e.target.value)} placeholder='{"description": "…", "states": [...], "initial_state": "Trigger", "flags": {...}}' />
      {error && <div className="error-text" role="alert">{error}</div>}
    </Modal>
  );
}

function RenameDialog({ flow, onClose, onDone }: { flow: Flow; onClose: () => void; onDone: () => void }) {
  const [name, setName] = useState(flow.friendly_name);
  const submit = () =>
    updateFlow(flow.sid, { status: flow.status, name: name.trim() })
      .then(() => {
        onClose();
        onDone();
      })
      .catch((e: Error) => toast(e.message, "error"));
  return (
    <Modal
      title="Rename flow"
      onClose={onClose}
      actions={
        <button type="button" className="btn primary" disabled={!name.trim()} onClick={() => void submit()}>
          Rename
        </button>
      }
    >
      <label htmlFor="rename-flow">Flow name</label>
      <input id="rename-flow" autoFocus value={name} onChange={(e) => setName(e.target.value)} onKeyDown={(e) => e.key === "Enter" && void submit()} />
    </Modal>
  );
}
