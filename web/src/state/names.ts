// A compact, comparable summary of the widgets' ids and names (for pickers that must not
// re-render on every drag frame).

import type { WidgetNode } from "./graph";

let cache: { nodes: WidgetNode[]; key: string } | null = null;

export function widgetNamesKey(nodes: WidgetNode[]): string {
  if (cache?.nodes === nodes) return cache.key;
  const key = nodes
    .filter((n) => n.data.type !== "trigger")
    .map((n) => `${n.id}\t${n.data.name}`)
    .join("\n");
  cache = { nodes, key };
  return key;
}

export function parseNamesKey(key: string): { id: string; name: string }[] {
  if (!key) return [];
  return key
    .split("\n")
    .map((line) => {
      const [id, name] = line.split("\t");
      return { id, name };
    })
    .sort((a, b) => a.name.localeCompare(b.name));
}
