// Live events of the open flow: one shared, authenticated Server-Sent Events connection
// (GET /callboard/v1/Flows/{sid}/Events/Stream) for the panels that want it. It opens
// with the first subscriber and closes shortly after the last one leaves.

import { createContext, useContext, useEffect, useRef } from "react";
import { openEventStream, type StreamHandle, type StreamStatus } from "../api/sse";
import { createStore, useStoreSlice, type Store } from "../lib/store";

export const EXECUTION_STARTED = "com.twilio.studio.flow.execution.started";
export const EXECUTION_ENDED = "com.twilio.studio.flow.execution.ended";
export const STEP_ENDED = "com.twilio.studio.flow.step.ended";

/** A CloudEvent of the flow (its `data` as documented in docs/events.md). */
export interface FlowEvent {
  /** The stream position (the SSE id). */
  position: string;
  id: string;
  type: string;
  time?: string;
  data: Record<string, unknown>;
}

export type LiveStatus = StreamStatus | "off";

export interface LiveListener {
  onEvent?: (event: FlowEvent) => void;
  /** The stream (re)opened without resuming: events may have been missed, reload. */
  onResync?: () => void;
}

const LINGER_MS = 3000;

export class LiveEvents {
  readonly status: Store<{ status: LiveStatus }> = createStore({ status: "off" as LiveStatus });
  private listeners = new Set<LiveListener>();
  private handle: StreamHandle | null = null;
  private closeTimer: ReturnType<typeof setTimeout> | null = null;
  private seen = new Set<string>();

  constructor(readonly flowSid: string) {}

  subscribe(listener: LiveListener): () => void {
    this.listeners.add(listener);
    if (this.closeTimer) clearTimeout(this.closeTimer);
    this.closeTimer = null;
    if (!this.handle) this.open();
    return () => {
      this.listeners.delete(listener);
      if (this.listeners.size === 0 && this.handle) {
        if (this.closeTimer) clearTimeout(this.closeTimer);
        this.closeTimer = setTimeout(() => this.close(), LINGER_MS);
      }
    };
  }

  close(): void {
    if (this.closeTimer) clearTimeout(this.closeTimer);
    this.closeTimer = null;
    this.handle?.close();
    this.handle = null;
    this.status.set({ status: "off" });
  }

  private open(): void {
    this.handle = openEventStream(`/callboard/v1/Flows/${this.flowSid}/Events/Stream`, {
      onStatus: (status, resumed) => {
        this.status.set({ status });
        if (status === "live" && !resumed) this.listeners.forEach((l) => l.onResync?.());
      },
      onMessage: (msg) => {
        let parsed: { id?: string; type?: string; time?: string; data?: Record<string, unknown> };
        try {
          parsed = JSON.parse(msg.data);
        } catch {
          return;
        }
        const event: FlowEvent = {
          position: msg.id,
          id: parsed.id ?? msg.id,
          type: parsed.type ?? msg.event,
          time: parsed.time,
          data: parsed.data ?? {},
        };
        // At-least-once: the same event may come twice (dedupe on the CloudEvent id).
        if (this.seen.has(event.id)) return;
        this.seen.add(event.id);
        if (this.seen.size > 5000) this.seen = new Set([...this.seen].slice(-2500));
        this.listeners.forEach((l) => l.onEvent?.(event));
      },
    });
  }
}

export const LiveContext = createContext<LiveEvents | null>(null);

export function useLive(): LiveEvents | null {
  return useContext(LiveContext);
}

/** Subscribes while `enabled`; handlers may change between renders. Returns the status. */
export function useFlowEvents(listener: LiveListener, enabled = true): LiveStatus {
  const live = useLive();
  const ref = useRef(listener);
  ref.current = listener;
  useEffect(() => {
    if (!live || !enabled) return;
    return live.subscribe({
      onEvent: (e) => ref.current.onEvent?.(e),
      onResync: () => ref.current.onResync?.(),
    });
  }, [live, enabled]);
  const status = useStoreSlice(live?.status ?? OFF, (s) => s.status);
  return live && enabled ? status : "off";
}

const OFF: Store<{ status: LiveStatus }> = createStore({ status: "off" as LiveStatus });

/** Calls `tick` every `ms` while the stream is not delivering (fallback polling). */
export function usePollingFallback(status: LiveStatus, enabled: boolean, tick: () => void, ms = 1000): void {
  const ref = useRef(tick);
  ref.current = tick;
  const polling = enabled && (status === "down" || status === "unavailable" || status === "off");
  useEffect(() => {
    if (!polling) return;
    const timer = setInterval(() => ref.current(), ms);
    return () => clearInterval(timer);
  }, [polling, ms]);
}

/** Live-stream state for a status line. */
export function liveLabel(status: LiveStatus): string {
  switch (status) {
    case "live":
      return "Live";
    case "connecting":
      return "Connecting…";
    case "down":
      return "Reconnecting… (polling)";
    case "unavailable":
      return "Polling";
    default:
      return "";
  }
}
