// Executions and steps from the live stream's CloudEvents, merged into REST lists.

import type { Execution, Step } from "../api/types";
import type { FlowEvent } from "./live";

const str = (v: unknown): string => (typeof v === "string" ? v : "");

export function executionFromEvent(ev: FlowEvent): Execution | null {
  const d = ev.data;
  const sid = str(d.execution_sid);
  if (!sid) return null;
  return {
    sid,
    flow_sid: str(d.flow_sid),
    contact_channel_address: str(d.contact_channel_address),
    status: d.status === "ended" ? "ended" : "active",
    date_created: str(d.date_created) || ev.time || new Date().toISOString(),
    date_updated: str(d.date_updated) || null,
    flow_version: typeof d.flow_revision === "number" ? d.flow_revision : undefined,
  };
}

export function stepFromEvent(ev: FlowEvent): Step | null {
  const d = ev.data;
  const sid = str(d.step_sid);
  if (!sid) return null;
  return {
    sid,
    execution_sid: str(d.execution_sid),
    parent_step_sid: str(d.parent_step_sid) || null,
    name: str(d.name),
    transitioned_from: str(d.transitioned_from),
    transitioned_to: str(d.transitioned_to),
    type: str(d.type) || undefined,
    date_created: str(d.date_created) || ev.time || new Date().toISOString(),
  };
}

const when = (iso: string) => {
  const t = Date.parse(iso);
  return Number.isNaN(t) ? 0 : t;
};

/** `steps` (in the order they ran) with `step` added once: after every step that is not
 * later than it (the REST API's times have whole seconds, the events' milliseconds). */
export function withStep(steps: Step[], step: Step): Step[] {
  if (steps.some((s) => s.sid === step.sid)) return steps;
  const t = when(step.date_created);
  let at = steps.length;
  while (at > 0 && when(steps[at - 1].date_created) > t) at--;
  return [...steps.slice(0, at), step, ...steps.slice(at)];
}

/** Merges a fresh REST list of steps with steps already known from events. */
export function mergeSteps(rest: Step[], known: Step[]): Step[] {
  let out = rest;
  for (const s of known) out = withStep(out, s);
  return out;
}

export function matchesFilter(
  x: Execution,
  filter: { status?: string; from?: string; to?: string },
): boolean {
  if (filter.status && x.status !== filter.status) return false;
  const day = x.date_created.slice(0, 10);
  if (filter.from && day < filter.from) return false;
  if (filter.to && day >= filter.to) return false;
  return true;
}
