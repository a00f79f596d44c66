// Conversion between Studio's flow definition and the canvas graph (nodes + edges).
// Node ids and handle ids are editor-only; names, types, properties and transitions
// round-trip unchanged (positions go to properties.offset).

import type { Edge, Node } from "@xyflow/react";
import type { Condition, FlowDefinition, StateDef, WidgetSchema } from "../api/types";
import { uid } from "../lib/uid";
import { estimatedGeometry } from "./geometry";

export interface Slot {
  id: string; // handle id
  event: string;
  conditions?: Condition[];
  /** A `next` naming no widget of this flow (kept so export round-trips). */
  dangling?: string;
}

export interface WidgetData extends Record<string, unknown> {
  name: string;
  type: string;
  properties: Record<string, unknown>; // without offset
  slots: Slot[];
  /** Editor-only: the name Liquid references to this widget use while its own name is
   * invalid or taken (see Editor.rename). Not exported. */
  refName?: string;
}

export type WidgetNode = Node<WidgetData, "widget">;
export type FlowEdge = Edge;

export interface FlowMeta {
  description?: string;
  initial_state: string;
  flags?: { allow_concurrent_calls: boolean };
  extra: Record<string, unknown>;
}

export interface Graph {
  nodes: WidgetNode[];
  edges: FlowEdge[];
  meta: FlowMeta;
  hadPositions: boolean;
}

export type SchemaMap = Map<string, WidgetSchema>;

export const edgeId = (source: string, handle: string) => `e:${source}:${handle}`;

export function makeEdge(source: string, handle: string, target: string): FlowEdge {
  return { id: edgeId(source, handle), source, sourceHandle: handle, target, targetHandle: "in" };
}

/** Slots for a widget: its transitions, plus any event of its type it does not list. */
export function slotsFor(
  type: string,
  transitions: { event: string; conditions?: Condition[] }[],
  schemas: SchemaMap,
): Slot[] {
  const slots: Slot[] = transitions.map((t) => ({
    id: uid("h"),
    event: t.event,
    ...(t.conditions ? { conditions: t.conditions } : {}),
  }));
  const schema = schemas.get(type);
  if (schema) {
    for (const ev of schema.events) {
      if (schema.repeatable_events.includes(ev.name)) continue;
      if (!slots.some((s) => s.event === ev.name)) slots.push({ id: uid("h"), event: ev.name });
    }
  }
  return slots;
}

function offsetOf(props: Record<string, unknown>): { x: number; y: number } | null {
  const off = props.offset as { x?: unknown; y?: unknown } | undefined;
  if (off && typeof off.x === "number" && typeof off.y === "number") return { x: off.x, y: off.y };
  return null;
}

export function toGraph(def: FlowDefinition, schemas: SchemaMap): Graph {
  const { states, initial_state, description, flags, ...rest } = def;
  const idByName = new Map<string, string>();
  const stateList: StateDef[] = Array.isArray(states) ? states : [];
  for (const s of stateList) idByName.set(s.name, uid("n"));
  let positioned = 0;
  const nodes: WidgetNode[] = [];
  const edges: FlowEdge[] = [];
  for (const s of stateList) {
    const id = idByName.get(s.name)!;
    const { offset: _offset, ...properties } = (s.properties ?? {}) as Record<string, unknown>;
    const pos = offsetOf(s.properties ?? {});
    if (pos) positioned += 1;
    const transitions = Array.isArray(s.transitions) ? s.transitions : [];
    const slots = slotsFor(s.type, transitions, schemas);
    transitions.forEach((t, i) => {
      if (!t.next) return;
      const target = idByName.get(t.next);
      if (target) edges.push(makeEdge(id, slots[i].id, target));
      else slots[i].dangling = t.next;
    });
    nodes.push({
      id,
      type: "widget",
      position: pos ?? { x: 0, y: 0 },
      data: { name: s.name, type: s.type, properties, slots },
      deletable: s.type !== "trigger",
    });
  }
  for (const n of nodes) Object.assign(n, estimatedGeometry(n.data, schemas.get(n.data.type)));
  return {
    nodes,
    edges,
    meta: { description, initial_state, flags, extra: rest },
    hadPositions: stateList.length > 0 && positioned === stateList.length,
  };
}

export function toDefinition(nodes: WidgetNode[], edges: FlowEdge[], meta: FlowMeta): FlowDefinition {
  const nameById = new Map<string, string>();
  for (const n of nodes) nameById.set(n.id, n.data.name);
  const nextBy = new Map<string, string>();
  for (const e of edges) {
    const target = nameById.get(e.target);
    if (target !== undefined) nextBy.set(`${e.source}|${e.sourceHandle}`, target);
  }
  // The initial state first, like Studio's exports.
  const ordered = [...nodes].sort(
    (a, b) =>
      Number(b.data.name === meta.initial_state) - Number(a.data.name === meta.initial_state),
  );
  const states: StateDef[] = ordered.map((n) => ({
    name: n.data.name,
    type: n.data.type,
    transitions: n.data.slots.map((slot) => {
      const next = nextBy.get(`${n.id}|${slot.id}`) ?? slot.dangling;
      return {
        event: slot.event,
        ...(next ? { next } : {}),
        ...(slot.conditions ? { conditions: slot.conditions } : {}),
      };
    }),
    properties: {
      ...n.data.properties,
      offset: { x: Math.round(n.position.x), y: Math.round(n.position.y) },
    },
  }));
  const def: FlowDefinition = {
    ...meta.extra,
    description: meta.description ?? "A New Flow",
    states,
    initial_state: meta.initial_state,
    flags: meta.flags ?? { allow_concurrent_calls: true },
  };
  return def;
}

/** The flow a new, empty flow starts with: just the Trigger. */
export function emptyDefinition(description = "A New Flow"): FlowDefinition {
  return {
    description,
    states: [
      {
        name: "Trigger",
        type: "trigger",
        transitions: [
          { event: "incomingMessage" },
          { event: "incomingCall" },
          { event: "incomingConversationMessage" },
          { event: "incomingRequest" },
          { event: "incomingParent" },
        ],
        properties: { offset: { x: 0, y: 0 } },
      },
    ],
    initial_state: "Trigger",
    flags: { allow_concurrent_calls: true },
  };
}
