import { useState } from "react";
import { listFlows } from "../api/studio";
import { setCredentials } from "../state/auth";

export function Login({ onLogin }: { onLogin: () => void }) {
  const [mode, setMode] = useState<"token" | "key">("token");
  const [user, setUser] = useState("");
  const [secret, setSecret] = useState("");
  const [error, setError] = useState("");
  const [busy, setBusy] = useState(false);

  const submit = async () => {
    setBusy(true);
    setError("");
    setCredentials({ username: user.trim(), password: secret });
    try {
      await listFlows();
      onLogin();
    } catch (e) {
      setCredentials(null);
      setError((e as Error).message);
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
        <div className="tabs" role="tablist">
          <button type="button" role="tab" aria-selected={mode === "token"} className={mode === "token" ? "on" : ""} onClick={() => setMode("token")}>
            Auth Token
          </button>
          <button type="button" role="tab" aria-selected={mode === "key"} className={mode === "key" ? "on" : ""} onClick={() => setMode("key")}>
            API Key
          </button>
        </div>
        <label htmlFor="login-user">{mode === "token" ? "Account SID" : "API Key SID"}</label>
        <input
          id="login-user"
          autoComplete="username"
          placeholder={mode === "token" ? "AC…" : "SK…"}
          value={user}
          onChange={(e) => setUser(e.target.value)}
        />
        <label htmlFor="login-secret">{mode === "token" ? "Auth Token" : "API Key Secret"}</label>
        <input
          id="login-secret"
          type="password"
          autoComplete="current-password"
          value={secret}
          onChange={(e) => setSecret(e.target.value)}
        />
        {error && <div className="error-text" role="alert">{error}</div>}
        <button type="submit" className="btn primary" disabled={busy || !user || !secret}>
          {busy ? "Signing in…" : "Sign in"}
        </button>
        <p className="muted small">
          Create credentials with <code>callboard accounts create</code>. They stay in this tab only.
        </p>
      </form>
    </div>
  );
}
