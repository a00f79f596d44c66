import { useState } from "react";
import { ApiError } from "../api/client";
import { login } from "../api/team";
import { setSession } from "../state/auth";

/** What went wrong, in words: one request, answered at once (no retries). */
export function loginError(e: unknown): string {
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

export function Login() {
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [error, setError] = useState("");
  const [busy, setBusy] = useState(false);

  const submit = async () => {
    setBusy(true);
    setError("");
    try {
      setSession(await login(email.trim(), password));
    } catch (e) {
      setError(loginError(e));
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
          void submit();
        }}
      >
        <div className="brand big">
          <span className="logo">◉</span> Callboard Studio
        </div>
        <label htmlFor="login-email">Email</label>
        <input
          id="login-email"
          type="email"
          autoComplete="username"
          placeholder="you@example.com"
          value={email}
          onChange={(e) => setEmail(e.target.value)}
        />
        <label htmlFor="login-password">Password</label>
        <input
          id="login-password"
          type="password"
          autoComplete="current-password"
          value={password}
          onChange={(e) => setPassword(e.target.value)}
        />
        {error && (
          <div className="error-text" role="alert">
            {error}
          </div>
        )}
        <button type="submit" className="btn primary" disabled={busy || !email.trim() || !password}>
          {busy ? "Signing in…" : "Sign in"}
        </button>
        <p className="muted small">
          The first start of the server prints the owner's email and password; <code>callboard users add</code> adds
          people, or an owner invites them from the Team page.
        </p>
      </form>
    </div>
  );
}
