import { useState } from "react";
import { login } from "../api/team";
import { setSession } from "../state/auth";
import { AuthForm } from "./AuthForm";

export function Login() {
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");

  return (
    <AuthForm
      submit={async () => setSession(await login(email.trim(), password))}
      label="Log in"
      busyLabel="Logging in…"
      ready={Boolean(email.trim() && password)}
      footer={
        <p className="muted small">
          The first start of the server prints the owner's email and password; <code>callboard users add</code> adds
          people, or an owner invites them from the Team page.
        </p>
      }
    >
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
    </AuthForm>
  );
}
