// The simulator drawer: chat with the draft over SMS, or place a simulated call, while
// the canvas highlights the widget the execution is at.
// Uses Callboard's simulator channel API (/callboard/v1/Simulator/...).

import { useEffect, useRef, useState } from "react";
import { ApiError } from "../api/client";
import { simCallInput, simListMessages, simSendMessage, simStartCall } from "../api/callboard";
import { listExecutions, listSteps } from "../api/studio";
import type { SimMessage } from "../api/types";
import { useStoreSlice } from "../lib/store";
import { toast } from "../lib/toast";
import { describeTwiml, type CallLine } from "../lib/twiml";
import { useEditor } from "../state/context";
import { pathHighlight } from "../state/path";

const KEYS = ["1", "2", "3", "4", "5", "6", "7", "8", "9", "*", "0", "#"];

function explain(e: unknown): string {
  if (e instanceof ApiError && e.status === 404)
    return "This server has no simulator channel (/callboard/v1/Simulator).";
  return e instanceof Error ? e.message : String(e);
}

/** Polls the newest execution for `contact` and highlights where it is. */
function useLiveHighlight(flowSid: string | undefined, contact: string, running: boolean) {
  const editor = useEditor();
  useEffect(() => {
    if (!flowSid || !running) return;
    let stop = false;
    const tick = async () => {
      try {
        const page = await listExecutions(flowSid, {});
        const x = page.items.find((e) => e.contact_channel_address === contact);
        if (x && !stop) {
          const steps = await listSteps(flowSid, x.sid);
          const s = editor.state;
          if (!stop) editor.setHighlight(pathHighlight(steps, s.nodes, s.edges, x.status === "active"));
        }
      } catch {
        /* keep polling */
      }
    };
    void tick();
    const timer = setInterval(() => void tick(), 1000);
    return () => {
      stop = true;
      clearInterval(timer);
    };
  }, [flowSid, contact, running, editor]);
  useEffect(() => () => editor.setHighlight(null), [editor]);
}

export function Simulator({ onClose }: { onClose: () => void }) {
  const editor = useEditor();
  const flow = useStoreSlice(editor.store, (s) => s.flow);
  const dirty = useStoreSlice(editor.store, (s) => s.dirty);
  const [mode, setMode] = useState<"sms" | "call">("sms");
  const [from, setFrom] = useState("+15550100001");
  const [to, setTo] = useState("+15550100000");
  const [running, setRunning] = useState(false);
  useLiveHighlight(flow?.sid, from, running);

  return (
    <aside className="side-panel simulator" aria-label="Simulator">
      <div className="panel-head">
        <h3>Simulator</h3>
        <button type="button" className="icon-btn" aria-label="Close" onClick={onClose}>
          ×
        </button>
      </div>
      <p className="muted small">
        Talks to the latest saved revision as a test user{dirty ? " — you have unsaved changes: save first" : ""}.
      </p>
      <div className="tabs" role="tablist">
        <button type="button" role="tab" aria-selected={mode === "sms"} className={mode === "sms" ? "on" : ""} onClick={() => setMode("sms")}>
          Messaging
        </button>
        <button type="button" role="tab" aria-selected={mode === "call"} className={mode === "call" ? "on" : ""} onClick={() => setMode("call")}>
          Voice call
        </button>
      </div>
      <div className="sim-numbers">
        <label>
          Test user
          <input aria-label="Test user number" value={from} onChange={(e) => setFrom(e.target.value)} />
        </label>
        <label>
          Flow number
          <input aria-label="Flow number" value={to} onChange={(e) => setTo(e.target.value)} />
        </label>
      </div>
      {flow && mode === "sms" && <SmsChat flowSid={flow.sid} from={from} to={to} onActivity={() => setRunning(true)} />}
      {flow && mode === "call" && <CallPad flowSid={flow.sid} from={from} to={to} onActivity={() => setRunning(true)} />}
    </aside>
  );
}

