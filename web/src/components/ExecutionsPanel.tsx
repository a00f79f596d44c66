// Executions of the flow: filter, open one to see its path and step timeline. Both update
// live from the flow's event stream (polling every second while the stream is down).

import { useCallback, useEffect, useRef, useState } from "react";
import { fetchExecution, fetchExecutionContext, fetchStepContext, listExecutions, listSteps, type ExecutionFilter } from "../api/studio";
import type { Execution, Step } from "../api/types";
import { useStoreSlice } from "../lib/store";
import { toast } from "../lib/toast";
import { useEditor } from "../state/context";
import { EXECUTION_ENDED, EXECUTION_STARTED, STEP_ENDED, liveLabel, useFlowEvents, usePollingFallback, type LiveStatus } from "../state/live";
import { pathHighlight } from "../state/path";
import { executionFromEvent, matchesFilter, mergeSteps, stepFromEvent, withStep } from "../state/trace";
import { JsonViewer } from "./JsonViewer";

export function LiveBadge({ status }: { status: LiveStatus }) {
  const label = liveLabel(status);
  if (!label) return null;
  return (
    <span className={`live-badge ${status}`} data-status={status} title="Updates from the flow's event stream">
      {label}
    </span>
  );
}

/** `list` (newest first) after an execution started or ended (as the filter allows). */
function applyLive(list: Execution[], x: Execution, started: boolean, filter: ExecutionFilter): Execution[] {
  const at = list.findIndex((i) => i.sid === x.sid);
  const ok = matchesFilter(x, filter);
  if (at >= 0) {
    if (!ok) return list.filter((i) => i.sid !== x.sid);
    if (started) return list;
    const merged = { ...list[at], status: x.status, date_updated: x.date_updated ?? list[at].date_updated };
    return list.map((i, n) => (n === at ? merged : i));
  }
  return ok && started ? [x, ...list] : list;
}

