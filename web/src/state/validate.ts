// Inline validation from the published widget schemas, and mapping of the server's
// 81022 details onto widget + field.

import type { ValidationIssue } from "../api/client";
import type { FlowDefinition, PropSchema, WidgetSchema } from "../api/types";
import type { SchemaMap, WidgetData, WidgetNode } from "./graph";

/** field -> message. Fields: "name", a property name, "transitions", "" (the widget). */
export type FieldErrors = Record<string, string>;

const NAME_RE = /^[A-Za-z][A-Za-z0-9_-]*$/;
const NO_VALUE_OPS = new Set(["is_blank", "is_not_blank"]);

export const hasLiquid = (v: unknown) => typeof v === "string" && /{{|{%/.test(v);

function isEmpty(v: unknown): boolean {
  return v === undefined || v === null || (typeof v === "string" && v.trim() === "") ||
    (Array.isArray(v) && v.length === 0);
}

function kindOk(kind: string, v: unknown): boolean {
  switch (kind) {
    case "string":
      return typeof v === "string";
    case "integer":
      return typeof v === "number" && Number.isInteger(v);
    case "number":
      return typeof v === "number";
    case "boolean":
      return typeof v === "boolean";
    case "key_values":
      return Array.isArray(v) && v.every((i) => i && typeof i === "object" && "key" in i);
    case "string_list":
      return Array.isArray(v) && v.every((i) => typeof i === "string");
    case "object":
      return !!v && typeof v === "object" && !Array.isArray(v);
    default:
      return true;
  }
}

export function checkProp(p: PropSchema, v: unknown): string | null {
  if (isEmpty(v)) return p.required ? `${p.label} is required` : null;
  if (!kindOk(p.kind, v) && !p.also.some((k) => kindOk(k, v))) {
    if (p.kind === "integer" || p.kind === "number") {
      if (typeof v === "string" && p.liquid && hasLiquid(v)) return null;
      return `${p.label} must be a ${p.kind === "integer" ? "whole number" : "number"}`;
    }
    return `${p.label} must be ${p.kind.replace("_", " ")}`;
  }
  if (p.enum.length && typeof v === "string" && !p.enum.includes(v) && !(p.liquid && hasLiquid(v)))
    return `${p.label} must be one of: ${p.enum.join(", ")}`;
  const num = typeof v === "number" ? v : typeof v === "string" && /^-?\d+(\.\d+)?$/.test(v) ? Number(v) : null;
  if (num !== null && (p.kind === "integer" || p.kind === "number" || p.editor === "number")) {
    if (p.minimum !== null && num < p.minimum) return `${p.label} must be at least ${p.minimum}`;
    if (p.maximum !== null && num > p.maximum) return `${p.label} must be at most ${p.maximum}`;
  }
  return null;
}

const cache = new WeakMap<WidgetData, { schema: WidgetSchema | undefined; errors: FieldErrors }>();

/** Errors of one widget that need no other widget to find (cached per data object). */
export function widgetErrors(data: WidgetData, schema: WidgetSchema | undefined): FieldErrors {
  const hit = cache.get(data);
  if (hit && hit.schema === schema) return hit.errors;
  const errors: FieldErrors = {};
  if (!NAME_RE.test(data.name))
    errors.name = "Name must start with a letter and use only letters, digits, _ and -";
  if (!schema) {
    if (data.type !== "trigger") errors[""] = `Unknown widget type ${data.type}`;
  } else {
    for (const p of schema.properties) {
      if (p.name === "offset") continue;
      const msg = checkProp(p, data.properties[p.name]);
      if (msg) errors[p.name] = msg;
    }
    for (const slot of data.slots) {
      if (!schema.repeatable_events.includes(slot.event)) continue;
      const conds = slot.conditions ?? [];
      if (conds.length === 0) errors.transitions = "Every condition needs an operator";
      for (const c of conds) {
        if (!c.friendly_name?.trim()) errors.transitions = "Every condition needs a name";
        else if (!c.type) errors.transitions = `Condition "${c.friendly_name}" needs an operator`;
        else if (!NO_VALUE_OPS.has(c.type) && isEmpty(c.value))
          errors.transitions = `Condition "${c.friendly_name}" needs a value`;
      }
    }
  }
  cache.set(data, { schema, errors });
  return errors;
}

/** Names used by more than one widget. */
export function duplicateNames(nodes: WidgetNode[]): Set<string> {
  const seen = new Set<string>();
  const dup = new Set<string>();
  for (const n of nodes) {
    if (seen.has(n.data.name)) dup.add(n.data.name);
    seen.add(n.data.name);
  }
  return dup;
}

export function countClientErrors(nodes: WidgetNode[], schemas: SchemaMap): number {
  let count = duplicateNamesOf(nodes).size;
  for (const n of nodes) count += Object.keys(widgetErrors(n.data, schemas.get(n.data.type))).length;
  return count;
}

/**
 * Server errors (81022 details.errors[]) keyed by widget name then field. A path that
 * names no widget goes under "" (the flow).
 */
export function mapServerErrors(
  issues: ValidationIssue[],
  def: FlowDefinition,
): Record<string, FieldErrors> {
  const out: Record<string, FieldErrors> = {};
  for (const issue of issues) {
    const path = (issue.property_path ?? "").replace(/^#?\/?/, "").split("/");
    let widget = "";
    let field = "";
    if (path[0] === "states" && path[1] !== undefined) {
      const state = def.states[Number(path[1])];
      widget = state?.name ?? "";
      if (path[2] === "properties" && path[3]) field = path[3];
      else if (path[2] === "transitions") field = "transitions";
      else if (path[2] === "name") field = "name";
    }
    const bucket = (out[widget] ??= {});
    bucket[field] = bucket[field] ? `${bucket[field]}; ${issue.message}` : issue.message;
  }
  return out;
}

let dupCache: { nodes: WidgetNode[]; names: Set<string> } | null = null;

/** duplicateNames, cached for the last nodes array (every widget asks on each change). */
export function duplicateNamesOf(nodes: WidgetNode[]): Set<string> {
  if (dupCache?.nodes !== nodes) dupCache = { nodes, names: duplicateNames(nodes) };
  return dupCache.names;
}
