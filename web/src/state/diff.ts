// What changed between two flow definitions: widgets added, removed, changed, rewired.

import type { FlowDefinition, StateDef } from "../api/types";

export interface FlowDiff {
  added: string[];
  removed: string[];
  changed: { name: string; fields: string[] }[];
  rewired: { name: string; transition: string; before: string; after: string }[];
  moved: string[];
  settings: string[];
}

const stable = (v: unknown): string =>
  JSON.stringify(v, (_k, val) =>
    val && typeof val === "object" && !Array.isArray(val)
      ? Object.fromEntries(Object.entries(val as Record<string, unknown>).sort(([a], [b]) => a.localeCompare(b)))
      : val,
  );

function transitionKeys(s: StateDef): Map<string, { next: string; conditions: string }> {
  const out = new Map<string, { next: string; conditions: string }>();
  const seen = new Map<string, number>();
  for (const t of s.transitions ?? []) {
    const base = t.conditions?.length ? `${t.event}:${t.conditions[0].friendly_name}` : t.event;
    const n = (seen.get(base) ?? 0) + 1;
    seen.set(base, n);
    out.set(n > 1 ? `${base} #${n}` : base, { next: t.next ?? "", conditions: stable(t.conditions ?? []) });
  }
  return out;
}

export function diffDefinitions(a: FlowDefinition, b: FlowDefinition): FlowDiff {
  const before = new Map(a.states.map((s) => [s.name, s]));
  const after = new Map(b.states.map((s) => [s.name, s]));
  const diff: FlowDiff = { added: [], removed: [], changed: [], rewired: [], moved: [], settings: [] };
  for (const name of after.keys()) if (!before.has(name)) diff.added.push(name);
  for (const name of before.keys()) if (!after.has(name)) diff.removed.push(name);
  for (const [name, sb] of after) {
    const sa = before.get(name);
    if (!sa) continue;
    const fields: string[] = [];
    if (sa.type !== sb.type) fields.push("type");
    const pa = sa.properties ?? {};
    const pb = sb.properties ?? {};
    for (const key of new Set([...Object.keys(pa), ...Object.keys(pb)])) {
      if (key === "offset") continue;
      if (stable(pa[key]) !== stable(pb[key])) fields.push(key);
    }
    if (stable(pa.offset) !== stable(pb.offset)) diff.moved.push(name);
    const ta = transitionKeys(sa);
    const tb = transitionKeys(sb);
    for (const key of new Set([...ta.keys(), ...tb.keys()])) {
      const x = ta.get(key);
      const y = tb.get(key);
      if ((x?.next ?? "") !== (y?.next ?? ""))
        diff.rewired.push({ name, transition: key, before: x?.next || "—", after: y?.next || "—" });
      if (x && y && x.conditions !== y.conditions) fields.push(`condition ${key}`);
      else if (!x !== !y) fields.push(`transition ${key} ${x ? "removed" : "added"}`);
    }
    if (fields.length) diff.changed.push({ name, fields });
  }
  if (stable(a.flags) !== stable(b.flags)) diff.settings.push("flags");
  if (a.initial_state !== b.initial_state) diff.settings.push("initial_state");
  if ((a.description ?? "") !== (b.description ?? "")) diff.settings.push("description");
  return diff;
}

export const isEmptyDiff = (d: FlowDiff) =>
  !d.added.length && !d.removed.length && !d.changed.length && !d.rewired.length && !d.moved.length && !d.settings.length;
