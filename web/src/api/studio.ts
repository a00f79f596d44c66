// Studio v2 REST API (the documented routes only).

import { localPath, request, type FormValue } from "./client";
import type { Execution, Flow, FlowDefinition, Page, Revision, Step } from "./types";

interface ListBody {
  meta: { key: string; next_page_url: string | null };
  [key: string]: unknown;
}

async function listPage<T>(path: string, query: Record<string, FormValue> = {}): Promise<Page<T>> {
  const body = await request<ListBody>("GET", path, { query });
  return { items: (body[body.meta.key] as T[]) ?? [], nextPageUrl: body.meta.next_page_url };
}

/** Every page of a list (follows meta.next_page_url). */
async function listAll<T>(path: string, query: Record<string, FormValue> = {}): Promise<T[]> {
  const out: T[] = [];
  let page = await listPage<T>(path, { PageSize: 1000, ...query });
  out.push(...page.items);
  while (page.nextPageUrl) {
    page = await listPage<T>(localPath(page.nextPageUrl));
    out.push(...page.items);
  }
  return out;
}

export const listFlows = () => listAll<Flow>("/v2/Flows");

export const fetchFlow = (sid: string) => request<Flow>("GET", `/v2/Flows/${sid}`);

const prefetched = new Map<string, Promise<Flow>>();

/** Starts loading a flow early (while the widget types load); loadFlow takes it. */
export function prefetchFlow(sid: string): void {
  if (!prefetched.has(sid)) {
    const p = fetchFlow(sid);
    p.catch(() => undefined);
    prefetched.set(sid, p);
  }
}

export function loadFlow(sid: string): Promise<Flow> {
  const p = prefetched.get(sid);
  prefetched.delete(sid);
  return p ?? fetchFlow(sid);
}

export const createFlow = (name: string, definition: FlowDefinition, commitMessage?: string) =>
  request<Flow>("POST", "/v2/Flows", {
    form: {
      FriendlyName: name,
      Status: "draft",
      Definition: JSON.stringify(definition),
      CommitMessage: commitMessage,
    },
  });

export const updateFlow = (
  sid: string,
  params: {
    status: "draft" | "published";
    name?: string;
    definition?: FlowDefinition;
    commitMessage?: string;
  },
) =>
  request<Flow>("POST", `/v2/Flows/${sid}`, {
    form: {
      Status: params.status,
      FriendlyName: params.name,
      Definition: params.definition ? JSON.stringify(params.definition) : undefined,
      CommitMessage: params.commitMessage,
    },
  });

export const deleteFlow = (sid: string) => request<void>("DELETE", `/v2/Flows/${sid}`);

export const validateFlow = (name: string, definition: FlowDefinition, status = "draft") =>
  request<{ valid: boolean }>("POST", "/v2/Flows/Validate", {
    form: { FriendlyName: name, Status: status, Definition: JSON.stringify(definition) },
  });

export const listRevisions = (sid: string) => listAll<Revision>(`/v2/Flows/${sid}/Revisions`);

export const fetchRevision = (sid: string, revision: number | string) =>
  request<Revision>("GET", `/v2/Flows/${sid}/Revisions/${revision}`);

export interface ExecutionFilter {
  status?: "active" | "ended" | "";
  from?: string; // YYYY-MM-DD, inclusive
  to?: string; // YYYY-MM-DD, exclusive
}

export const listExecutions = (flowSid: string, filter: ExecutionFilter = {}) =>
  listPage<Execution>(`/v2/Flows/${flowSid}/Executions`, {
    PageSize: 100,
    status: filter.status || undefined,
    DateCreatedFrom: filter.from || undefined,
    DateCreatedTo: filter.to || undefined,
  });

export const fetchExecution = (flowSid: string, sid: string) =>
  request<Execution>("GET", `/v2/Flows/${flowSid}/Executions/${sid}`);

export const createExecution = (flowSid: string, to: string, from: string, parameters?: object) =>
  request<Execution>("POST", `/v2/Flows/${flowSid}/Executions`, {
    form: { To: to, From: from, Parameters: parameters ? JSON.stringify(parameters) : undefined },
  });

export const listSteps = (flowSid: string, executionSid: string) =>
  listAll<Step>(`/v2/Flows/${flowSid}/Executions/${executionSid}/Steps`);

export const fetchStepContext = (flowSid: string, executionSid: string, stepSid: string) =>
  request<{ context: unknown }>(
    "GET",
    `/v2/Flows/${flowSid}/Executions/${executionSid}/Steps/${stepSid}/Context`,
  );

export const fetchExecutionContext = (flowSid: string, executionSid: string) =>
  request<{ context: unknown }>("GET", `/v2/Flows/${flowSid}/Executions/${executionSid}/Context`);
