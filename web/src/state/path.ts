// An execution's path on the canvas, from its steps.

import type { Step } from "../api/types";
import type { Highlight } from "./editor";
import { edgeId, type FlowEdge, type WidgetNode } from "./graph";

/** `steps` in the order they ran (the REST API lists them so). Steps a subflow ran
 * (`parent_step_sid` set) are another flow's widgets and are left off this canvas. */
export function pathHighlight(
  steps: Step[],
  nodes: WidgetNode[],
  edges: FlowEdge[],
  active: boolean,
): Highlight {
  const ordered = steps.filter((s) => !s.parent_step_sid);
  const byName = new Map(nodes.map((n) => [n.data.name, n]));
  const edgeSet = new Set(edges.map((e) => e.id));
  const visited = new Set<string>();
  const taken = new Set<string>();
  for (const step of ordered) {
    const from = byName.get(step.transitioned_from);
    if (from) visited.add(from.data.name);
    const to = byName.get(step.transitioned_to);
    if (to) visited.add(to.data.name);
    if (!from || !to) continue;
    for (const slot of from.data.slots) {
      if (slot.event !== step.name) continue;
      const id = edgeId(from.id, slot.id);
      const edge = edgeSet.has(id) ? edges.find((e) => e.id === id) : undefined;
      if (edge && edge.target === to.id) {
        taken.add(id);
        break;
      }
    }
  }
  const last = ordered[ordered.length - 1];
  let current: string | null = null;
  if (active && last) current = byName.has(last.transitioned_to) ? last.transitioned_to : last.transitioned_from;
  if (active && !last) current = nodes.find((n) => n.data.type === "trigger")?.data.name ?? null;
  return { visited, edges: taken, active: current };
}
