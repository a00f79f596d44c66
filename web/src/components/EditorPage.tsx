// One flow open in the editor: top bar, library, canvas, inspector and side panels.

import { ReactFlowProvider, useReactFlow } from "@xyflow/react";
import { useEffect, useMemo, useState } from "react";
import { loadFlow } from "../api/studio";
import type { WidgetSchema } from "../api/types";
import { toast } from "../lib/toast";
import { EditorContext, useEditor as useEditorFromContext } from "../state/context";
import { Editor, type ClipboardFragment } from "../state/editor";
import { freeSpot } from "../state/layout";
import { LiveContext, LiveEvents } from "../state/live";
import { Canvas } from "./Canvas";
import { ExecutionsPanel } from "./ExecutionsPanel";
import { Inspector } from "./Inspector";
import { Library } from "./Library";
import { RevisionsPanel } from "./RevisionsPanel";
import { Simulator } from "./Simulator";
import { TestsPanel } from "./TestsPanel";
import { TopBar, type Panel } from "./TopBar";

let clipboard: ClipboardFragment | null = null;

const isTyping = (t: EventTarget | null) =>
  t instanceof HTMLElement && (t.isContentEditable || ["INPUT", "TEXTAREA", "SELECT"].includes(t.tagName));

export function EditorPage({ sid, schemas }: { sid: string; schemas: WidgetSchema[] }) {
  const editor = useMemo(() => new Editor(new Map(schemas.map((s) => [s.type, s]))), [schemas]);
  const live = useMemo(() => new LiveEvents(sid), [sid]);
  useEffect(() => () => live.close(), [live]);
  const [loaded, setLoaded] = useState(false);
  const [error, setError] = useState("");

  useEffect(() => {
    let cancelled = false;
    loadFlow(sid)
      .then((flow) => {
        if (cancelled) return;
        if (editor.load(flow)) toast("This flow had no widget positions: it was laid out automatically.");
        setLoaded(true);
      })
      .catch((e: Error) => setError(e.message));
    return () => {
      cancelled = true;
    };
  }, [sid, editor]);

  if (error) return <div className="page-error">Could not open flow {sid}: {error}</div>;
  if (!loaded) return <div className="loading">Loading flow…</div>;
  return (
    <EditorContext.Provider value={editor}>
      <LiveContext.Provider value={live}>
        <ReactFlowProvider>
          <EditorLayout schemas={schemas} />
        </ReactFlowProvider>
      </LiveContext.Provider>
    </EditorContext.Provider>
  );
}

function EditorLayout({ schemas }: { schemas: WidgetSchema[] }) {
  const [panel, setPanel] = useState<Panel>(null);
  const ed = useEditorFromContext();
  const rf = useReactFlow();

  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (isTyping(e.target)) return;
      const mod = e.ctrlKey || e.metaKey;
      const key = e.key.toLowerCase();
      if (mod && key === "z") {
        e.preventDefault();
        if (e.shiftKey) ed.redo();
        else ed.undo();
      } else if (mod && key === "y") {
        e.preventDefault();
        ed.redo();
      } else if (mod && key === "c") {
        clipboard = ed.copySelection() ?? clipboard;
      } else if (mod && key === "x") {
        clipboard = ed.copySelection() ?? clipboard;
        ed.deleteSelected();
      } else if (mod && key === "v") {
        if (clipboard) ed.paste(clipboard);
      } else if (mod && key === "d") {
        e.preventDefault();
        ed.duplicateSelected();
      } else if (mod && key === "a") {
        e.preventDefault();
        ed.store.set({ nodes: ed.state.nodes.map((n) => (n.selected ? n : { ...n, selected: true })) });
      } else if (key === "delete" || key === "backspace") {
        e.preventDefault();
        ed.deleteSelected();
      }
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, [ed]);

  useEffect(() => {
    const onUnload = (e: BeforeUnloadEvent) => {
      if (ed.state.dirty) e.preventDefault();
    };
    window.addEventListener("beforeunload", onUnload);
    return () => window.removeEventListener("beforeunload", onUnload);
  }, [ed]);

  const addFromLibrary = (type: string) => {
    const schema = ed.schemas.get(type);
    if (!schema) return;
    const { x, y, zoom } = rf.getViewport();
    const rect = document.querySelector(".canvas")?.getBoundingClientRect();
    const cx = ((rect?.width ?? 800) / 2 - x) / zoom;
    const cy = ((rect?.height ?? 600) / 2 - y) / zoom;
    const spot = freeSpot(ed.state.nodes, Math.round(cx - 110), Math.round(cy - 40), 260);
    ed.addWidget(schema, spot);
    if (spot.y > cy + 120) void rf.setCenter(spot.x + 110, spot.y + 40, { zoom, duration: 200 });
  };

  return (
    <div className="editor">
      <TopBar panel={panel} setPanel={setPanel} />
      <div className="editor-body">
        <Library schemas={schemas} onAdd={addFromLibrary} />
        <Canvas />
        {panel === "revisions" ? (
          <RevisionsPanel onClose={() => setPanel(null)} />
        ) : panel === "executions" ? (
          <ExecutionsPanel onClose={() => setPanel(null)} />
        ) : panel === "simulator" ? (
          <Simulator onClose={() => setPanel(null)} />
        ) : panel === "tests" ? (
          <TestsPanel onClose={() => setPanel(null)} />
        ) : (
          <Inspector />
        )}
      </div>
    </div>
  );
}
