// The editor's document state: the graph, undo/redo history, dirty flag, server errors
// and the execution highlight. React Flow is controlled from here.

import {
  applyEdgeChanges,
  applyNodeChanges,
  type Connection,
  type EdgeChange,
  type NodeChange,
} from "@xyflow/react";
import type { Flow, FlowDefinition, WidgetSchema } from "../api/types";
import { createStore, type Store } from "../lib/store";
import { uid } from "../lib/uid";
import {
  makeEdge,
  toDefinition,
  toGraph,
  type FlowEdge,
  type FlowMeta,
  type SchemaMap,
  type Slot,
  type WidgetData,
  type WidgetNode,
} from "./graph";
import { estimatedGeometry, withoutEstimates } from "./geometry";
import { autoLayout } from "./layout";
import { mapServerErrors, type FieldErrors } from "./validate";
import { issuesOf } from "./issues";
import { renameReferences } from "./references";

const NAME_RE = /^[A-Za-z][A-Za-z0-9_-]*$/;

interface Snapshot {
  nodes: WidgetNode[];
  edges: FlowEdge[];
  meta: FlowMeta;
}

export interface Highlight {
  visited: Set<string>; // widget names on the execution's path
  edges: Set<string>; // edge ids taken
  active: string | null; // widget the execution is at
  uncovered?: Set<string>; // edge ids no flow test took (the Tests panel)
}

export interface EditorState {
  flow: Flow | null;
  baseRevision: number;
  name: string;
  nodes: WidgetNode[];
  edges: FlowEdge[];
  meta: FlowMeta;
  past: Snapshot[];
  future: Snapshot[];
  dirty: boolean;
  serverErrors: Record<string, FieldErrors>;
  highlight: Highlight | null;
}

const HISTORY_LIMIT = 200;
const NAME_PREFIX: Record<string, string> = {
  "split-based-on": "split",
  "set-variables": "set_variables",
  "send-message": "send_message",
  "send-and-wait-for-reply": "send_and_reply",
  "say-play": "say_play",
  "gather-input-on-call": "gather",
  "connect-call-to": "connect_call",
  "make-outgoing-call-v2": "call_user",
  "record-voicemail": "record_voicemail",
  "record-call": "call_recording",
  "enqueue-call": "enqueue",
  "send-to-flex": "send_to_flex",
  "run-function": "function",
  "make-http-request": "http",
  "add-twiml-redirect": "redirect",
  "run-subflow": "subflow",
  "capture-payments": "pay",
  "fork-stream": "stream",
};

export class Editor {
  readonly store: Store<EditorState>;
  schemas: SchemaMap;
  private lastKey = "";
  private lastAt = 0;
  /** The widget being renamed and the name its references use now (see rename()). */
  private renaming: { id: string; origin: string | null; refs: string | null; session: number } | null = null;
  private renameSessions = 0;

  constructor(schemas: SchemaMap) {
    this.schemas = schemas;
    this.store = createStore<EditorState>({
      flow: null,
      baseRevision: 0,
      name: "",
      nodes: [],
      edges: [],
      meta: { initial_state: "Trigger", extra: {} },
      past: [],
      future: [],
      dirty: false,
      serverErrors: {},
      highlight: null,
    });
  }

  get state(): EditorState {
    return this.store.get();
  }

  // ---- loading and saving ------------------------------------------------------------

  load(flow: Flow, definition?: FlowDefinition): boolean {
    const def = definition ?? flow.definition;
    const graph = toGraph(def ?? { states: [], initial_state: "Trigger" }, this.schemas);
    let nodes = graph.nodes;
    const laidOut = !graph.hadPositions && nodes.length > 1;
    if (laidOut) nodes = autoLayout(nodes, graph.edges, graph.meta.initial_state, this.schemas);
    this.store.set({
      flow,
      baseRevision: flow.revision,
      name: flow.friendly_name,
      nodes,
      edges: graph.edges,
      meta: graph.meta,
      past: [],
      future: [],
      dirty: laidOut,
      serverErrors: def ? mapServerErrors(issuesOf(flow), def) : {},
      highlight: null,
    });
    return laidOut;
  }

  /** Replace the document (restoring a revision) as an undoable change. */
  replaceDefinition(def: FlowDefinition): void {
    const graph = toGraph(def, this.schemas);
    const nodes = graph.hadPositions
      ? graph.nodes
      : autoLayout(graph.nodes, graph.edges, graph.meta.initial_state, this.schemas);
    this.commit({ nodes, edges: graph.edges, meta: graph.meta });
  }

  saved(flow: Flow): void {
    this.store.set({ flow, baseRevision: flow.revision, name: flow.friendly_name, dirty: false });
  }

  definition(): FlowDefinition {
    const s = this.state;
    return toDefinition(s.nodes, s.edges, s.meta);
  }

  setServerErrors(errors: Record<string, FieldErrors>): void {
    this.store.set({ serverErrors: errors });
  }

  setHighlight(highlight: Highlight | null): void {
    this.store.set({ highlight });
  }

  // ---- history -----------------------------------------------------------------------

