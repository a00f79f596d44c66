// What a caller would hear and do, read from TwiML (for the call simulator).

export interface CallLine {
  kind: "say" | "play" | "gather" | "hangup" | "other";
  text: string;
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
        const input = child.getAttribute("input") ?? "dtmf";
        out.push({ kind: "gather", text: `Waiting for ${input.replace(" ", " or ")}…` });
        continue;
      } else if (tag === "Hangup") out.push({ kind: "hangup", text: "The flow hung up" });
      else if (tag === "Pause") out.push({ kind: "other", text: "(pause)" });
      else out.push({ kind: "other", text: `<${tag}> ${child.textContent?.trim() ?? ""}`.trim() });
      if (tag !== "Gather") walk(child);
    }
  };
  if (doc.documentElement && doc.documentElement.tagName === "Response") walk(doc.documentElement);
  return out;
}
