// A collapsible JSON tree.

import { useState } from "react";

function Leaf({ value }: { value: unknown }) {
  if (value === null) return <span className="j-null">null</span>;
  if (typeof value === "string") return <span className="j-str">"{value}"</span>;
  if (typeof value === "number") return <span className="j-num">{value}</span>;
  if (typeof value === "boolean") return <span className="j-bool">{String(value)}</span>;
  return <span>{String(value)}</span>;
}

function Node({ name, value, depth, open: initiallyOpen }: { name?: string; value: unknown; depth: number; open: number }) {
  const [open, setOpen] = useState(depth < initiallyOpen);
  const isObj = value !== null && typeof value === "object";
  const label = name !== undefined ? <span className="j-key">{name}: </span> : null;
  if (!isObj)
    return (
      <div className="j-row">
        {label}
        <Leaf value={value} />
      </div>
    );
  const entries = Array.isArray(value)
    ? value.map((v, i) => [String(i), v] as const)
    : Object.entries(value as Record<string, unknown>);
  const brackets = Array.isArray(value) ? ["[", "]"] : ["{", "}"];
  return (
    <div className="j-node">
      <button type="button" className="j-toggle" aria-expanded={open} onClick={() => setOpen(!open)}>
        {open ? "▾" : "▸"} {label}
        <span className="muted">
          {brackets[0]}
          {open ? "" : ` ${entries.length} ${entries.length === 1 ? "item" : "items"} ${brackets[1]}`}
        </span>
      </button>
      {open && (
        <div className="j-children">
          {entries.map(([k, v]) => (
            <Node key={k} name={k} value={v} depth={depth + 1} open={initiallyOpen} />
          ))}
          <span className="muted">{brackets[1]}</span>
        </div>
      )}
    </div>
  );
}

export function JsonViewer({ value, open = 1 }: { value: unknown; open?: number }) {
  return (
    <div className="json-viewer">
      <Node value={value} depth={0} open={open} />
    </div>
  );
}
