// The one-time invitation link: the new person chooses a password and is logged in.

import { useEffect, useState } from "react";
import { acceptInvitation, fetchInvitation } from "../api/team";
import { setSession } from "../state/auth";
import { AuthForm, AuthFrame } from "./AuthForm";

export function InvitePage({ token }: { token: string }) {
  const [invite, setInvite] = useState<{ email: string; role: string } | null>(null);
  const [loadError, setLoadError] = useState("");
  const [password, setPassword] = useState("");
  const [again, setAgain] = useState("");

  useEffect(() => {
    fetchInvitation(token)
      .then(setInvite)
      .catch((e: Error) => setLoadError(e.message));
  }, [token]);

  if (!invite) {
    return (
      <AuthFrame>
        {loadError ? (
          <div className="error-text" role="alert">
            {loadError} <a href="#/">Log in</a>
          </div>
        ) : (
          <div className="muted">Loading…</div>
        )}
      </AuthFrame>
    );
  }

  const submit = async () => {
    if (password !== again) return "The two passwords differ.";
    const session = await acceptInvitation(token, password);
    window.location.hash = "#/";
    setSession(session);
  };

  return (
    <AuthForm submit={submit} label="Join" busyLabel="Joining…" ready={Boolean(password)}>
      <p>
        Welcome <strong>{invite.email}</strong>: you join as <strong>{invite.role}</strong>. Choose a password (8
        characters or more).
      </p>
      <label htmlFor="invite-password">Password</label>
      <input id="invite-password" type="password" autoComplete="new-password" value={password} onChange={(e) => setPassword(e.target.value)} />
      <label htmlFor="invite-again">Password again</label>
      <input id="invite-again" type="password" autoComplete="new-password" value={again} onChange={(e) => setAgain(e.target.value)} />
    </AuthForm>
  );
}
