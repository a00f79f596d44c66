// The frame shared by the log-in and invitation pages: the brand, the fields, one
// error line, and a submit button that shows while its request runs.

import { type ReactNode, useState } from "react";
import { ApiError } from "../api/client";

/** What went wrong, in words: one request, answered at once (no retries). */
export function authError(e: unknown): string {
  if (e instanceof ApiError) {
    if (e.status === 401) return "Wrong email or password.";
    if (e.status === 429) {
      const wait = e.retryAfter ?? 0;
      const when = wait > 90 ? `${Math.ceil(wait / 60)} minutes` : `${wait} seconds`;
      return `Too many failed attempts: try again in ${when}.`;
    }
    if (e.status === 0) return "Cannot reach the Callboard server: is it running?";
    return e.message;
  }
  return (e as Error).message;
}

export function AuthForm({
  submit,
  label,
  busyLabel,
  ready,
  children,
  footer,
}: {
  /** Sends the form; a thrown error (or a returned message) is shown under the fields. */
  submit: () => Promise<string | void>;
  label: string;
  busyLabel: string;
  ready: boolean;
  children: ReactNode;
  footer?: ReactNode;
}) {
  const [error, setError] = useState("");
  const [busy, setBusy] = useState(false);

  const send = async () => {
    setBusy(true);
    setError("");
    try {
      const problem = await submit();
      if (problem) setError(problem);
    } catch (e) {
      setError(authError(e));
    } finally {
      setBusy(false);
    }
  };

  return (
    <div className="login-page">
      <form
        className="login"
        onSubmit={(e) => {
          e.preventDefault();
          void send();
        }}
      >
        <div className="brand big">
          <span className="logo">◉</span> Callboard Studio
        </div>
        {children}
        {error && (
          <div className="error-text" role="alert">
            {error}
          </div>
        )}
        <button type="submit" className="btn primary" disabled={busy || !ready}>
          {busy ? busyLabel : label}
        </button>
        {footer}
      </form>
    </div>
  );
}

/** The page's frame alone, for what is shown before a form can be (loading, a dead link). */
export function AuthFrame({ children }: { children: ReactNode }) {
  return (
    <div className="login-page">
      <div className="login">
        <div className="brand big">
          <span className="logo">◉</span> Callboard Studio
        </div>
        {children}
      </div>
    </div>
  );
}
