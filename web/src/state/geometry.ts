// Estimated size and handle positions of a widget before the browser has drawn it.
//
// React Flow draws every node once to measure its handles unless the node says where its
// handles are. With the estimate, a large flow only draws the widgets on screen; once a
// widget has been drawn and measured, the estimate is dropped and the measurement used.

import { Position, type NodeChange } from "@xyflow/react";
import type { WidgetSchema } from "../api/types";
import type { WidgetData, WidgetNode } from "./graph";
import { nodeWidth, slotWidths } from "./layout";

const HEIGHT = 86;

export function estimatedGeometry(
  data: WidgetData,
  schema: WidgetSchema | undefined,
): Pick<WidgetNode, "initialWidth" | "initialHeight" | "handles"> {
  const width = nodeWidth(data, schema);
  const widths = slotWidths(data, schema);
  const free = width - 16 - widths.reduce((a, b) => a + b, 0) - 6 * Math.max(0, widths.length - 1);
  const grow = widths.length ? free / widths.length : 0;
  let x = 8;
  const handles: NonNullable<WidgetNode["handles"]> = data.slots.map((slot, i) => {
    const w = widths[i] + grow;
    const h = { id: slot.id, type: "source" as const, position: Position.Bottom, x: x + w / 2 - 6, y: HEIGHT - 7, width: 12, height: 12 };
    x += w + 6;
    return h;
  });
  if (data.type !== "trigger")
    handles.push({ id: "in", type: "target", position: Position.Top, x: width / 2 - 20, y: -7, width: 40, height: 8 });
  return { initialWidth: width, initialHeight: HEIGHT, handles };
}

/** Drops the estimates of the nodes React Flow has just measured. */
export function withoutEstimates(nodes: WidgetNode[], changes: NodeChange<WidgetNode>[]): WidgetNode[] {
  const measured = new Set<string>();
  for (const c of changes) if (c.type === "dimensions") measured.add(c.id);
  return nodes.map((n) => {
    if (!measured.has(n.id) || !n.handles) return n;
    const { handles: _h, ...rest } = n;
    return rest;
  });
}
