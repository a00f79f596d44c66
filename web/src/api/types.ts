// Shapes of Studio's flow definition and of the REST resources the editor uses.

export interface Condition {
  friendly_name: string;
  arguments: string[];
  type: string;
  value: string;
}

export interface Transition {
  event: string;
  next?: string;
  conditions?: Condition[];
}

export interface StateDef {
  name: string;
  type: string;
  transitions: Transition[];
  properties: Record<string, unknown>;
}

export interface FlowDefinition {
  description?: string;
  states: StateDef[];
  initial_state: string;
  flags?: { allow_concurrent_calls: boolean };
  [key: string]: unknown;
}

export interface Flow {
  sid: string;
  friendly_name: string;
  definition: FlowDefinition | null;
  status: "draft" | "published";
  revision: number;
  commit_message: string | null;
  valid: boolean | null;
  errors: unknown[] | null;
  warnings: unknown[] | null;
  webhook_url?: string;
  date_created: string;
  date_updated: string | null;
}

export type Revision = Omit<Flow, "webhook_url" | "warnings">;

export interface Execution {
  sid: string;
  flow_sid: string;
  contact_channel_address: string;
  flow_version?: number;
  status: "active" | "ended";
  context?: unknown;
  date_created: string;
  date_updated: string | null;
  initiated_by?: string;
}

export interface Step {
  sid: string;
  execution_sid: string;
  parent_step_sid?: string | null;
  name: string;
  context?: unknown;
  transitioned_from: string;
  transitioned_to: string;
  type?: string;
  date_created: string;
}

export interface Page<T> {
  items: T[];
  nextPageUrl: string | null;
}

// ---- Callboard's own API: widget schemas --------------------------------------------

export type PropKind =
  | "string"
  | "integer"
  | "number"
  | "boolean"
  | "key_values"
  | "string_list"
  | "object"
  | "any";

export type EditorKind =
  | "text"
  | "textarea"
  | "liquid"
  | "select"
  | "number"
  | "checkbox"
  | "key_values"
  | "list"
  | "hidden";

export interface PropSchema {
  name: string;
  kind: PropKind;
  required: boolean;
  default: unknown;
  enum: string[];
  liquid: boolean;
  also: PropKind[];
  label: string;
  help: string;
  editor: EditorKind;
  minimum: number | null;
  maximum: number | null;
}

export interface WidgetSchema {
  type: string;
  label: string;
  group: string;
  description: string;
  channel: "any" | "voice" | "messaging";
  /** false: Callboard loads and keeps the widget but cannot run it (not offered in the library). */
  runnable?: boolean;
  events: { name: string; label: string }[];
  repeatable_events: string[];
  properties: PropSchema[];
  variables: string[];
  operators?: { name: string; label: string }[];
}

// ---- Simulator channel (docs/simulator.md) -----------------------------------------

export interface SimMessage {
  sid: string;
  execution_sid?: string | null;
  flow_sid?: string | null;
  direction: string; // "inbound" (the test user) or "outbound-api" (the flow)
  from: string;
  to: string;
  body: string;
  media_urls?: string[];
  status?: string;
  date_created: string;
}

/** One thing the caller heard or that happened on the call. */
export interface SimCallAction {
  kind: string; // say, play, pause, gather, record, dial, enqueue, pay, connect, stream, hangup, reject, note
  text: string;
  data?: Record<string, unknown>;
}

export interface SimCall {
  call_sid: string;
  execution_sid?: string | null;
  status?: string; // in-progress, completed, ...
  /** What the caller heard since the last input, as one TwiML document. */
  twiml: string;
  actions?: SimCallAction[];
  waiting_for?: "gather" | "record" | null;
  [key: string]: unknown;
}
