// The one-time invitation link: the new person chooses a password and is logged in.

import { useEffect, useState } from "react";
import { acceptInvitation, fetchInvitation } from "../api/team";
import { setSession } from "../state/auth";
import { loginError } from "./Login";

export function InvitePage({ token }: { token: string }) {
  const [invite, setInvite] = useState<{ email: string; role: string } | null>(null);
  const [error, setError] = useState("");
  const [password, setPassword] = useState("");
  const [again, setAgain] = useState("");
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    fetchInvitation(token)
      .then(setInvite)
      .catch((e: Error) => setError(e.message));
  }, [token]);

  const submit = async () => {
    if (password !== again) {
      setError("The two passwords differ.");
      return;
    }
    setBusy(true);
    setError("");
    try {
      const session = await acceptInvitation(token, password);
      window.location.hash = "#/";
      setSession(session);
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
        {invite ? (
          <>
            <p>
              Welcome <strong>{invite.email}</strong>: you join as <strong>{invite.role}</strong>. Choose a password (8
              characters or more).
            </p>
            <label htmlFor="invite-password">Password</label>
            <input id="invite-password" type="password" autoComplete="new-password" value={password} onChange={(e) => setPassword(e.target.value)} />
            <label htmlFor="invite-again">Password again</label>
            <input id="invite-again" type="password" autoComplete="new-password" value={again} onChange={(e) => setAgain(e.target.value)} />
            {error && (
              <div className="error-text" role="alert">
                {error}
              </div>
            )}
            <button type="submit" className="btn primary" disabled={busy || !password}>
              {busy ? "Joining…" : "Join"}
            </button>
          </>
        ) : error ? (
          <div className="error-text" role="alert">
            {error} <a href="#/">Log in</a>
          </div>
        ) : (
          <div className="muted">Loading…</div>
        )}
      </form>
    </div>
  );
}
