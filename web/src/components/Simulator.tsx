// The simulator drawer: chat with the latest saved revision over SMS as a test user, write
// in a Twilio Conversation (incomingConversationMessage), or place a simulated call, while the canvas highlights the widget the execution is at.
// Uses Callboard's simulator channel API (/callboard/v1/Simulator/..., docs/simulator.md)
// and follows the execution on the flow's live event stream (polling while it is down).

import { useCallback, useEffect, useRef, useState } from "react";
import { fetchTests, saveTests } from "../api/flowtests";
import { appendTest, freshName, testEntry, type TestStep } from "../state/flowtests";
import { ApiError } from "../api/client";
import {
  simCallInput,
  simListMessages,
  simSendConversationMessage,
  simSendMessage,
  simStartCall,
  type CallInput,
} from "../api/callboard";
import { listExecutions, listSteps } from "../api/studio";
import type { SimCall, SimMessage, Step } from "../api/types";
import { useStoreSlice } from "../lib/store";
import { toast } from "../lib/toast";
import { describeActions, describeTwiml, type CallLine } from "../lib/twiml";
import { useEditor } from "../state/context";
import { EXECUTION_ENDED, EXECUTION_STARTED, STEP_ENDED, useFlowEvents, usePollingFallback, type LiveStatus } from "../state/live";
import { pathHighlight } from "../state/path";
import { mergeSteps, stepFromEvent, withStep } from "../state/trace";
import { LiveBadge } from "./ExecutionsPanel";

const KEYS = ["1", "2", "3", "4", "5", "6", "7", "8", "9", "*", "0", "#"];

function explain(e: unknown): string {
  if (e instanceof ApiError && e.status === 404 && /Simulator/.test(e.message))
    return "This server has no simulator channel (/callboard/v1/Simulator).";
  return e instanceof Error ? e.message : String(e);
}

interface Trace {
  sid: string;
  steps: Step[];
  active: boolean;
}

/** Follows the contact's newest execution (live events; REST on (re)connect and while the
 * stream is down) and, once `running`, highlights where it is on the canvas. */
function useContactTrace(flowSid: string, contact: string, running: boolean, onAny: () => void) {
  const editor = useEditor();
  const [trace, setTrace] = useState<Trace | null>(null);
  const others = useRef(new Set<string>());
  const pending = useRef<ReturnType<typeof setTimeout> | null>(null);

  const resync = useCallback(async () => {
    try {
      const page = await listExecutions(flowSid, {});
      const x = page.items.find((e) => e.contact_channel_address === contact);
      if (!x) return;
      const steps = await listSteps(flowSid, x.sid);
      setTrace((old) =>
        old && old.sid === x.sid
          ? { sid: x.sid, steps: mergeSteps(steps, old.steps), active: old.active && x.status === "active" }
          : { sid: x.sid, steps, active: x.status === "active" },
      );
    } catch {
      /* the next event or poll tries again */
    }
  }, [flowSid, contact]);

  const resyncSoon = () => {
    if (pending.current) return;
    pending.current = setTimeout(() => {
      pending.current = null;
      void resync();
    }, 250);
  };

  const live = useFlowEvents({
    onResync: () => void resync(),
    onEvent: (ev) => {
      onAny();
      const sid = String(ev.data.execution_sid ?? "");
      if (ev.type === EXECUTION_STARTED) {
        if (ev.data.contact_channel_address === contact) setTrace({ sid, steps: [], active: true });
        else others.current.add(sid);
      } else if (ev.type === STEP_ENDED) {
        const step = stepFromEvent(ev);
        if (!step) return;
        setTrace((t) => {
          if (t && t.sid === sid) return { ...t, steps: withStep(t.steps, step) };
          if (!others.current.has(sid)) resyncSoon(); // an execution we know nothing about
          return t;
        });
      } else if (ev.type === EXECUTION_ENDED) {
        setTrace((t) => (t && t.sid === sid ? { ...t, active: false } : t));
      }
    },
  });
  usePollingFallback(live, running, () => void resync());

  // Another test user: start over (the stream's first opening loads the trace itself).
  const liveNow = useRef(live);
  liveNow.current = live;
  useEffect(() => {
    setTrace(null);
    others.current.clear();
    if (liveNow.current === "live") void resync();
    return () => {
      if (pending.current) clearTimeout(pending.current);
      pending.current = null;
    };
  }, [resync]);

  useEffect(() => {
    if (!running || !trace) return;
    const s = editor.state;
    editor.setHighlight(pathHighlight(trace.steps, s.nodes, s.edges, trace.active));
  }, [trace, running, editor]);
  useEffect(() => () => editor.setHighlight(null), [editor]);
  return { trace, live };
}

