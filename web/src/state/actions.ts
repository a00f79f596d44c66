// Save and publish, with the checks around them.

import { ApiError } from "../api/client";
import { issuesOf } from "./issues";
import { fetchFlow, updateFlow, validateFlow } from "../api/studio";
import type { Flow } from "../api/types";
import type { Editor } from "./editor";
import { countClientErrors, mapServerErrors } from "./validate";

export type SaveResult =
  | { ok: true; flow: Flow }
  | { ok: false; reason: "conflict"; latest: Flow }
  | { ok: false; reason: "invalid"; count: number }
  | { ok: false; reason: "error"; message: string };

/** Newer revision on the server than the one being edited? */
async function conflict(editor: Editor): Promise<Flow | null> {
  const flow = editor.state.flow;
  if (!flow) return null;
  const latest = await fetchFlow(flow.sid);
  return latest.revision > editor.state.baseRevision ? latest : null;
}

function invalid(editor: Editor, err: unknown): SaveResult | null {
  if (err instanceof ApiError && err.code === 81022) {
    const def = editor.definition();
    const issues = err.validationErrors;
    editor.setServerErrors(
      mapServerErrors(issues.length ? issues : [{ property_path: "", message: err.message }], def),
    );
    return { ok: false, reason: "invalid", count: Math.max(1, issues.length) };
  }
  return null;
}

export async function save(
  editor: Editor,
  opts: { status: "draft" | "published"; commitMessage?: string; force?: boolean },
): Promise<SaveResult> {
  const flow = editor.state.flow;
  if (!flow) return { ok: false, reason: "error", message: "No flow loaded" };
  try {
    if (opts.status === "published") {
      const n = countClientErrors(editor.state.nodes, editor.schemas);
      if (n > 0) return { ok: false, reason: "invalid", count: n };
      await validateFlow(editor.state.name, editor.definition(), "published");
    }
    if (!opts.force) {
      const latest = await conflict(editor);
      if (latest) return { ok: false, reason: "conflict", latest };
    }
    const definition = editor.definition();
    const saved = await updateFlow(flow.sid, {
      status: opts.status,
      name: editor.state.name,
      definition,
      commitMessage: opts.commitMessage || undefined,
    });
    editor.saved(saved);
    editor.setServerErrors(mapServerErrors(issuesOf(saved), definition));
    return { ok: true, flow: saved };
  } catch (err) {
    const bad = invalid(editor, err);
    if (bad) return bad;
    return { ok: false, reason: "error", message: err instanceof Error ? err.message : String(err) };
  }
}

/** Ask the server to validate the canvas (shows its errors on widgets and fields). */
export async function checkWithServer(editor: Editor): Promise<number> {
  try {
    await validateFlow(editor.state.name || "flow", editor.definition());
    editor.setServerErrors({});
    return 0;
  } catch (err) {
    const bad = invalid(editor, err);
    if (bad && bad.ok === false && bad.reason === "invalid") return bad.count;
    throw err;
  }
}