function SmsChat({ flowSid, from, to, onActivity }: { flowSid: string; from: string; to: string; onActivity: () => void }) {
  const [messages, setMessages] = useState<SimMessage[]>([]);
  const [text, setText] = useState("");
  const [error, setError] = useState("");
  const bottom = useRef<HTMLDivElement>(null);

  useEffect(() => {
    let stop = false;
    const tick = () =>
      simListMessages(flowSid, from)
        .then((m) => {
          if (!stop) setMessages(m);
          setError("");
        })
        .catch((e) => !stop && setError(explain(e)));
    tick();
    const timer = setInterval(tick, 1000);
    return () => {
      stop = true;
      clearInterval(timer);
    };
  }, [flowSid, from]);

  useEffect(() => {
    bottom.current?.scrollIntoView({ block: "end" });
  }, [messages.length]);

  const send = async () => {
    const body = text.trim();
    if (!body) return;
    setText("");
    onActivity();
    try {
      await simSendMessage(flowSid, from, to, body);
      setMessages(await simListMessages(flowSid, from));
    } catch (e) {
      toast(explain(e), "error");
    }
  };

  return (
    <div className="chat">
      <div className="chat-log" aria-label="Conversation">
        {messages.length === 0 && !error && <div className="muted small">Send a message to start an execution.</div>}
        {messages.map((m) => (
          <div key={m.sid} className={`bubble ${m.direction.startsWith("inbound") ? "me" : "flow"}`}>
            {m.body}
          </div>
        ))}
        <div ref={bottom} />
      </div>
      {error && <div className="error-text">{error}</div>}
      <form
        className="chat-input"
        onSubmit={(e) => {
          e.preventDefault();
          void send();
        }}
      >
        <input aria-label="Message" placeholder="Type a message" value={text} onChange={(e) => setText(e.target.value)} />
        <button type="submit" className="btn primary">
          Send
        </button>
      </form>
    </div>
  );
}

function CallPad({ flowSid, from, to, onActivity }: { flowSid: string; from: string; to: string; onActivity: () => void }) {
  const [callSid, setCallSid] = useState<string | null>(null);
  const [lines, setLines] = useState<(CallLine & { you?: boolean })[]>([]);
  const [digits, setDigits] = useState("");
  const [speech, setSpeech] = useState("");

  const hear = (twiml: string) => {
    const heard = describeTwiml(twiml);
    setLines((l) => [...l, ...heard]);
    if (heard.some((h) => h.kind === "hangup") || !heard.some((h) => h.kind === "gather")) {
      if (heard.some((h) => h.kind === "hangup")) setCallSid(null);
    }
  };

  const call = async () => {
    onActivity();
    setLines([{ kind: "other", text: `Calling ${to}…` }]);
    try {
      const res = await simStartCall(flowSid, from, to);
      setCallSid(res.call_sid);
      hear(res.twiml);
    } catch (e) {
      setLines((l) => [...l, { kind: "other", text: explain(e) }]);
    }
  };

  const input = async (payload: { digits?: string; speech?: string }) => {
    if (!callSid) return;
    setLines((l) => [...l, { kind: "other", text: payload.digits ? `You pressed ${payload.digits}` : `You said “${payload.speech}”`, you: true }]);
    try {
      hear((await simCallInput(callSid, payload)).twiml);
    } catch (e) {
      toast(explain(e), "error");
    }
  };

  return (
    <div className="call">
      <div className="call-log" aria-label="Call transcript">
        {lines.map((l, i) => (
          <div key={i} className={`call-line ${l.kind}${l.you ? " you" : ""}`}>
            {l.kind === "say" && <span className="who">Flow says</span>}
            {l.text}
          </div>
        ))}
      </div>
      {!callSid ? (
        <button type="button" className="btn primary" onClick={() => void call()}>
          Call the flow
        </button>
      ) : (
        <>
          <div className="keypad" aria-label="Keypad">
            {KEYS.map((k) => (
              <button type="button" key={k} onClick={() => setDigits((d) => d + k)}>
                {k}
              </button>
            ))}
          </div>
          <div className="chat-input">
            <input aria-label="Digits" value={digits} onChange={(e) => setDigits(e.target.value)} placeholder="Digits" />
            <button type="button" className="btn" disabled={!digits} onClick={() => { void input({ digits }); setDigits(""); }}>
              Send digits
            </button>
          </div>
          <form
            className="chat-input"
            onSubmit={(e) => {
              e.preventDefault();
              if (speech.trim()) void input({ speech: speech.trim() });
              setSpeech("");
            }}
          >
            <input aria-label="Speech" value={speech} onChange={(e) => setSpeech(e.target.value)} placeholder="Say something" />
            <button type="submit" className="btn">
              Say
            </button>
          </form>
          <button type="button" className="btn danger" onClick={() => { setCallSid(null); setLines((l) => [...l, { kind: "hangup", text: "You hung up" }]); }}>
            Hang up
          </button>
        </>
      )}
    </div>
  );
}
