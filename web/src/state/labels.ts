// How Studio labels things on the canvas.

import type { WidgetSchema } from "../api/types";
import type { Slot } from "./graph";

export const GROUPS = [
  "Flow Control",
  "Voice",
  "Messaging",
  "Tools & Execute Code",
  "Connect Other Products",
];

export const GROUP_COLOR: Record<string, string> = {
  "Flow Control": "#f22f46",
  Voice: "#2f80ed",
  Messaging: "#14a37f",
  "Tools & Execute Code": "#8e44ad",
  "Connect Other Products": "#e8833a",
};

export const TRIGGER_LABELS: Record<string, string> = {
  incomingMessage: "Incoming Message",
  incomingCall: "Incoming Call",
  incomingConversationMessage: "Incoming Conversation",
  incomingRequest: "REST API",
  incomingParent: "Subflow",
};

/** Split operators (Studio's names), used when the server does not publish them. */
export const OPERATORS: { name: string; label: string }[] = [
  { name: "equal_to", label: "Equal To" },
  { name: "not_equal_to", label: "Not Equal To" },
  { name: "matches_any_of", label: "Matches Any Of" },
  { name: "does_not_match_any_of", label: "Does Not Match Any Of" },
  { name: "is_blank", label: "Is Blank" },
  { name: "is_not_blank", label: "Is Not Blank" },
  { name: "regex", label: "Regex" },
  { name: "contains", label: "Contains" },
  { name: "does_not_contain", label: "Does Not Contain" },
  { name: "starts_with", label: "Starts With" },
  { name: "does_not_start_with", label: "Does Not Start With" },
  { name: "less_than", label: "Less Than" },
  { name: "greater_than", label: "Greater Than" },
  { name: "is_before_time", label: "Is Before Time" },
  { name: "is_after_time", label: "Is After Time" },
  { name: "is_before_date", label: "Is Before Date" },
  { name: "is_after_date", label: "Is After Date" },
];

export function slotLabel(slot: Slot, schema: WidgetSchema | undefined): string {
  if (slot.conditions && slot.conditions.length) {
    return slot.conditions[0].friendly_name || "Condition";
  }
  const ev = schema?.events.find((e) => e.name === slot.event);
  return ev?.label ?? TRIGGER_LABELS[slot.event] ?? slot.event;
}
