import { Handle, Position, useStore as useFlowStore, type NodeProps } from "@xyflow/react";
import { memo } from "react";
import { useStoreSlice } from "../lib/store";
import { useEditor } from "../state/context";
import type { WidgetNode as WidgetNodeT } from "../state/graph";
import { GROUP_COLOR, slotLabel } from "../state/labels";
import { nodeWidth } from "../state/layout";
import { duplicateNamesOf, widgetErrors } from "../state/validate";

const zoomedOut = (s: { transform: [number, number, number] }) => s.transform[2] < 0.45;

function WidgetNodeView({ data, selected }: NodeProps<WidgetNodeT>) {
  const editor = useEditor();
  const schema = editor.schemas.get(data.type);
  const clientErrors = widgetErrors(data, schema);
  const serverErrors = useStoreSlice(editor.store, (s) => s.serverErrors[data.name]);
  const duplicate = useStoreSlice(editor.store, (s) => duplicateNamesOf(s.nodes).has(data.name));
  const mark = useStoreSlice(editor.store, (s) => {
    const h = s.highlight;
    if (!h) return "";
    if (h.active === data.name) return "active";
    return h.visited.has(data.name) ? "visited" : "dim";
  });
  // Zoomed far out, labels are unreadable anyway: skip their text (cheaper to draw).
  const compact = useFlowStore(zoomedOut);
  const errorList = [
    ...Object.values(clientErrors),
    ...Object.values(serverErrors ?? {}),
    ...(duplicate ? [`Another widget is also named ${data.name}`] : []),
  ];
  const isTrigger = data.type === "trigger";
  const color = GROUP_COLOR[schema?.group ?? ""] ?? "#8891aa";
  const cls = [
    "wnode",
    selected ? "selected" : "",
    errorList.length ? "has-error" : "",
    mark ? `hl-${mark}` : "",
  ].join(" ");
  return (
    <div
      className={cls}
      style={{ width: nodeWidth(data, schema), borderTopColor: color }}
      data-name={data.name}
      data-type={data.type}
      title={errorList.join("\n") || undefined}
    >
      {!isTrigger && <Handle type="target" id="in" position={Position.Top} className="in-handle" />}
      <div className="wnode-head">
        <div className="wnode-name">{data.name}</div>
        <div className="wnode-type">{schema?.label ?? data.type}</div>
        {errorList.length > 0 && (
          <span className="wnode-badge" aria-label={`${errorList.length} errors`}>
            {errorList.length}
          </span>
        )}
      </div>
      <div className="wnode-slots">
        {data.slots.map((slot) => (
          <div className="slot" key={slot.id} data-event={slot.event}>
            <span className="slot-label">{compact ? "\u00a0" : slotLabel(slot, schema)}</span>
            <Handle
              type="source"
              id={slot.id}
              position={Position.Bottom}
              className="out-handle"
              data-event={slot.event}
            />
          </div>
        ))}
      </div>
    </div>
  );
}

export const WidgetNodeComponent = memo(WidgetNodeView);
export const nodeTypes = { widget: WidgetNodeComponent };