export function Simulator({ onClose }: { onClose: () => void }) {
  const editor = useEditor();
  const flow = useStoreSlice(editor.store, (s) => s.flow);
  const dirty = useStoreSlice(editor.store, (s) => s.dirty);
  const [mode, setMode] = useState<"sms" | "conversation" | "call">("sms");
  const [from, setFrom] = useState("+15550100001");
  const [to, setTo] = useState("+15550100000");
  const [conversationSid, setConversationSid] = useState(""); // "": the next message starts one
  const [running, setRunning] = useState(false);
  const [activity, setActivity] = useState(0);
  const onAny = useCallback(() => setActivity((n) => n + 1), []);
  // A conversation execution's contact is its Conversation (CH…).
  const contact = mode === "conversation" ? conversationSid || "(new conversation)" : from;
  const { live } = useContactTrace(flow?.sid ?? "", contact, running && !!flow, onAny);
  const start = useCallback(() => setRunning(true), []);

  return (
    <aside className="side-panel simulator" aria-label="Simulator">
      <div className="panel-head">
        <h3>Simulator</h3>
        <LiveBadge status={live} />
        <button type="button" className="icon-btn" aria-label="Close" onClick={onClose}>
          ×
        </button>
      </div>
      <p className="muted small">
        Talks to the latest saved revision (draft or published) as a test user
        {dirty ? " — you have unsaved changes: save first" : ""}.
      </p>
      <div className="tabs" role="tablist">
        <button type="button" role="tab" aria-selected={mode === "sms"} className={mode === "sms" ? "on" : ""} onClick={() => setMode("sms")}>
          Messaging
        </button>
        <button
          type="button"
          role="tab"
          aria-selected={mode === "conversation"}
          className={mode === "conversation" ? "on" : ""}
          onClick={() => setMode("conversation")}
        >
          Conversation
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
      {flow && mode === "sms" && <SmsChat flowSid={flow.sid} from={from} to={to} live={live} activity={activity} onActivity={start} />}
      {flow && mode === "conversation" && (
        <>
          <p className="muted small sim-conversation">
            {conversationSid ? `Conversation ${conversationSid}` : "Your first message starts a new Conversation"} (incomingConversationMessage; the
            test user is the author).{" "}
            {conversationSid && (
              <button type="button" className="link-btn" onClick={() => setConversationSid("")}>
                New conversation
              </button>
            )}
          </p>
          <SmsChat
            key={conversationSid || "new"}
            flowSid={flow.sid}
            from={from}
            to={to}
            live={live}
            activity={activity}
            onActivity={start}
            conversation={{ sid: conversationSid, onSid: setConversationSid }}
          />
        </>
      )}
      {flow && mode === "call" && <CallPad flowSid={flow.sid} from={from} to={to} onActivity={start} />}
    </aside>
  );
}

/** Add the conversation just held to the flow's stored tests ("Save as test"). */
async function saveAsTest(flowSid: string, from: string, to: string, call: boolean, steps: TestStep[], conversation = false) {
  if (steps.length === 0) {
    toast("Nothing to save yet: talk to the flow first.", "error");
    return;
  }
  try {
    const stored = await fetchTests(flowSid);
    const base = call ? "simulator call" : conversation ? "simulator Conversation" : "simulator conversation";
    const name = freshName(stored.tests, base);
    const saved = await saveTests(flowSid, appendTest(stored.tests, testEntry(name, from, to, call, steps, conversation)));
    toast(`Saved as test "${name}" (tests version ${saved.version}).`, "success");
  } catch (e) {
    toast(explain(e), "error", 8000);
  }
}

