// Executions of the flow: filter, open one to see its path and step timeline.

import { useCallback, useEffect, useState } from "react";
import { fetchExecution, fetchExecutionContext, fetchStepContext, listExecutions, listSteps, type ExecutionFilter } from "../api/studio";
import type { Execution, Step } from "../api/types";
import { useStoreSlice } from "../lib/store";
import { toast } from "../lib/toast";
import { useEditor } from "../state/context";
import { pathHighlight } from "../state/path";
import { JsonViewer } from "./JsonViewer";

export function ExecutionsPanel({ onClose }: { onClose: () => void }) {
  const editor = useEditor();
  const flow = useStoreSlice(editor.store, (s) => s.flow);
  const [filter, setFilter] = useState<ExecutionFilter>({ status: "" });
  const [items, setItems] = useState<Execution[] | null>(null);
  const [open, setOpen] = useState<string | null>(null);

  const load = useCallback(() => {
    if (!flow) return;
    setItems(null);
    listExecutions(flow.sid, filter)
      .then((p) => setItems(p.items))
      .catch((e: Error) => {
        toast(e.message, "error");
        setItems([]);
      });
  }, [flow, filter]);

  useEffect(load, [load]);
  useEffect(() => () => editor.setHighlight(null), [editor]);

  if (open && flow)
    return (
      <aside className="side-panel" aria-label="Execution">
        <ExecutionDetail flowSid={flow.sid} sid={open} onBack={() => { setOpen(null); editor.setHighlight(null); }} />
      </aside>
    );

  return (
    <aside className="side-panel" aria-label="Executions">
      <div className="panel-head">
        <h3>Executions</h3>
        <button type="button" className="icon-btn" aria-label="Close" onClick={onClose}>
          ×
        </button>
      </div>
      <div className="filters">
        <label>
          Status
          <select
            aria-label="Status filter"
            value={filter.status}
            onChange={(e) => setFilter({ ...filter, status: e.target.value as ExecutionFilter["status"] })}
          >
            <option value="">All</option>
            <option value="active">Active</option>
            <option value="ended">Ended</option>
          </select>
        </label>
        <label>
          From
          <input type="date" aria-label="Created from" value={filter.from ?? ""} onChange={(e) => setFilter({ ...filter, from: e.target.value })} />
        </label>
        <label>
          Before
          <input type="date" aria-label="Created before" value={filter.to ?? ""} onChange={(e) => setFilter({ ...filter, to: e.target.value })} />
        </label>
        <button type="button" className="btn small" onClick={load}>
          Refresh
        </button>
      </div>
      <div className="exec-list">
        {items === null && <div className="muted">Loading…</div>}
        {items?.length === 0 && <div className="muted">No executions match.</div>}
        {items?.map((x) => (
          <button type="button" className="exec-item" key={x.sid} data-sid={x.sid} onClick={() => setOpen(x.sid)}>
            <span className={`dot ${x.status}`} />
            <span className="exec-main">
              <span className="mono">{x.sid}</span>
              <span className="muted small">
                {x.contact_channel_address} · {new Date(x.date_created).toLocaleString()}
              </span>
            </span>
            <span className={`status-badge ${x.status}`}>{x.status}</span>
          </button>
        ))}
      </div>
    </aside>
  );
}

function ExecutionDetail({ flowSid, sid, onBack }: { flowSid: string; sid: string; onBack: () => void }) {
  const editor = useEditor();
  const [execution, setExecution] = useState<Execution | null>(null);
  const [steps, setSteps] = useState<Step[] | null>(null);
  const [context, setContext] = useState<unknown>(undefined);

  useEffect(() => {
    let cancelled = false;
    Promise.all([fetchExecution(flowSid, sid), listSteps(flowSid, sid)])
      .then(([x, st]) => {
        if (cancelled) return;
        const ordered = [...st].sort((a, b) => a.date_created.localeCompare(b.date_created) || 0);
        setExecution(x);
        setSteps(ordered);
        const s = editor.state;
        editor.setHighlight(pathHighlight(ordered, s.nodes, s.edges, x.status === "active"));
      })
      .catch((e: Error) => toast(e.message, "error"));
    return () => {
      cancelled = true;
    };
  }, [flowSid, sid, editor]);

  return (
    <>
      <div className="panel-head">
        <button type="button" className="link-btn" onClick={onBack}>
          ← Executions
        </button>
      </div>
      <h3 className="mono small">{sid}</h3>
      {execution && (
        <div className="exec-meta">
          <span className={`status-badge ${execution.status}`}>{execution.status}</span>
          <span className="muted small">
            {execution.contact_channel_address} · {new Date(execution.date_created).toLocaleString()}
          </span>
        </div>
      )}
      <h4>Steps</h4>
      {steps === null && <div className="muted">Loading…</div>}
      <ol className="timeline" aria-label="Step timeline">
        {steps?.map((step) => (
          <StepRow key={step.sid} flowSid={flowSid} step={step} />
        ))}
      </ol>
      <details
        className="exec-context"
        onToggle={(e) => {
          if ((e.target as HTMLDetailsElement).open && context === undefined)
            fetchExecutionContext(flowSid, sid)
              .then((c) => setContext(c.context))
              .catch((err: Error) => setContext({ error: err.message }));
        }}
      >
        <summary>Execution context</summary>
        {context !== undefined && <JsonViewer value={context} open={2} />}
      </details>
    </>
  );
}

function StepRow({ flowSid, step }: { flowSid: string; step: Step }) {
  const editor = useEditor();
  const [context, setContext] = useState<unknown>(step.context);
  const [open, setOpen] = useState(false);
  const expand = () => {
    setOpen(!open);
    if (context === undefined)
      fetchStepContext(flowSid, step.execution_sid, step.sid)
        .then((c) => setContext(c.context))
        .catch((e: Error) => setContext({ error: e.message }));
  };
  return (
    <li className="step" data-step={step.transitioned_from}>
      <button type="button" className="step-head" aria-expanded={open} onClick={expand}>
        <span className="step-from" onClick={(e) => { e.stopPropagation(); editor.selectOnly(step.transitioned_from); }}>
          {step.transitioned_from}
        </span>
        <span className="step-event">{step.name}</span>
        <span className="step-to">→ {step.transitioned_to}</span>
        <span className="muted small step-time">{new Date(step.date_created).toLocaleTimeString()}</span>
      </button>
      {open && <div className="step-context">{context === undefined ? "Loading…" : <JsonViewer value={context} />}</div>}
    </li>
  );
}
