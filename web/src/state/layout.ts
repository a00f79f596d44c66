// Auto-layout for flows without positions: layers by distance from the initial state
// (breadth-first), each layer a row, children placed under their parents. O(V + E).

import type { WidgetSchema } from "../api/types";
import type { FlowEdge, SchemaMap, WidgetData, WidgetNode } from "./graph";
import { slotLabel } from "./labels";

const ROW = 260;
const GAP = 60;

/** Width a widget needs on the canvas: it grows with its handles' labels. */
export function slotWidths(data: WidgetData, schema?: WidgetSchema): number[] {
  return data.slots.map((slot) => Math.min(190, Math.max(78, slotLabel(slot, schema).length * 6.6 + 18)));
}

export function nodeWidth(data: WidgetData, schema?: WidgetSchema): number {
  const widths = slotWidths(data, schema);
  const total = 16 + widths.reduce((a, b) => a + b, 0) + 6 * Math.max(0, widths.length - 1);
  return Math.max(220, Math.round(total));
}

export function autoLayout(
  nodes: WidgetNode[],
  edges: FlowEdge[],
  initialName: string,
  schemas?: SchemaMap,
): WidgetNode[] {
  if (nodes.length === 0) return nodes;
  const out = new Map<string, string[]>();
  for (const e of edges) {
    const list = out.get(e.source);
    if (list) list.push(e.target);
    else out.set(e.source, [e.target]);
  }
  // Targets in handle order, so the left handle's child is on the left.
  const handleOrder = new Map<string, number>();
  for (const n of nodes) n.data.slots.forEach((s, i) => handleOrder.set(`${n.id}|${s.id}`, i));
  for (const [src, list] of out) {
    const rank = new Map<string, number>();
    for (const e of edges)
      if (e.source === src) rank.set(e.target, handleOrder.get(`${src}|${e.sourceHandle}`) ?? 0);
    list.sort((a, b) => (rank.get(a) ?? 0) - (rank.get(b) ?? 0));
  }
  const depth = new Map<string, number>();
  const order: string[] = [];
  const start = nodes.find((n) => n.data.name === initialName) ?? nodes[0];
  const queue: string[] = [start.id];
  depth.set(start.id, 0);
  const visit = () => {
    while (queue.length) {
      const id = queue.shift()!;
      order.push(id);
      for (const t of out.get(id) ?? []) {
        if (!depth.has(t)) {
          depth.set(t, depth.get(id)! + 1);
          queue.push(t);
        }
      }
    }
  };
  visit();
  // Unreachable widgets: start new trees below everything placed so far.
  for (const n of nodes) {
    if (depth.has(n.id)) continue;
    const maxDepth = Math.max(...depth.values());
    depth.set(n.id, maxDepth + 1);
    queue.push(n.id);
    visit();
  }
  const byId = new Map(nodes.map((n) => [n.id, n]));
  const rows = new Map<number, string[]>();
  for (const id of order) {
    const d = depth.get(id)!;
    const row = rows.get(d);
    if (row) row.push(id);
    else rows.set(d, [id]);
  }
  const pos = new Map<string, { x: number; y: number }>();
  for (const [d, ids] of rows) {
    const widths = ids.map((id) => {
      const d = byId.get(id)!.data;
      return nodeWidth(d, schemas?.get(d.type));
    });
    const total = widths.reduce((a, b) => a + b, 0) + GAP * (ids.length - 1);
    let x = -total / 2;
    ids.forEach((id, i) => {
      pos.set(id, { x: Math.round(x), y: d * ROW });
      x += widths[i] + GAP;
    });
  }
  return nodes.map((n) => ({ ...n, position: pos.get(n.id) ?? n.position }));
}

/** The first place at or below (x, y) where a widget of width w overlaps no other. */
export function freeSpot(nodes: WidgetNode[], x: number, y: number, w: number): { x: number; y: number } {
  const h = 100;
  const overlaps = (py: number) =>
    nodes.some((n) => {
      const nw = n.measured?.width ?? n.initialWidth ?? 220;
      const nh = n.measured?.height ?? n.initialHeight ?? 90;
      return x < n.position.x + nw + 20 && n.position.x < x + w + 20 && py < n.position.y + nh + 20 && n.position.y < py + h + 20;
    });
  let py = y;
  for (let i = 0; i < 60 && overlaps(py); i++) py += 60;
  return { x, y: py };
}
