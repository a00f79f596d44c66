// The one place that talks HTTP: the session cookie (sent by the browser) with the
// CSRF token on every state-changing request, form-encoded bodies, Twilio error bodies
// turned into ApiError. A 401 means the session ended: the app goes back to log-in.

import { getSession, setSession } from "../state/auth";

export interface ValidationIssue {
  property_path: string;
  message: string;
}

export class ApiError extends Error {
  status: number;
  code: number;
  details: Record<string, unknown> | undefined;
  retryAfter: number | undefined; // seconds, on 429

  constructor(status: number, code: number, message: string, details?: Record<string, unknown>) {
    super(message);
    this.status = status;
    this.code = code;
    this.details = details;
  }

  /** 81022's details.errors[] (property_path like "#/states/3/properties/timeout"). */
  get validationErrors(): ValidationIssue[] {
    const errs = this.details?.errors;
    return Array.isArray(errs) ? (errs as ValidationIssue[]) : [];
  }
}

export type FormValue = string | number | boolean | undefined | null | string[];

export function encodeForm(params: Record<string, FormValue>): URLSearchParams {
  const body = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value === undefined || value === null) continue;
    if (Array.isArray(value)) value.forEach((v) => body.append(key, v));
    else body.append(key, String(value));
  }
  return body;
}

/** Headers of every request: no browser log-in pop-up, and the CSRF token. */
export function authHeader(): Record<string, string> {
  const headers: Record<string, string> = { "X-Requested-With": "XMLHttpRequest" };
  const session = getSession();
  if (session) headers["X-CSRF-Token"] = session.csrf_token;
  return headers;
}

/** Sent with every request: the server then never answers 401 with
 * `WWW-Authenticate: Basic`, so the browser never opens its own login dialog (which
 * would leave the editor waiting on "Signing in…"). */
export const XHR_HEADER = { "X-Requested-With": "XMLHttpRequest" } as const;

/** Keeps only the path and query of an absolute URL the server returned (paging links). */
export function localPath(url: string): string {
  try {
    const u = new URL(url, window.location.origin);
    return u.pathname + u.search;
  } catch {
    return url;
  }
}

export async function request<T>(
  method: "GET" | "POST" | "DELETE",
  path: string,
  options: { query?: Record<string, FormValue>; form?: Record<string, FormValue>; json?: unknown } = {},
): Promise<T> {
  let url = path;
  if (options.query) {
    const q = encodeForm(options.query).toString();
    if (q) url += (url.includes("?") ? "&" : "?") + q;
  }
  const headers: Record<string, string> = {
    Accept: "application/json",
    ...XHR_HEADER,
    ...authHeader(),
  };
  let body: string | undefined;
  if (options.form) {
    headers["Content-Type"] = "application/x-www-form-urlencoded";
    body = encodeForm(options.form).toString();
  } else if (options.json !== undefined) {
    headers["Content-Type"] = "application/json";
    body = JSON.stringify(options.json);
  }
  let res: Response;
  try {
    res = await fetch(url, { method, headers, body, credentials: "same-origin" });
  } catch (err) {
    throw new ApiError(0, 0, `Cannot reach the Callboard server (${String(err)})`);
  }
  if (res.status === 401 && getSession() && !path.startsWith("/callboard/v1/Session")) {
    setSession(null); // the session ended (logged out, removed, role changed)
  }
  if (res.status === 204) return undefined as T;
  const text = await res.text();
  let data: unknown = undefined;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = undefined;
    }
  }
  if (!res.ok) {
    const d = (data ?? {}) as { code?: number; message?: string; details?: Record<string, unknown> };
    const err = new ApiError(
      res.status,
      d.code ?? res.status,
      d.message ?? `${method} ${path} failed with HTTP ${res.status}`,
      d.details,
    );
    err.retryAfter = Number(res.headers.get("Retry-After")) || undefined;
    throw err;
  }
  return data as T;
}