/** The latest execution's messages as test steps. */
function smsSteps(messages: SimMessage[]): TestStep[] {
  const last = messages[messages.length - 1]?.execution_sid;
  return messages
    .filter((m) => m.execution_sid === last)
    .map((m): TestStep => (m.direction.startsWith("inbound") ? { send: m.body } : { expect: m.body }));
}

function SmsChat({
  flowSid,
  from,
  to,
  live,
  activity,
  onActivity,
  conversation,
}: {
  flowSid: string;
  from: string;
  to: string;
  live: LiveStatus;
  activity: number;
  onActivity: () => void;
  /** Write in a Twilio Conversation (its SID, "" until the first message creates it). */
  conversation?: { sid: string; onSid: (sid: string) => void };
}) {
  const contact = conversation ? conversation.sid : from;
  const [messages, setMessages] = useState<SimMessage[]>([]);
  const [text, setText] = useState("");
  const [error, setError] = useState("");
  const bottom = useRef<HTMLDivElement>(null);
  const stopped = useRef(false);

  const refresh = useCallback(() => {
    if (!contact) return; // a conversation not started yet
    simListMessages(flowSid, contact)
      .then((m) => {
        if (stopped.current) return;
        setMessages(m);
        setError("");
      })
      .catch((e) => !stopped.current && setError(explain(e)));
  }, [flowSid, contact]);

  useEffect(() => {
    stopped.current = false;
    refresh();
    return () => {
      stopped.current = true;
    };
  }, [refresh]);
  // Events of the flow (a step ended, an execution ended) usually mean new messages.
  useEffect(() => {
    if (activity === 0) return;
    const timer = setTimeout(refresh, 60);
    return () => clearTimeout(timer);
  }, [activity, refresh]);
  usePollingFallback(live, true, refresh, 1000);
  usePollingFallback("down", live === "live", refresh, 5000); // belt and braces

  useEffect(() => {
    bottom.current?.scrollIntoView({ block: "end" });
  }, [messages.length]);

  const send = async () => {
    const body = text.trim();
    if (!body) return;
    setText("");
    onActivity();
    try {
      if (conversation) {
        const sent = await simSendConversationMessage(flowSid, conversation.sid, from, body);
        if (sent.conversation_sid !== conversation.sid) conversation.onSid(sent.conversation_sid);
        else refresh();
        return;
      }
      const sent = await simSendMessage(flowSid, from, to, body);
      setMessages((m) => (m.some((x) => x.sid === sent.sid) ? m : [...m, sent]));
      refresh();
    } catch (e) {
      toast(explain(e), "error");
    }
  };

  return (
    <div className="chat">
      <div className="chat-log" aria-label="Conversation">
        {messages.length === 0 && !error && <div className="muted small">Send a message to start an execution.</div>}
        {messages.map((m) => (
          <div key={m.sid} className={`bubble ${m.direction.startsWith("inbound") ? "me" : "flow"}`} data-sid={m.sid}>
            {m.body}
            {m.media_urls?.map((u) => (
              <a key={u} className="media" href={u} target="_blank" rel="noreferrer">
                {u}
              </a>
            ))}
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
      <button
        type="button"
        className="btn save-as-test"
        onClick={() => void saveAsTest(flowSid, from, to, false, smsSteps(messages), !!conversation)}
      >
        Save as test
      </button>
    </div>
  );
}

type Line = CallLine & { you?: boolean };

function CallPad({ flowSid, from, to, onActivity }: { flowSid: string; from: string; to: string; onActivity: () => void }) {
  const [call, setCall] = useState<SimCall | null>(null);
  const [lines, setLines] = useState<Line[]>([]);
  const [digits, setDigits] = useState("");
  const [speech, setSpeech] = useState("");
  const [busy, setBusy] = useState(false);
  const log = useRef<HTMLDivElement>(null);
  const script = useRef<TestStep[]>([]); // the call as test steps ("Save as test")
  const ongoing = call !== null && !ended(call);

  useEffect(() => {
    log.current?.lastElementChild?.scrollIntoView({ block: "end" });
  }, [lines.length]);

  const hear = (res: SimCall) => {
    for (const a of res.actions ?? []) {
      if (a.kind === "say") script.current.push({ expect_say: a.text });
      else if (a.kind === "dial") script.current.push({ expect_dial: a.text });
    }
    const heard = res.actions ? describeActions(res.actions) : describeTwiml(res.twiml);
    const done = ended(res);
    setLines((l) => [
      ...l,
      ...heard,
      ...(done && !heard.some((h) => h.kind === "hangup") ? [{ kind: "hangup" as const, text: "The call ended" }] : []),
    ]);
    setCall(res);
  };

  const place = async () => {
    onActivity();
    setCall(null);
    setLines([{ kind: "other", text: `Calling ${to}…` }]);
    script.current = [];
    setBusy(true);
    try {
      hear(await simStartCall(flowSid, from, to));
    } catch (e) {
      setLines((l) => [...l, { kind: "hangup", text: explain(e) }]);
    } finally {
      setBusy(false);
    }
  };

  const send = async (input: CallInput, said: string) => {
    if (!call) return;
    setLines((l) => [...l, { kind: "other", text: said, you: true }]);
    if (input.digits) script.current.push({ press: input.digits });
    else if (input.speech) script.current.push({ speak: input.speech });
    else if (input.hangup) script.current.push({ hangup: true });
    setBusy(true);
    try {
      hear(await simCallInput(call.call_sid, input));
    } catch (e) {
      toast(explain(e), "error");
    } finally {
      setBusy(false);
    }
  };

  const waiting = call?.waiting_for ?? (lines.some((l) => l.kind === "gather") ? "gather" : null);

  return (
    <div className="call">
      <div className="call-log" aria-label="Call transcript" ref={log}>
        {lines.map((l, i) => (
          <div key={i} className={`call-line ${l.kind}${l.you ? " you" : ""}`}>
            {l.kind === "say" && <span className="who">Flow says</span>}
            {l.text}
          </div>
        ))}
      </div>
      {!ongoing ? (
        <button type="button" className="btn primary" disabled={busy} onClick={() => void place()}>
          {call ? "Call again" : "Call the flow"}
        </button>
      ) : (
        <>
          {waiting !== "record" && (
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
                <button
                  type="button"
                  className="btn"
                  disabled={!digits || busy}
                  onClick={() => {
                    void send({ digits }, `You pressed ${digits}`);
                    setDigits("");
                  }}
                >
                  Send digits
                </button>
              </div>
              <form
                className="chat-input"
                onSubmit={(e) => {
                  e.preventDefault();
                  if (speech.trim()) void send({ speech: speech.trim() }, `You said “${speech.trim()}”`);
                  setSpeech("");
                }}
              >
                <input aria-label="Speech" value={speech} onChange={(e) => setSpeech(e.target.value)} placeholder="Say something" />
                <button type="submit" className="btn" disabled={busy}>
                  Say
                </button>
              </form>
            </>
          )}
          <div className="call-actions">
            {waiting === "record" ? (
              <button type="button" className="btn" disabled={busy} onClick={() => void send({ recording: true }, "You left a message")}>
                Leave a message
              </button>
            ) : (
              <button type="button" className="btn" disabled={busy} title="Let the Gather time out" onClick={() => void send({}, "You stayed silent")}>
                Stay silent
              </button>
            )}
            <button type="button" className="btn danger" disabled={busy} onClick={() => void send({ hangup: true }, "You hung up")}>
              Hang up
            </button>
          </div>
        </>
      )}
      {call && (
        <button type="button" className="btn save-as-test" onClick={() => void saveAsTest(flowSid, from, to, true, [...script.current])}>
          Save as test
        </button>
      )}
    </div>
  );
}

function ended(call: SimCall): boolean {
  if (call.status) return !["in-progress", "ringing", "queued"].includes(call.status);
  if (call.actions) return !call.waiting_for;
  return !/<Gather|<Record/.test(call.twiml);
}