  /** Apply a document change, recording an undo step (coalesced for the same key). */
  commit(patch: Partial<Snapshot>, coalesceKey = "", coalesceMs = 1500): void {
    const s = this.state;
    const now = Date.now();
    const coalesce = coalesceKey !== "" && coalesceKey === this.lastKey && now - this.lastAt < coalesceMs;
    this.lastKey = coalesceKey;
    this.lastAt = now;
    const past = coalesce
      ? s.past
      : [...s.past, { nodes: s.nodes, edges: s.edges, meta: s.meta }].slice(-HISTORY_LIMIT);
    this.store.set({ ...patch, past, future: [], dirty: true });
  }

  /** Record an undo step without changing anything yet (before a drag). */
  checkpoint(): void {
    this.commit({});
  }

  undo(): void {
    const s = this.state;
    const prev = s.past[s.past.length - 1];
    if (!prev) return;
    this.lastKey = "";
    this.renaming = null;
    this.store.set({
      ...prev,
      past: s.past.slice(0, -1),
      future: [{ nodes: s.nodes, edges: s.edges, meta: s.meta }, ...s.future],
      dirty: true,
    });
  }

  redo(): void {
    const s = this.state;
    const next = s.future[0];
    if (!next) return;
    this.lastKey = "";
    this.renaming = null;
    this.store.set({
      ...next,
      past: [...s.past, { nodes: s.nodes, edges: s.edges, meta: s.meta }],
      future: s.future.slice(1),
      dirty: true,
    });
  }

  // ---- React Flow callbacks ----------------------------------------------------------

  onNodesChange = (changes: NodeChange<WidgetNode>[]): void => {
    const removing = changes.some((c) => c.type === "remove");
    let next = applyNodeChanges(changes, this.state.nodes);
    if (changes.some((c) => c.type === "dimensions")) next = withoutEstimates(next, changes);
    if (removing) {
      const alive = new Set(next.map((n) => n.id));
      const edges = this.state.edges.filter((e) => alive.has(e.source) && alive.has(e.target));
      this.commit({ nodes: next, edges });
      return;
    }
    const moved = changes.some((c) => c.type === "position");
    this.store.set(moved ? { nodes: next, dirty: true } : { nodes: next });
  };

  onEdgesChange = (changes: EdgeChange<FlowEdge>[]): void => {
    const removing = changes.some((c) => c.type === "remove");
    const edges = applyEdgeChanges(changes, this.state.edges);
    if (removing) this.commit({ edges });
    else this.store.set({ edges });
  };

  onConnect = (c: Connection): void => {
    if (!c.sourceHandle) return;
    this.connect(c.source, c.sourceHandle, c.target);
  };

  /** Wire a handle to a widget (one edge per handle: replaces the old one). */
  connect(source: string, handle: string, target: string | null): void {
    const edges = this.state.edges.filter(
      (e) => !(e.source === source && e.sourceHandle === handle),
    );
    if (target) edges.push(makeEdge(source, handle, target));
    this.commit({ edges });
  }

  // ---- widget operations -------------------------------------------------------------

  uniqueName(base: string, taken?: Set<string>): string {
    const names = taken ?? new Set(this.state.nodes.map((n) => n.data.name));
    for (let i = 1; ; i++) {
      const candidate = `${base}_${i}`;
      if (!names.has(candidate)) return candidate;
    }
  }

  newWidgetData(schema: WidgetSchema): WidgetData {
    const properties: Record<string, unknown> = {};
    for (const p of schema.properties) {
      if (p.name === "offset") continue;
      if (p.default !== null && p.default !== undefined) properties[p.name] = p.default;
    }
    const slots: Slot[] = schema.events
      .filter((e) => !schema.repeatable_events.includes(e.name))
      .map((e) => ({ id: uid("h"), event: e.name }));
    const base = NAME_PREFIX[schema.type] ?? schema.type.replace(/-/g, "_");
    return { name: this.uniqueName(base), type: schema.type, properties, slots };
  }

  addWidget(schema: WidgetSchema, position: { x: number; y: number }): string {
    const id = uid("n");
    const data = this.newWidgetData(schema);
    const node: WidgetNode = {
      id,
      type: "widget",
      position,
      data,
      selected: true,
      ...estimatedGeometry(data, schema),
    };
    const nodes = this.state.nodes.map((n) => (n.selected ? { ...n, selected: false } : n));
    this.commit({ nodes: [...nodes, node] });
    return id;
  }

  updateData(id: string, update: (d: WidgetData) => WidgetData, coalesceKey = ""): void {
    const nodes = this.state.nodes.map((n) => (n.id === id ? { ...n, data: update(n.data) } : n));
    this.commit({ nodes }, coalesceKey);
  }

  setProperty(id: string, name: string, value: unknown): void {
    this.updateData(
      id,
      (d) => {
        const properties = { ...d.properties };
        if (value === undefined) delete properties[name];
        else properties[name] = value;
        return { ...d, properties };
      },
      `${id}:${name}`,
    );
  }

