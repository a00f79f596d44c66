// The Widget Library: widget types grouped as in Studio; drag one onto the canvas.

import { useMemo, useState } from "react";
import type { WidgetSchema } from "../api/types";
import { GROUP_COLOR, GROUPS } from "../state/labels";

export const DRAG_MIME = "application/x-callboard-widget";

export function Library({ schemas, onAdd }: { schemas: WidgetSchema[]; onAdd: (type: string) => void }) {
  const [query, setQuery] = useState("");
  const [collapsed, setCollapsed] = useState<Set<string>>(new Set());
  const toggle = (g: string) =>
    setCollapsed((c) => {
      const next = new Set(c);
      if (next.has(g)) next.delete(g);
      else next.add(g);
      return next;
    });
  const groups = useMemo(() => {
    const q = query.trim().toLowerCase();
    const byGroup = new Map<string, WidgetSchema[]>();
    for (const s of schemas) {
      if (s.type === "trigger" || s.runnable === false) continue;
      if (q && !s.label.toLowerCase().includes(q) && !s.type.includes(q)) continue;
      const list = byGroup.get(s.group);
      if (list) list.push(s);
      else byGroup.set(s.group, [s]);
    }
    const order = [...GROUPS, ...[...byGroup.keys()].filter((g) => !GROUPS.includes(g))];
    return order.filter((g) => byGroup.has(g)).map((g) => [g, byGroup.get(g)!] as const);
  }, [schemas, query]);

  return (
    <aside className="library" aria-label="Widget Library">
      <div className="panel-title">Widget Library</div>
      <input
        className="library-search"
        placeholder="Search widgets"
        aria-label="Search widgets"
        value={query}
        onChange={(e) => setQuery(e.target.value)}
      />
      <div className="library-groups">
        {groups.map(([group, items]) => (
          <section key={group} className={`library-group${collapsed.has(group) && !query ? " collapsed" : ""}`}>
            <h4 role="button" aria-expanded={!collapsed.has(group)} onClick={() => toggle(group)}>
              {group}
            </h4>
            {!(collapsed.has(group) && !query) && items.map((s) => (
              <div
                key={s.type}
                className="library-item"
                draggable
                data-type={s.type}
                title={s.description || s.label}
                style={{ borderLeftColor: GROUP_COLOR[group] ?? "#8891aa" }}
                onDragStart={(e) => {
                  e.dataTransfer.setData(DRAG_MIME, s.type);
                  e.dataTransfer.effectAllowed = "move";
                }}
                onDoubleClick={() => onAdd(s.type)}
              >
                {s.label}
              </div>
            ))}
          </section>
        ))}
      </div>
    </aside>
  );
}
