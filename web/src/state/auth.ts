// The browser session (issue 14). The session itself is an HttpOnly cookie the page
// cannot read; this module keeps only who is logged in and the CSRF token, in memory
// (never in localStorage or sessionStorage). On a reload, GET /callboard/v1/Session
// gives both back while the cookie's session lives.

export type Role = "viewer" | "editor" | "admin" | "owner";
export const ROLES: Role[] = ["viewer", "editor", "admin", "owner"];

export interface User {
  sid: string;
  account_sid: string;
  email: string;
  role: Role;
  status: "active" | "invited";
  date_created: string;
  date_updated: string;
}

export interface Session {
  user: User;
  csrf_token: string;
}

let current: Session | null = null;
const listeners = new Set<() => void>();

export function getSession(): Session | null {
  return current;
}

export function setSession(session: Session | null): void {
  current = session;
  listeners.forEach((fn) => fn());
}

export function onSessionChange(fn: () => void): () => void {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

/** Whether the logged-in user's role is `needed` or stronger. */
export function can(needed: Role): boolean {
  const role = current?.user.role;
  return role !== undefined && ROLES.indexOf(role) >= ROLES.indexOf(needed);
}

export function roleNeeded(needed: Role): string {
  return `Needs the ${needed} role (you are ${current?.user.role ?? "logged out"})`;
}
