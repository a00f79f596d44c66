// Server-Sent Events over fetch() (the session cookie goes along; fetch lets us resume), so
// the editor reads text/event-stream itself (HTML's SSE parsing rules), reconnects with
// back-off and resumes after the last event id (Last-Event-ID).

import { XHR_HEADER, authHeader } from "./client";

export interface SseMessage {
  id: string; // the last event id seen (also on messages without their own id: line)
  event: string; // "message" when the stream names no type
  data: string;
}

/** Incremental parser: feed() text as it arrives, get the complete messages. */
export class SseParser {
  /** The id to resume after: set when a message (blank line) completes, as in HTML. */
  lastEventId = "";
  private idBuffer: string | null = null;
  retry: number | null = null;
  private buffer = "";
  private data: string[] = [];
  private event = "";

  feed(chunk: string, final = false): SseMessage[] {
    this.buffer += chunk;
    const out: SseMessage[] = [];
    let start = 0;
    for (;;) {
      const cr = this.buffer.indexOf("\r", start);
      const lf = this.buffer.indexOf("\n", start);
      if (cr < 0 && lf < 0) break;
      let end: number;
      let next: number;
      if (cr >= 0 && (lf < 0 || cr < lf)) {
        // A lone \r ends a line too; \r\n counts once (wait for the next chunk to know).
        if (cr === this.buffer.length - 1 && !final) break;
        end = cr;
        next = this.buffer[cr + 1] === "\n" ? cr + 2 : cr + 1;
      } else {
        end = lf;
        next = lf + 1;
      }
      const msg = this.line(this.buffer.slice(start, end));
      if (msg) out.push(msg);
      start = next;
    }
    this.buffer = this.buffer.slice(start);
    return out;
  }

  private line(line: string): SseMessage | null {
    if (line === "") {
      if (this.idBuffer !== null) this.lastEventId = this.idBuffer;
      this.idBuffer = null;
      const data = this.data;
      const event = this.event;
      this.data = [];
      this.event = "";
      if (data.length === 0) return null;
      return { id: this.lastEventId, event: event || "message", data: data.join("\n") };
    }
    if (line.startsWith(":")) return null; // a comment (keep-alive)
    const colon = line.indexOf(":");
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? "" : line.slice(colon + 1);
    if (value.startsWith(" ")) value = value.slice(1);
    if (field === "data") this.data.push(value);
    else if (field === "event") this.event = value;
    else if (field === "id" && !value.includes("\0")) this.idBuffer = value;
    else if (field === "retry" && /^\d+$/.test(value)) this.retry = Number(value);
    return null;
  }
}

/** connecting: first attempt; live: reading; down: lost, retrying (with back-off);
 * unavailable: the server refused the stream (401/403/404): no retry. */
export type StreamStatus = "connecting" | "live" | "down" | "unavailable";

export interface StreamOptions {
  onMessage: (msg: SseMessage) => void;
  /** resumed: this connection continues after lastEventId (nothing was missed). */
  onStatus?: (status: StreamStatus, resumed: boolean) => void;
  /** First and smallest wait before reconnecting (ms); the server's retry: overrides. */
  minDelay?: number;
  maxDelay?: number;
  /** Reconnect when nothing (not even a keep-alive comment) came for this long (ms). */
  idleTimeout?: number;
}

export interface StreamHandle {
  close(): void;
  readonly lastEventId: string;
}

/** Opens `url` as an event stream until close(); reconnects when it ends or fails. */
export function openEventStream(url: string, options: StreamOptions): StreamHandle {
  const maxDelay = options.maxDelay ?? 30_000;
  const idleTimeout = options.idleTimeout ?? 45_000; // the server sends a comment every 15 s
  let closed = false;
  let lastEventId = "";
  let controller: AbortController | null = null;
  let wake: (() => void) | null = null;

  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        wake = null;
        resolve();
      }
      wake = done;
    });

  const run = async () => {
    let failures = 0;
    let minDelay = options.minDelay ?? 1000;
    let first = true;
    while (!closed) {
      controller = new AbortController();
      const resumed = lastEventId !== "";
      if (first) options.onStatus?.("connecting", false);
      first = false;
      let gotMessage = false;
      try {
        const headers: Record<string, string> = {
          Accept: "text/event-stream",
          ...XHR_HEADER,
          ...authHeader(),
        };
        if (lastEventId) headers["Last-Event-ID"] = lastEventId;
        const res = await fetch(url, { headers, signal: controller.signal, cache: "no-store" });
        if ([401, 403, 404, 405].includes(res.status)) {
          options.onStatus?.("unavailable", false);
          return;
        }
        if (!res.ok || !res.body) throw new Error(`HTTP ${res.status}`);
        options.onStatus?.("live", resumed);
        const parser = new SseParser();
        parser.lastEventId = lastEventId;
        const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
        const ctrl = controller;
        let idle: ReturnType<typeof setTimeout> | undefined;
        const watch = () => {
          clearTimeout(idle);
          idle = setTimeout(() => ctrl.abort(), idleTimeout);
        };
        for (;;) {
          watch();
          let chunk: ReadableStreamReadResult<string>;
          try {
            chunk = await reader.read();
          } finally {
            clearTimeout(idle);
          }
          const { value, done } = chunk;
          const messages = parser.feed(value ?? "", done);
          if (parser.retry !== null) minDelay = parser.retry;
          for (const m of messages) {
            gotMessage = true;
            lastEventId = m.id;
            if (closed) return;
            try {
              options.onMessage(m);
            } catch (err) {
              console.error("event stream handler failed", err);
            }
          }
          if (parser.lastEventId) lastEventId = parser.lastEventId;
          if (done) break;
        }
      } catch {
        if (closed) return;
      }
      if (closed) return;
      failures = gotMessage ? 1 : failures + 1;
      options.onStatus?.("down", false);
      // Exponential back-off with jitter: minDelay, 2x, 4x ... capped, each 50-100 %.
      const wait = Math.min(maxDelay, minDelay * 2 ** (failures - 1));
      await sleep(wait * (0.5 + Math.random() / 2));
    }
  };
  void run();

  return {
    close() {
      closed = true;
      controller?.abort();
      wake?.();
    },
    get lastEventId() {
      return lastEventId;
    },
  };
}
