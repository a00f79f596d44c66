// The central canvas: widgets as nodes, transitions as edges.

import {
  Background,
  BackgroundVariant,
  ControlButton,
  Controls,
  MiniMap,
  ReactFlow,
  getViewportForBounds,
  useReactFlow,
  type Edge,
} from "@xyflow/react";
import { useCallback, useEffect, useMemo, type DragEvent } from "react";
import { useStoreSlice } from "../lib/store";
import { useEditor } from "../state/context";
import type { WidgetNode } from "../state/graph";
import { GROUP_COLOR } from "../state/labels";
import { DRAG_MIME } from "./Library";
import { nodeTypes } from "./WidgetNode";

const LARGE_FLOW = 60;
// Large flows render only the visible nodes, so most are never measured, and React
// Flow's own fitView waits for every node to be measured: it would never run. Fitting is
// computed here from the measured sizes or, for nodes never rendered, the estimates
// (initialWidth/initialHeight), far enough out for a flow a few thousand pixels tall.
const MIN_ZOOM = 0.02;
type Flow = ReturnType<typeof useReactFlow<WidgetNode, Edge>>;

function canvasSize(): { width: number; height: number } | null {
  const rect = document.querySelector(".canvas .react-flow")?.getBoundingClientRect();
  return rect && rect.width > 0 && rect.height > 0 ? { width: rect.width, height: rect.height } : null;
}

function box(n: WidgetNode): { x: number; y: number; width: number; height: number } {
  const width = n.measured?.width ?? n.width ?? n.initialWidth ?? 220;
  const height = n.measured?.height ?? n.height ?? n.initialHeight ?? 60;
  return { x: n.position.x, y: n.position.y, width, height };
}

/** Shows the nodes in `ids` (all when null) as large as fits, at most at 100 %. */
function fitTo(rf: Flow, ids: Set<string> | null, padding: number): void {
  const size = canvasSize();
  const boxes = rf.getNodes().filter((n) => !ids || ids.has(n.id)).map(box);
  if (!size || boxes.length === 0) return;
  const x = Math.min(...boxes.map((b) => b.x));
  const y = Math.min(...boxes.map((b) => b.y));
  const right = Math.max(...boxes.map((b) => b.x + b.width));
  const bottom = Math.max(...boxes.map((b) => b.y + b.height));
  const bounds = { x, y, width: right - x, height: bottom - y };
  void rf.setViewport(getViewportForBounds(bounds, size.width, size.height, MIN_ZOOM, 1, padding));
}

/** Whether every node in `ids` lies inside the canvas at the current viewport. */
function allInView(rf: Flow, ids: Set<string>): boolean {
  const size = canvasSize();
  if (!size) return false;
  const { x, y, zoom } = rf.getViewport();
  return rf.getNodes().every((n) => {
    if (!ids.has(n.id)) return true;
    const b = box(n);
    const left = b.x * zoom + x;
    const top = b.y * zoom + y;
    return left >= 0 && top >= 0 && left + b.width * zoom <= size.width && top + b.height * zoom <= size.height;
  });
}

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
      fitTo(rf, null, 0.2);
      return;
    }
    // Large flows open at the Trigger, like Studio (rendering only what is visible).
    const start = s.nodes.find((n) => n.data.name === s.meta.initial_state) ?? s.nodes[0];
    const rect = document.querySelector(".canvas")?.getBoundingClientRect();
    const zoom = 0.8;
    const w = rect?.width ?? 1000;
    rf.setViewport({ x: w / 2 - (start.position.x + 110) * zoom, y: 60 - start.position.y * zoom, zoom });
  }, [editor, rf]);

  // An execution's path (opened in the Executions panel) is brought into view when part
  // of it is off-screen; a path already in view is left alone (live updates do not jump).
  useEffect(() => {
    if (!highlight) return;
    const names = new Set(highlight.visited);
    if (highlight.active) names.add(highlight.active);
    const ids = new Set(editor.state.nodes.filter((n) => names.has(n.data.name)).map((n) => n.id));
    if (ids.size === 0 || allInView(rf, ids)) return;
    fitTo(rf, ids, 0.25);
  }, [editor, rf, highlight]);

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
        minZoom={MIN_ZOOM}
        maxZoom={2}
        defaultEdgeOptions={{ type: "default" }}
        proOptions={{ hideAttribution: true }}
        connectionRadius={30}
      >
        <Background variant={BackgroundVariant.Dots} gap={18} size={1.4} color="#c4c9d6" />
        <Controls showInteractive={false} showFitView={false}>
          <ControlButton
            className="react-flow__controls-fitview"
            onClick={() => fitTo(rf, null, 0.1)}
            title="Fit view"
            aria-label="Fit view"
          >
            <svg viewBox="0 0 32 30" aria-hidden="true">
              <path d="M3.7 11.4H0V3a3 3 0 0 1 3-3h8.4v3.7H3.7v7.7zM20.6 0H29a3 3 0 0 1 3 3v8.4h-3.7V3.7h-7.7V0zM28.3 26.3v-7.7H32V27a3 3 0 0 1-3 3h-8.4v-3.7h7.7zM3.7 18.6v7.7h7.7V30H3a3 3 0 0 1-3-3v-8.4h3.7z" />
            </svg>
          </ControlButton>
        </Controls>
        <MiniMap pannable zoomable nodeColor={minimapColor} nodeStrokeWidth={0} />
      </ReactFlow>
    </div>
  );
}
