// Liquid variables in scope at a widget: trigger.*, widgets.<upstream>.*, flow.*, contact.*

import type { FlowEdge, SchemaMap, WidgetNode } from "./graph";

const TRIGGER_VARS: Record<string, string[]> = {
  incomingMessage: [
    "trigger.message.Body",
    "trigger.message.From",
    "trigger.message.To",
    "trigger.message.MessageSid",
    "trigger.message.NumMedia",
    "trigger.message.MediaUrl0",
    "trigger.message.MessagingServiceSid",
    "trigger.message.FromCity",
    "trigger.message.FromCountry",
  ],
  incomingCall: [
    "trigger.call.From",
    "trigger.call.To",
    "trigger.call.CallSid",
    "trigger.call.Caller",
    "trigger.call.Called",
    "trigger.call.CallStatus",
    "trigger.call.Direction",
    "trigger.call.FromCity",
    "trigger.call.FromCountry",
  ],
  incomingConversationMessage: [
    "trigger.conversation.Body",
    "trigger.conversation.From",
    "trigger.conversation.ConversationSid",
    "trigger.conversation.MessageSid",
  ],
  incomingRequest: ["trigger.request.parameters", "trigger.request.from", "trigger.request.to"],
  incomingParent: ["trigger.parent.parameters"],
};

const ALWAYS = [
  "contact.channel.address",
  "flow.channel.address",
  "flow.flow_sid",
  "flow.sid",
  "flow.data",
  "flow.variables",
];

/** Widgets from which `id` can be reached (breadth-first over reversed edges). */
export function upstreamOf(id: string, edges: FlowEdge[]): Set<string> {
  const into = new Map<string, string[]>();
  for (const e of edges) {
    const list = into.get(e.target);
    if (list) list.push(e.source);
    else into.set(e.target, [e.source]);
  }
  const seen = new Set<string>();
  const queue = [id];
  while (queue.length) {
    const cur = queue.pop()!;
    for (const src of into.get(cur) ?? []) {
      if (!seen.has(src)) {
        seen.add(src);
        queue.push(src);
      }
    }
  }
  seen.delete(id);
  return seen;
}

export function variablesInScope(
  nodeId: string,
  nodes: WidgetNode[],
  edges: FlowEdge[],
  schemas: SchemaMap,
): string[] {
  const out = new Set<string>();
  const upstream = upstreamOf(nodeId, edges);
  const byId = new Map(nodes.map((n) => [n.id, n]));
  // Trigger variables: the trigger events that lead here (all, if the trigger is not upstream).
  const trigger = nodes.find((n) => n.data.type === "trigger");
  const triggerEvents = new Set<string>();
  if (trigger && upstream.has(trigger.id)) {
    for (const e of edges) {
      if (e.source !== trigger.id) continue;
      if (e.target !== nodeId && !upstream.has(e.target)) continue;
      const slot = trigger.data.slots.find((s) => s.id === e.sourceHandle);
      if (slot) triggerEvents.add(slot.event);
    }
  }
  const events = triggerEvents.size ? [...triggerEvents] : Object.keys(TRIGGER_VARS);
  for (const ev of events) for (const v of TRIGGER_VARS[ev] ?? []) out.add(v);
  for (const id of upstream) {
    const n = byId.get(id);
    if (!n || n.data.type === "trigger") continue;
    const schema = schemas.get(n.data.type);
    for (const v of schema?.variables ?? []) out.add(`widgets.${n.data.name}.${v}`);
    if (!schema?.variables.length) out.add(`widgets.${n.data.name}`);
  }
  for (const v of ALWAYS) out.add(v);
  // flow.variables.<key> from every Set Variables widget; flow.data.<key> used anywhere.
  for (const n of nodes) {
    if (n.data.type === "set-variables" && Array.isArray(n.data.properties.variables)) {
      for (const item of n.data.properties.variables as { key?: string }[])
        if (item?.key) out.add(`flow.variables.${item.key}`);
    }
    for (const value of Object.values(n.data.properties)) {
      if (typeof value !== "string" || !value.includes("flow.data.")) continue;
      for (const m of value.matchAll(/flow\.data\.([A-Za-z0-9_]+)/g)) out.add(`flow.data.${m[1]}`);
    }
  }
  return [...out];
}
