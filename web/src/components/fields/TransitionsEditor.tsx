// The inspector's transitions: where each event goes, and Split Based On's conditions.

import type { Condition, WidgetSchema } from "../../api/types";
import { uid } from "../../lib/uid";
import type { FlowEdge, Slot, WidgetNode } from "../../state/graph";
import { OPERATORS, slotLabel } from "../../state/labels";
import { LiquidInput } from "./LiquidInput";

interface Props {
  node: WidgetNode;
  schema: WidgetSchema | undefined;
  targets: { id: string; name: string }[];
  edges: FlowEdge[];
  onConnect: (handle: string, target: string | null) => void;
  onSlots: (slots: Slot[]) => void;
  suggestions: () => string[];
  error?: string;
}

const NO_VALUE = new Set(["is_blank", "is_not_blank"]);

export function TransitionsEditor({ node, schema, targets, edges, onConnect, onSlots, suggestions, error }: Props) {
  const targetOf = new Map<string, string>();
  for (const e of edges) if (e.source === node.id && e.sourceHandle) targetOf.set(e.sourceHandle, e.target);
  const repeatable = schema?.repeatable_events ?? [];
  const operators = schema?.operators?.length ? schema.operators : OPERATORS;
  const input = String(node.data.properties.input ?? "");

  const setCondition = (slot: Slot, patch: Partial<Condition>) => {
    const cond: Condition = {
      friendly_name: "",
      arguments: [input],
      type: "equal_to",
      value: "",
      ...(slot.conditions?.[0] ?? {}),
      ...patch,
    };
    if (patch.type && NO_VALUE.has(patch.type) && !cond.value) cond.value = patch.type === "is_blank" ? "Is Blank" : "Is Not Blank";
    onSlots(node.data.slots.map((s) => (s.id === slot.id ? { ...s, conditions: [cond, ...(s.conditions ?? []).slice(1)] } : s)));
  };

  const addCondition = (event: string) => {
    const n = node.data.slots.filter((s) => s.event === event).length + 1;
    onSlots([
      ...node.data.slots,
      {
        id: uid("h"),
        event,
        conditions: [{ friendly_name: `Condition ${n}`, arguments: [input], type: "equal_to", value: "" }],
      },
    ]);
  };

  return (
    <div className="transitions" data-field="transitions">
      {node.data.slots.map((slot) => {
        const isCond = repeatable.includes(slot.event);
        const cond = slot.conditions?.[0];
        return (
          <div className={`transition${isCond ? " cond" : ""}`} key={slot.id} data-slot-event={slot.event}>
            {isCond && cond ? (
              <>
                <div className="cond-row">
                  <input
                    aria-label="Condition name"
                    className="cond-name"
                    value={cond.friendly_name}
                    placeholder="Condition name"
                    onChange={(e) => setCondition(slot, { friendly_name: e.target.value })}
                  />
                  <button
                    type="button"
                    className="icon-btn"
                    title="Remove condition"
                    onClick={() => onSlots(node.data.slots.filter((s) => s.id !== slot.id))}
                  >
                    ×
                  </button>
                </div>
                <div className="cond-row">
                  <select
                    aria-label="Operator"
                    value={cond.type}
                    onChange={(e) => setCondition(slot, { type: e.target.value })}
                  >
                    {operators.map((o) => (
                      <option key={o.name} value={o.name}>
                        {o.label}
                      </option>
                    ))}
                  </select>
                  {!NO_VALUE.has(cond.type) && (
                    <LiquidInput
                      value={String(cond.value ?? "")}
                      placeholder="Value"
                      suggestions={suggestions}
                      onChange={(v) => setCondition(slot, { value: v })}
                    />
                  )}
                </div>
              </>
            ) : (
              <div className="transition-label">{slotLabel(slot, schema)}</div>
            )}
            <select
              aria-label={`Next widget for ${slotLabel(slot, schema)}`}
              className="transition-target"
              value={targetOf.get(slot.id) ?? ""}
              onChange={(e) => onConnect(slot.id, e.target.value || null)}
            >
              <option value="">— not connected —</option>
              {targets.map((n) => (
                <option key={n.id} value={n.id}>
                  {n.name}
                </option>
              ))}
            </select>
          </div>
        );
      })}
      {repeatable.map((ev) => (
        <button key={ev} type="button" className="link-btn" onClick={() => addCondition(ev)}>
          + New condition
        </button>
      ))}
      {error && <div className="error-text" role="alert">{error}</div>}
    </div>
  );
}
