// The team (issue 14): log-in sessions, users and invitations, the audit log, and
// revisions with their authors.

import { localPath, request } from "./client";
import type { Flow } from "./types";
import type { Role, Session, User } from "../state/auth";

export const login = (email: string, password: string) =>
  request<Session>("POST", "/callboard/v1/Session", { json: { email, password } });

export const currentSession = () => request<Session>("GET", "/callboard/v1/Session");

export const logout = () => request<void>("DELETE", "/callboard/v1/Session");

export const listUsers = async (): Promise<User[]> =>
  (await request<{ users: User[] }>("GET", "/callboard/v1/Users")).users;

/** Without a password: an invitation (the answer's invitation_url, shown once). */
export const inviteUser = (email: string, role: Role) =>
  request<User & { invitation_url?: string }>("POST", "/callboard/v1/Users", {
    form: { Email: email, Role: role },
  });

export const setRole = (sid: string, role: Role) =>
  request<User>("POST", `/callboard/v1/Users/${sid}`, { form: { Role: role } });

export const removeUser = (sid: string) => request<void>("DELETE", `/callboard/v1/Users/${sid}`);

export const fetchInvitation = (token: string) =>
  request<{ email: string; role: Role }>("GET", `/callboard/v1/Invitations/${encodeURIComponent(token)}`);

export const acceptInvitation = (token: string, password: string) =>
  request<Session>("POST", `/callboard/v1/Invitations/${encodeURIComponent(token)}`, {
    json: { password },
  });

export interface AuditEvent {
  sid: string;
  actor: string;
  actor_sid: string | null;
  action: string;
  resource_sid: string | null;
  client_address: string | null;
  details: Record<string, unknown> | null;
  date_created: string;
}

export interface AuditPage {
  events: AuditEvent[];
  next: string | null;
}

export async function listAuditEvents(
  filters: { Actor?: string; Action?: string },
  next?: string | null,
): Promise<AuditPage> {
  const body = next
    ? await request<{ audit_events: AuditEvent[]; meta: { next_page_url: string | null } }>("GET", localPath(next))
    : await request<{ audit_events: AuditEvent[]; meta: { next_page_url: string | null } }>(
        "GET",
        "/callboard/v1/AuditEvents",
        { query: { PageSize: 50, ...filters } },
      );
  return { events: body.audit_events, next: body.meta.next_page_url };
}

export interface RevisionAuthor {
  revision: number;
  status: "draft" | "published";
  commit_message: string | null;
  author: string | null;
  author_sid: string | null;
  date_created: string;
}

export async function listRevisionAuthors(flowSid: string): Promise<RevisionAuthor[]> {
  const out: RevisionAuthor[] = [];
  let url: string | null = `/callboard/v1/Flows/${flowSid}/Revisions?PageSize=1000`;
  while (url) {
    const body: { revisions: RevisionAuthor[]; meta: { next_page_url: string | null } } = await request(
      "GET",
      url,
    );
    out.push(...body.revisions);
    url = body.meta.next_page_url ? localPath(body.meta.next_page_url) : null;
  }
  return out;
}

/** A new draft revision with an old revision's definition, by you (audited). */
export const restoreRevision = (flowSid: string, revision: number) =>
  request<Flow>("POST", `/callboard/v1/Flows/${flowSid}/Revisions/${revision}/Restore`);

/** Clears a user's password: a new one-time link to choose one (shown once). */
export const resetUser = (sid: string) =>
  request<{ invitation_url: string }>("POST", `/callboard/v1/Users/${sid}/Invitation`);

export interface ApiKey {
  sid: string;
  friendly_name: string;
  created_by: string | null;
  role: Role;
  date_created: string;
}

export const listKeys = async (): Promise<ApiKey[]> =>
  (await request<{ keys: ApiKey[] }>("GET", "/callboard/v1/Keys")).keys;

/** A new API key carrying at most your role; its secret is in the answer only. */
export const createKey = (name: string, role: Role) =>
  request<ApiKey & { secret: string }>("POST", "/callboard/v1/Keys", { form: { FriendlyName: name, Role: role } });

export const deleteKey = (sid: string) => request<void>("DELETE", `/callboard/v1/Keys/${sid}`);