export function ExecutionsPanel({ onClose }: { onClose: () => void }) {
  const editor = useEditor();
  const flow = useStoreSlice(editor.store, (s) => s.flow);
  const [filter, setFilter] = useState<ExecutionFilter>({ status: "" });
  const [items, setItems] = useState<Execution[] | null>(null);
  const [fresh, setFresh] = useState<Set<string>>(new Set());
  const [open, setOpen] = useState<string | null>(null);
  const filterRef = useRef(filter);
  filterRef.current = filter;

  // Executions from events, so a list fetched while they arrive can be brought up to date.
  const liveLog = useRef<{ seq: number; x: Execution; started: boolean }[]>([]);
  const liveSeq = useRef(0);

  const load = useCallback(
    (quiet = false) => {
      if (!flow) return;
      if (!quiet) setItems(null);
      const asked = filterRef.current;
      const mark = liveSeq.current;
      listExecutions(flow.sid, asked)
        .then((p) => {
          if (filterRef.current !== asked) return;
          let list = p.items;
          for (const e of liveLog.current) if (e.seq >= mark) list = applyLive(list, e.x, e.started, asked);
          setItems(list);
        })
        .catch((e: Error) => {
          if (quiet) return;
          toast(e.message, "error");
          setItems([]);
        });
    },
    [flow],
  );

  useEffect(() => load(), [load, filter]);
  useEffect(() => () => editor.setHighlight(null), [editor]);

  const status = useFlowEvents({
    onResync: () => load(true),
    onEvent: (ev) => {
      if (ev.type !== EXECUTION_STARTED && ev.type !== EXECUTION_ENDED) return;
      const x = executionFromEvent(ev);
      if (!x) return;
      const started = ev.type === EXECUTION_STARTED;
      liveLog.current.push({ seq: liveSeq.current++, x, started });
      if (liveLog.current.length > 500) liveLog.current = liveLog.current.slice(-250);
      setItems((list) => (list ? applyLive(list, x, started, filterRef.current) : list));
      if (ev.type === EXECUTION_STARTED) setFresh((f) => new Set(f).add(x.sid));
    },
  });
  usePollingFallback(status, !open, () => load(true));

  if (open && flow)
    return (
      <aside className="side-panel" aria-label="Execution">
        <ExecutionDetail flowSid={flow.sid} sid={open} status={status} onBack={() => { setOpen(null); editor.setHighlight(null); }} />
      </aside>
    );

  return (
    <aside className="side-panel" aria-label="Executions">
      <div className="panel-head">
        <h3>Executions</h3>
        <LiveBadge status={status} />
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
        <button type="button" className="btn small" onClick={() => load()}>
          Refresh
        </button>
      </div>
      <div className="exec-list">
        {items === null && <div className="muted">Loading…</div>}
        {items?.length === 0 && <div className="muted">No executions match.</div>}
        {items?.map((x) => (
          <button
            type="button"
            className={`exec-item${fresh.has(x.sid) ? " fresh" : ""}`}
            key={x.sid}
            data-sid={x.sid}
            data-status={x.status}
            onClick={() => setOpen(x.sid)}
          >
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

function ExecutionDetail({ flowSid, sid, status, onBack }: { flowSid: string; sid: string; status: LiveStatus; onBack: () => void }) {
  const editor = useEditor();
  const [execution, setExecution] = useState<Execution | null>(null);
  const [steps, setSteps] = useState<Step[] | null>(null);
  const [context, setContext] = useState<unknown>(undefined);
  const stepsRef = useRef<Step[]>([]);
  const [fresh, setFresh] = useState<Set<string>>(new Set());

  const load = useCallback(() => {
    let cancelled = false;
    Promise.all([fetchExecution(flowSid, sid), listSteps(flowSid, sid)])
      .then(([x, st]) => {
        if (cancelled) return;
        setExecution((old) => (old?.status === "ended" ? { ...x, status: "ended" } : x));
        setSteps(mergeSteps(st, stepsRef.current));
      })
      .catch((e: Error) => toast(e.message, "error"));
    return () => {
      cancelled = true;
    };
  }, [flowSid, sid]);
  useEffect(load, [load]);

  useEffect(() => {
    stepsRef.current = steps ?? [];
    if (!steps || !execution) return;
    const s = editor.state;
    editor.setHighlight(pathHighlight(steps, s.nodes, s.edges, execution.status === "active"));
  }, [steps, execution, editor]);

  useFlowEvents({
    onResync: () => void load(),
    onEvent: (ev) => {
      if (ev.data.execution_sid !== sid) return;
      if (ev.type === STEP_ENDED) {
        const step = stepFromEvent(ev);
        if (!step) return;
        setSteps((list) => (list ? withStep(list, step) : list));
        setFresh((f) => new Set(f).add(step.sid));
      } else if (ev.type === EXECUTION_ENDED) {
        setExecution((x) => (x ? { ...x, status: "ended" } : x));
        setContext(undefined);
      }
    },
  });
  usePollingFallback(status, execution?.status === "active", () => void load());

  return (
    <>
      <div className="panel-head">
        <button type="button" className="link-btn" onClick={onBack}>
          ← Executions
        </button>
        <LiveBadge status={status} />
      </div>
      <h3 className="mono small">{sid}</h3>
      {execution && (
        <div className="exec-meta">
          <span className={`status-badge ${execution.status}`} data-testid="execution-status">
            {execution.status}
          </span>
          <span className="muted small">
            {execution.contact_channel_address} · {new Date(execution.date_created).toLocaleString()}
          </span>
        </div>
      )}
      <h4>Steps</h4>
      {steps === null && <div className="muted">Loading…</div>}
      <ol className="timeline" aria-label="Step timeline">
        {steps?.map((step) => (
          <StepRow key={step.sid} flowSid={flowSid} step={step} fresh={fresh.has(step.sid)} />
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

function StepRow({ flowSid, step, fresh }: { flowSid: string; step: Step; fresh: boolean }) {
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
  // A step a subflow ran carries its Run Subflow step's SID (parent_step_sid): it is
  // indented and tagged, and its widget belongs to the subflow, not to this canvas.
  const inSubflow = !!step.parent_step_sid;
  return (
    <li
      className={`step${inSubflow ? " subflow-step" : ""}${fresh ? " fresh" : ""}`}
      data-step={step.transitioned_from}
      data-sid={step.sid}
      data-parent-step={step.parent_step_sid ?? undefined}
    >
      <button type="button" className="step-head" aria-expanded={open} onClick={expand}>
        {inSubflow && (
          <span className="subflow-tag" title={`Run by a subflow, under step ${step.parent_step_sid}`}>
            subflow
          </span>
        )}
        <span
          className="step-from"
          onClick={(e) => {
            if (inSubflow) return;
            e.stopPropagation();
            editor.selectOnly(step.transitioned_from);
          }}
        >
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
