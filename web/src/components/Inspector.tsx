// The right-hand panel: a form for the selected widget, generated from its schema.

import { useCallback, useEffect, useMemo, useRef, useState } from "react";
import { useStoreSlice } from "../lib/store";
import { useEditor } from "../state/context";
import type { WidgetData, WidgetNode } from "../state/graph";
import { variablesInScope } from "../state/scope";
import { duplicateNamesOf, widgetErrors } from "../state/validate";
import { parseNamesKey, widgetNamesKey } from "../state/names";
import { PropField } from "./fields/PropField";
import { TransitionsEditor } from "./fields/TransitionsEditor";

export function Inspector() {
  const editor = useEditor();
  const selected = useStoreSlice(editor.store, (s) => {
    let found: WidgetNode | null = null;
    for (const n of s.nodes) {
      if (!n.selected) continue;
      if (found) return null; // several selected
      found = n;
    }
    return found;
  });
  const count = useStoreSlice(editor.store, (s) => s.nodes.reduce((c, n) => c + (n.selected ? 1 : 0), 0));
  if (!selected) {
    return (
      <aside className="inspector empty" aria-label="Inspector">
        <div className="inspector-hint">
          {count > 1 ? `${count} widgets selected` : "Select a widget to configure it, or drag one in from the Widget Library."}
        </div>
        <FlowSettings />
      </aside>
    );
  }
  return <WidgetForm key={selected.id} node={selected} />;
}

function FlowSettings() {
  const editor = useEditor();
  const meta = useStoreSlice(editor.store, (s) => s.meta);
  const flowErrors = useStoreSlice(editor.store, (s) => s.serverErrors[""]);
  return (
    <div className="section">
      <h3>Flow configuration</h3>
      <label className="check">
        <input
          type="checkbox"
          checked={meta.flags?.allow_concurrent_calls ?? true}
          onChange={(e) => editor.commit({ meta: { ...meta, flags: { allow_concurrent_calls: e.target.checked } } })}
        />
        <span>Allow concurrent calls</span>
      </label>
      <div className="field">
        <label htmlFor="flow-description">Description</label>
        <input
          id="flow-description"
          value={meta.description ?? ""}
          onChange={(e) => editor.commit({ meta: { ...meta, description: e.target.value } }, "flow:description")}
        />
      </div>
      {flowErrors && Object.values(flowErrors).map((m) => <div className="error-text" key={m}>{m}</div>)}
    </div>
  );
}

function WidgetForm({ node }: { node: WidgetNode }) {
  const editor = useEditor();
  const schema = editor.schemas.get(node.data.type);
  const serverErrors = useStoreSlice(editor.store, (s) => s.serverErrors[node.data.name]);
  const duplicate = useStoreSlice(editor.store, (s) => duplicateNamesOf(s.nodes).has(node.data.name));
  const namesKey = useStoreSlice(editor.store, (s) => widgetNamesKey(s.nodes));
  const targets = useMemo(() => parseNamesKey(namesKey), [namesKey]);
  const edges = useStoreSlice(editor.store, (s) => s.edges);
  const [nameDraft, setNameDraft] = useState(node.data.name);
  const nameInput = useRef<HTMLInputElement>(null);
  // Undo/redo can change the name under the field: show it unless the user is typing.
  useEffect(() => {
    if (document.activeElement !== nameInput.current) setNameDraft(node.data.name);
  }, [node.data.name]);
  useEffect(() => () => editor.endRename(), [editor]);
  const errors = { ...widgetErrors(node.data, schema), ...(serverErrors ?? {}) };
  if (duplicate) errors.name = `Another widget is already named ${node.data.name}`;

  // Completion list computed on demand (when the user types "{{").
  const suggestions = useCallback(
    () => variablesInScope(node.id, editor.state.nodes, editor.state.edges, editor.schemas),
    [editor, node.id],
  );
  const props = useMemo(() => (schema?.properties ?? []).filter((p) => p.editor !== "hidden" && p.name !== "offset"), [schema]);
  const known = new Set((schema?.properties ?? []).map((p) => p.name));
  const extra = Object.keys(node.data.properties).filter((k) => !known.has(k));

  const setProp = (name: string, value: unknown) => {
    if (node.data.type === "split-based-on" && name === "input") {
      editor.updateData(
        node.id,
        (d: WidgetData) => ({
          ...d,
          properties: { ...d.properties, input: value },
          slots: d.slots.map((s) =>
            s.conditions ? { ...s, conditions: s.conditions.map((c) => ({ ...c, arguments: [String(value ?? "")] })) } : s,
          ),
        }),
        `${node.id}:input`,
      );
    } else editor.setProperty(node.id, name, value);
  };

  return (
    <aside className="inspector" aria-label="Inspector" data-widget={node.data.name}>
      <div className="inspector-head">
        <div className="inspector-type">{schema?.label ?? node.data.type}</div>
        {schema?.description && <div className="help">{schema.description}</div>}
      </div>
      {errors[""] && <div className="error-text banner">{errors[""]}</div>}
      <div className="section">
        <div className={`field${errors.name ? " field-error" : ""}`} data-field="name">
          <label htmlFor="widget-name">Widget name</label>
          <input
            id="widget-name"
            ref={nameInput}
            value={nameDraft}
            disabled={node.data.type === "trigger"}
            className={errors.name ? "invalid" : ""}
            onChange={(e) => {
              setNameDraft(e.target.value);
              editor.rename(node.id, e.target.value);
            }}
            onBlur={() => editor.endRename()}
            title="Renaming also updates the Liquid references to this widget (widgets.name.…)"
          />
          {errors.name && <div className="error-text" role="alert">{errors.name}</div>}
        </div>
      </div>
      {props.length > 0 && (
        <div className="section">
          <h3>Config</h3>
          {props.map((p) => (
            <PropField
              key={p.name}
              fieldId={`prop-${p.name}`}
              prop={p}
              value={node.data.properties[p.name]}
              error={errors[p.name]}
              suggestions={suggestions}
              onChange={(v) => setProp(p.name, v)}
            />
          ))}
        </div>
      )}
      {extra.length > 0 && (
        <div className="section">
          <h3>Other properties</h3>
          {extra.map((k) => (
            <div className="field" key={k} data-field={k}>
              <label>{k}</label>
              <code className="raw">{JSON.stringify(node.data.properties[k])}</code>
              {errors[k] && <div className="error-text">{errors[k]}</div>}
            </div>
          ))}
        </div>
      )}
      <div className="section">
        <h3>Transitions</h3>
        <TransitionsEditor
          node={node}
          schema={schema}
          targets={targets}
          edges={edges}
          suggestions={suggestions}
          error={errors.transitions}
          onConnect={(handle, target) => editor.connect(node.id, handle, target)}
          onSlots={(slots) => editor.setSlots(node.id, slots)}
        />
      </div>
    </aside>
  );
}
