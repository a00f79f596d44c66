// Credentials live in sessionStorage (gone when the tab closes).

export interface Credentials {
  username: string; // Account SID (AC…) or API Key SID (SK…)
  password: string; // Auth Token or API Key secret
  accountSid?: string;
}

const KEY = "callboard.credentials";

export function getCredentials(): Credentials | null {
  try {
    const raw = sessionStorage.getItem(KEY);
    return raw ? (JSON.parse(raw) as Credentials) : null;
  } catch {
    return null;
  }
}

export function setCredentials(creds: Credentials | null): void {
  if (creds) sessionStorage.setItem(KEY, JSON.stringify(creds));
  else sessionStorage.removeItem(KEY);
}
