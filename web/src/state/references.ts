// Liquid references to widgets (`{{widgets.NAME.…}}`, `widgets["NAME"]`) in properties and
// split conditions, and rewriting them when a widget is renamed.

import type { Slot, WidgetData } from "./graph";

const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/** Matches references to `name`: `widgets.name` not followed by a name character
 * (names may contain `-`: `widgets.get-customer` is not `widgets.get`), and the
 * bracket forms `widgets['name']` / `widgets["name"]`. */
export function referencePattern(name: string): RegExp {
  const n = escapeRe(name);
  return new RegExp(
    `(?<![\\w.\\-])(widgets\\s*\\.\\s*)${n}(?![\\w\\-])|(?<![\\w.\\-])(widgets\\s*\\[\\s*)(['"])${n}\\3(\\s*\\])`,
    "g",
  );
}

function rewriteString(s: string, re: RegExp, to: string): string {
  if (!s.includes("widgets")) return s;
  return s.replace(re, (_m, dot?: string, bracket?: string, quote?: string, close?: string) =>
    dot !== undefined ? `${dot}${to}` : `${bracket}${quote}${to}${quote}${close}`,
  );
}

/** A copy of `value` with the references rewritten (the same object when nothing changed). */
function rewriteValue(value: unknown, re: RegExp, to: string): unknown {
  if (typeof value === "string") return rewriteString(value, re, to);
  if (Array.isArray(value)) {
    let changed = false;
    const out = value.map((v) => {
      const w = rewriteValue(v, re, to);
      if (w !== v) changed = true;
      return w;
    });
    return changed ? out : value;
  }
  if (value && typeof value === "object") {
    let changed = false;
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      const w = rewriteValue(v, re, to);
      if (w !== v) changed = true;
      out[k] = w;
    }
    return changed ? out : value;
  }
  return value;
}

/** `data` with references to widget `from` pointing at `to` instead (same object when none). */
export function renameReferences(data: WidgetData, from: string, to: string): WidgetData {
  if (!from || from === to) return data;
  const re = referencePattern(from);
  const properties = rewriteValue(data.properties, re, to) as Record<string, unknown>;
  const slots = rewriteValue(data.slots, re, to) as Slot[];
  if (properties === data.properties && slots === data.slots) return data;
  return { ...data, properties, slots };
}

/** Whether `data` refers to widget `name` anywhere. */
export function refersTo(data: WidgetData, name: string): boolean {
  return renameReferences(data, name, `${name}\u0000`) !== data;
}
