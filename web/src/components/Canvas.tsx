// The central canvas: widgets as nodes, transitions as edges.

import {
  Background,
  BackgroundVariant,
  Controls,
  MiniMap,
  ReactFlow,
  useReactFlow,
  type Edge,
} from "@xyflow/react";
import { useCallback, useMemo, type DragEvent } from "react";
import { useStoreSlice } from "../lib/store";
import { useEditor } from "../state/context";
import type { WidgetNode } from "../state/graph";
import { GROUP_COLOR } from "../state/labels";
import { DRAG_MIME } from "./Library";
import { nodeTypes } from "./WidgetNode";

const LARGE_FLOW = 60;

export function Canvas() {
  const editor = useEditor();
  const rf = useReactFlow<WidgetNode, Edge>();
  const nodes = useStoreSlice(editor.store, (s) => s.nodes);
  const edges = useStoreSlice(editor.store, (s) => s.edges);
  const highlight = useStoreSlice(editor.store, (s) => s.highlight);

  const shownEdges = useMemo(() => {
    if (!highlight) return edges;
    return edges.map((e) =>
      highlight.uncovered?.has(e.id)
        ? { ...e, className: "uncovered" }
        : highlight.edges.has(e.id)
          ? { ...e, className: "path", animated: true }
          : { ...e, className: "dim" },
    );
  }, [edges, highlight]);

  const onDragOver = useCallback((e: DragEvent) => {
    if (e.dataTransfer.types.includes(DRAG_MIME)) {
      e.preventDefault();
      e.dataTransfer.dropEffect = "move";
    }
  }, []);

  const onDrop = useCallback(
    (e: DragEvent) => {
      const type = e.dataTransfer.getData(DRAG_MIME);
      const schema = editor.schemas.get(type);
      if (!schema) return;
      e.preventDefault();
      const p = rf.screenToFlowPosition({ x: e.clientX, y: e.clientY });
      editor.addWidget(schema, { x: Math.round(p.x - 110), y: Math.round(p.y - 24) });
    },
    [editor, rf],
  );

  const onInit = useCallback(() => {
    const s = editor.state;
    if (s.nodes.length <= LARGE_FLOW) {
      rf.fitView({ padding: 0.2, maxZoom: 1 });
      return;
    }
    // Large flows open at the Trigger, like Studio (rendering only what is visible).
    const start = s.nodes.find((n) => n.data.name === s.meta.initial_state) ?? s.nodes[0];
    const rect = document.querySelector(".canvas")?.getBoundingClientRect();
    const zoom = 0.8;
    const w = rect?.width ?? 1000;
    rf.setViewport({ x: w / 2 - (start.position.x + 110) * zoom, y: 60 - start.position.y * zoom, zoom });
  }, [editor, rf]);

  const minimapColor = useCallback(
    (n: WidgetNode) => GROUP_COLOR[editor.schemas.get(n.data.type)?.group ?? ""] ?? "#8891aa",
    [editor],
  );

  return (
    <div className="canvas" aria-label="Canvas">
      <ReactFlow<WidgetNode, Edge>
        nodes={nodes}
        edges={shownEdges}
        nodeTypes={nodeTypes}
        onNodesChange={editor.onNodesChange}
        onEdgesChange={editor.onEdgesChange}
        onConnect={editor.onConnect}
        onNodeDragStart={() => editor.checkpoint()}
        onSelectionDragStart={() => editor.checkpoint()}
        onInit={onInit}
        onDrop={onDrop}
        onDragOver={onDragOver}
        deleteKeyCode={null}
        multiSelectionKeyCode={["Shift", "Meta", "Control"]}
        selectionKeyCode="Shift"
        onlyRenderVisibleElements={nodes.length > LARGE_FLOW}
        minZoom={0.1}
        maxZoom={2}
        defaultEdgeOptions={{ type: "default" }}
        proOptions={{ hideAttribution: true }}
        connectionRadius={30}
      >
        <Background variant={BackgroundVariant.Dots} gap={18} size={1.4} color="#c4c9d6" />
        <Controls showInteractive={false} />
        <MiniMap pannable zoomable nodeColor={minimapColor} nodeStrokeWidth={0} />
      </ReactFlow>
    </div>
  );
}
