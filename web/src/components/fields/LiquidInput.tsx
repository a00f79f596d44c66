// A text field that completes Liquid variables after "{{" or "{%".

import { useRef, useState, type KeyboardEvent } from "react";

interface Props {
  id?: string;
  value: string;
  onChange: (v: string) => void;
  suggestions: () => string[];
  multiline?: boolean;
  placeholder?: string;
  invalid?: boolean;
}

interface Open {
  start: number; // where the typed fragment starts
  end: number; // cursor
  items: string[];
  index: number;
}

/** The variable fragment being typed inside an unclosed Liquid tag, or null. */
export function fragmentAt(text: string, cursor: number): { start: number; prefix: string } | null {
  const before = text.slice(0, cursor);
  const open = Math.max(before.lastIndexOf("{{"), before.lastIndexOf("{%"));
  if (open < 0) return null;
  const close = Math.max(before.lastIndexOf("}}"), before.lastIndexOf("%}"));
  if (close > open) return null;
  const m = /[A-Za-z0-9_.\-]*$/.exec(before);
  const prefix = m ? m[0] : "";
  return { start: cursor - prefix.length, prefix };
}

export function LiquidInput({ id, value, onChange, suggestions, multiline, placeholder, invalid }: Props) {
  const ref = useRef<HTMLInputElement & HTMLTextAreaElement>(null);
  const [open, setOpen] = useState<Open | null>(null);

  const refresh = (text: string, cursor: number) => {
    const frag = fragmentAt(text, cursor);
    if (!frag) return setOpen(null);
    const p = frag.prefix.toLowerCase();
    const all = suggestions();
    const starts = all.filter((s) => s.toLowerCase().startsWith(p));
    const contains = p ? all.filter((s) => !s.toLowerCase().startsWith(p) && s.toLowerCase().includes(p)) : [];
    const items = [...starts, ...contains].slice(0, 12);
    setOpen(items.length ? { start: frag.start, end: cursor, items, index: 0 } : null);
  };

  const accept = (item: string) => {
    if (!open) return;
    const rest = value.slice(open.end);
    const closing = /^\s*(}}|%})/.test(rest) || value.slice(0, open.start).trimEnd().endsWith("{%") ? "" : "}}";
    const next = value.slice(0, open.start) + item + closing + rest;
    onChange(next);
    setOpen(null);
    const pos = open.start + item.length + closing.length;
    requestAnimationFrame(() => {
      ref.current?.focus();
      ref.current?.setSelectionRange(pos, pos);
    });
  };

  const onKeyDown = (e: KeyboardEvent) => {
    if (!open) return;
    if (e.key === "ArrowDown" || e.key === "ArrowUp") {
      e.preventDefault();
      const delta = e.key === "ArrowDown" ? 1 : -1;
      setOpen({ ...open, index: (open.index + delta + open.items.length) % open.items.length });
    } else if (e.key === "Enter" || e.key === "Tab") {
      e.preventDefault();
      accept(open.items[open.index]);
    } else if (e.key === "Escape") {
      e.preventDefault();
      setOpen(null);
    }
  };

  const common = {
    id,
    ref,
    value,
    placeholder,
    className: invalid ? "invalid" : "",
    spellCheck: false,
    onKeyDown,
    onChange: (e: { target: { value: string; selectionStart: number | null } }) => {
      onChange(e.target.value);
      refresh(e.target.value, e.target.selectionStart ?? e.target.value.length);
    },
    onBlur: () => setTimeout(() => setOpen(null), 150),
  };

  return (
    <div className="liquid">
      {multiline ? <textarea rows={4} {...common} /> : <input type="text" {...common} />}
      {open && (
        <ul className="completions" role="listbox">
          {open.items.map((item, i) => (
            <li
              key={item}
              role="option"
              aria-selected={i === open.index}
              className={i === open.index ? "active" : ""}
              onMouseDown={(e) => {
                e.preventDefault();
                accept(item);
              }}
            >
              {item}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
