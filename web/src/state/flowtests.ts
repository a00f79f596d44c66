// Flow tests in the editor: a simulator session written as a test, and the transitions
// no test took, as edge ids on the canvas.

import type { UntakenTransition } from "../api/flowtests";
import { edgeId, type FlowEdge, type WidgetNode } from "./graph";

export type TestStep = { [kind: string]: string | boolean };

const q = (s: string) => JSON.stringify(s); // a JSON string is a YAML double-quoted scalar

/** One test (YAML, indented as an item of `tests:`). */
export function testEntry(name: string, from: string, to: string, call: boolean, steps: TestStep[], conversation = false): string {
  const lines = [`  - name: ${q(name)}`, `    from: ${q(from)}`, `    to: ${q(to)}`];
  if (call) lines.push("    call: {}");
  if (conversation) lines.push(`    conversation: {author: ${q(from)}}`);
  lines.push("    steps:");
  for (const step of steps) {
    const [kind, value] = Object.entries(step)[0];
    lines.push(`      - ${kind}: ${typeof value === "boolean" ? String(value) : q(value)}`);
  }
  return lines.join("\n") + "\n";
}

/** `text` (a stored test file, maybe empty) with `entry` added to its tests. */
export function appendTest(text: string, entry: string): string {
  if (!text.trim()) return `tests:\n${entry}`;
  return `${text.replace(/\s*$/, "")}\n${entry}`;
}

/** A name not yet used in `text`. */
export function freshName(text: string, base: string): string {
  let name = base;
  for (let n = 2; text.includes(q(name)) || text.includes(`name: ${name}\n`); n++) name = `${base} ${n}`;
  return name;
}

/** Edge ids of the canvas for transitions (widget, event, next). */
export function uncoveredEdges(untaken: UntakenTransition[], nodes: WidgetNode[], edges: FlowEdge[]): Set<string> {
  const byName = new Map(nodes.map((n) => [n.data.name, n]));
  const out = new Set<string>();
  for (const t of untaken) {
    const from = byName.get(t.widget);
    const to = byName.get(t.next);
    if (!from || !to) continue;
    for (const slot of from.data.slots) {
      if (slot.event !== t.event) continue;
      const id = edgeId(from.id, slot.id);
      const edge = edges.find((e) => e.id === id);
      if (edge && edge.target === to.id && !out.has(id)) {
        out.add(id);
        break;
      }
    }
  }
  return out;
}
