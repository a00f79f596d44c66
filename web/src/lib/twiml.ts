// What a caller hears and does on a simulated call: from the simulator's `actions` (or,
// for an answer without them, from its TwiML).

import type { SimCallAction } from "../api/types";

export interface CallLine {
  kind: "say" | "play" | "gather" | "record" | "hangup" | "note" | "other";
  text: string;
}

const INPUT_WORDS: Record<string, string> = { dtmf: "keys", speech: "speech" };

function waitingFor(input: string): string {
  const parts = input.split(/[\s,]+/).filter(Boolean);
  return `Waiting for ${(parts.length ? parts : ["dtmf"]).map((p) => INPUT_WORDS[p] ?? p).join(" or ")}…`;
}

export function describeActions(actions: SimCallAction[]): CallLine[] {
  return actions.map((a): CallLine => {
    switch (a.kind) {
      case "say":
        return { kind: "say", text: a.text };
      case "play":
        return { kind: "play", text: `♪ ${a.text}` };
      case "pause":
        return { kind: "other", text: "(pause)" };
      case "gather":
        return { kind: "gather", text: waitingFor(a.text) };
      case "record":
        return { kind: "record", text: "Recording… (leave a message, or hang up)" };
      case "hangup":
      case "reject":
        // The server says why ("The flow hung up", "the call has ended", "busy", ...).
        return { kind: "hangup", text: a.text ? a.text[0].toUpperCase() + a.text.slice(1) : "The call ended" };
      case "note":
        return { kind: "note", text: a.text };
      default:
        return { kind: "other", text: `${a.kind[0]?.toUpperCase() ?? ""}${a.kind.slice(1)}${a.text ? `: ${a.text}` : ""}` };
    }
  });
}

export function describeTwiml(twiml: string): CallLine[] {
  const doc = new DOMParser().parseFromString(twiml, "text/xml");
  const out: CallLine[] = [];
  const walk = (el: Element) => {
    for (const child of Array.from(el.children)) {
      const tag = child.tagName;
      if (tag === "Say") out.push({ kind: "say", text: child.textContent?.trim() ?? "" });
      else if (tag === "Play") out.push({ kind: "play", text: `♪ ${child.textContent?.trim() ?? ""}` });
      else if (tag === "Gather") {
        walk(child);
        out.push({ kind: "gather", text: waitingFor(child.getAttribute("input") ?? "dtmf") });
        continue;
      } else if (tag === "Record") out.push({ kind: "record", text: "Recording… (leave a message, or hang up)" });
      else if (tag === "Hangup") out.push({ kind: "hangup", text: "The flow hung up" });
      else if (tag === "Pause") out.push({ kind: "other", text: "(pause)" });
      else out.push({ kind: "other", text: `<${tag}> ${child.textContent?.trim() ?? ""}`.trim() });
      if (tag !== "Gather") walk(child);
    }
  };
  if (doc.documentElement && doc.documentElement.tagName === "Response") walk(doc.documentElement);
  return out;
}