  /**
   * Renames a widget and rewrites the Liquid references to it in every widget
   * (`widgets.old.` -> `widgets.new.`), as one undoable change per editing session
   * (keystrokes until endRename(), e.g. the name field losing focus).
   * References follow only to a valid name no other widget has; while the name typed is
   * invalid or taken they point at the name the session started from (kept in the
   * widget's `refName`, so a later rename takes them along).
   */
  rename(id: string, name: string): void {
    const s = this.state;
    const node = s.nodes.find((n) => n.id === id);
    if (!node) return;
    const takenByOther = (x: string) => s.nodes.some((n) => n.id !== id && n.data.name === x);
    if (this.renaming?.id !== id) {
      const origin = node.data.refName ?? node.data.name;
      const ok = !!origin && !takenByOther(origin);
      this.renaming = { id, origin: ok ? origin : null, refs: ok ? origin : null, session: ++this.renameSessions };
    }
    const session = this.renaming;
    let nodes = s.nodes;
    let refName: string | undefined;
    if (session.origin !== null && session.refs !== null) {
      const target = NAME_RE.test(name) && !takenByOther(name) ? name : session.origin;
      if (target !== session.refs) {
        const from = session.refs;
        nodes = nodes.map((n) => {
          const data = renameReferences(n.data, from, target);
          return data === n.data ? n : { ...n, data };
        });
        session.refs = target;
      }
      if (target !== name) refName = target;
    }
    nodes = nodes.map((n) => {
      if (n.id !== id) return n;
      const { refName: _old, ...data } = n.data;
      void _old;
      return { ...n, data: refName === undefined ? { ...data, name } : { ...data, name, refName } };
    });
    this.commit({ nodes }, `${id}:name:${session.session}`, Infinity);
  }

  /** Ends a rename session (the next rename is a new undo step). */
  endRename(): void {
    this.renaming = null;
  }

  setSlots(id: string, slots: Slot[]): void {
    const alive = new Set(slots.map((s) => s.id));
    const edges = this.state.edges.filter((e) => e.source !== id || alive.has(e.sourceHandle ?? ""));
    const nodes = this.state.nodes.map((n) => (n.id === id ? { ...n, data: { ...n.data, slots } } : n));
    this.commit({ nodes, edges }, `${id}:slots`);
  }

  deleteSelected(): void {
    const s = this.state;
    const doomed = new Set(s.nodes.filter((n) => n.selected && n.data.type !== "trigger").map((n) => n.id));
    const edges = s.edges.filter((e) => !e.selected && !doomed.has(e.source) && !doomed.has(e.target));
    if (doomed.size === 0 && edges.length === s.edges.length) return;
    this.commit({ nodes: s.nodes.filter((n) => !doomed.has(n.id)), edges });
  }

  /** Selected widgets (not the Trigger) and the edges between them, as a definition fragment. */
  copySelection(): ClipboardFragment | null {
    const s = this.state;
    const picked = s.nodes.filter((n) => n.selected && n.data.type !== "trigger");
    if (!picked.length) return null;
    const ids = new Set(picked.map((n) => n.id));
    const def = toDefinition(picked, s.edges.filter((e) => ids.has(e.source) && ids.has(e.target)), s.meta);
    return { states: def.states };
  }

  paste(fragment: ClipboardFragment, shift = 40): void {
    const s = this.state;
    const taken = new Set(s.nodes.map((n) => n.data.name));
    const rename = new Map<string, string>();
    for (const st of fragment.states) {
      let name = st.name;
      if (taken.has(name)) name = this.uniqueName(name.replace(/_\d+$/, ""), taken);
      taken.add(name);
      rename.set(st.name, name);
    }
    const states = fragment.states.map((st) => ({
      ...st,
      name: rename.get(st.name)!,
      transitions: st.transitions.map((t) => {
        const { next, ...rest } = t;
        return next && rename.has(next) ? { ...rest, next: rename.get(next)! } : rest;
      }),
      properties: {
        ...st.properties,
        offset: {
          x: ((st.properties.offset as { x?: number })?.x ?? 0) + shift,
          y: ((st.properties.offset as { y?: number })?.y ?? 0) + shift,
        },
      },
    }));
    const graph = toGraph({ states, initial_state: "" }, this.schemas);
    const added = graph.nodes.map((n) => ({ ...n, selected: true }));
    const nodes = s.nodes.map((n) => (n.selected ? { ...n, selected: false } : n));
    this.commit({ nodes: [...nodes, ...added], edges: [...s.edges, ...graph.edges] });
  }

  duplicateSelected(): void {
    const frag = this.copySelection();
    if (frag) this.paste(frag);
  }

  layout(): void {
    const s = this.state;
    this.commit({ nodes: autoLayout(s.nodes, s.edges, s.meta.initial_state, this.schemas) });
  }

  selectOnly(name: string): WidgetNode | undefined {
    let found: WidgetNode | undefined;
    const nodes = this.state.nodes.map((n) => {
      const sel = n.data.name === name;
      if (sel) found = n;
      return n.selected === sel ? n : { ...n, selected: sel };
    });
    this.store.set({ nodes });
    return found;
  }
}

export interface ClipboardFragment {
  states: FlowDefinition["states"];
}
