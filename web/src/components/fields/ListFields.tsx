// Key/value lists (parameters, variables, content variables) and string lists.

import type { ReactNode } from "react";

interface KV {
  key: string;
  value: unknown;
  [extra: string]: unknown;
}

export function KeyValuesField({
  value,
  onChange,
  renderValue,
}: {
  value: unknown;
  onChange: (v: KV[]) => void;
  renderValue: (v: string, set: (s: string) => void, i: number) => ReactNode;
}) {
  const items: KV[] = Array.isArray(value) ? (value as KV[]) : [];
  const update = (i: number, patch: Partial<KV>) =>
    onChange(items.map((item, j) => (j === i ? { ...item, ...patch } : item)));
  return (
    <div className="kv">
      {items.map((item, i) => (
        <div className="kv-row" key={i}>
          <input
            className="kv-key"
            placeholder="Key"
            aria-label={`Key ${i + 1}`}
            value={String(item.key ?? "")}
            onChange={(e) => update(i, { key: e.target.value })}
          />
          <div className="kv-value">
            {renderValue(item.value === undefined || item.value === null ? "" : String(item.value),
              (s) => update(i, { value: s }), i)}
          </div>
          <button
            type="button"
            className="icon-btn"
            title="Remove"
            onClick={() => onChange(items.filter((_, j) => j !== i))}
          >
            ×
          </button>
        </div>
      ))}
      <button type="button" className="link-btn" onClick={() => onChange([...items, { key: "", value: "" }])}>
        + Add
      </button>
    </div>
  );
}

export function StringListField({ value, onChange }: { value: unknown; onChange: (v: string[]) => void }) {
  const items: string[] = Array.isArray(value) ? (value as unknown[]).map(String) : [];
  return (
    <div className="kv">
      {items.map((item, i) => (
        <div className="kv-row" key={i}>
          <input
            value={item}
            aria-label={`Item ${i + 1}`}
            onChange={(e) => onChange(items.map((x, j) => (j === i ? e.target.value : x)))}
          />
          <button
            type="button"
            className="icon-btn"
            title="Remove"
            onClick={() => onChange(items.filter((_, j) => j !== i))}
          >
            ×
          </button>
        </div>
      ))}
      <button type="button" className="link-btn" onClick={() => onChange([...items, ""])}>
        + Add
      </button>
    </div>
  );
}
