import type { ValidationIssue } from "../api/client";
import type { Flow } from "../api/types";

/** The validation errors a saved flow carries (the server keeps invalid drafts). */
export function issuesOf(flow: Flow): ValidationIssue[] {
  return Array.isArray(flow.errors)
    ? (flow.errors as ValidationIssue[]).filter((e) => e && typeof e === "object" && "message" in e)
    : [];
}
