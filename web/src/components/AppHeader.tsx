// The header of the pages outside a flow: where to go, who is logged in, sign out.

import { can, getSession } from "../state/auth";

export function AppHeader({ onLogout, here }: { onLogout: () => void; here: "flows" | "team" | "audit" }) {
  const user = getSession()?.user;
  const link = (to: string, name: string, key: typeof here) => (
    <a href={to} className={`tb nav${here === key ? " on" : ""}`} aria-current={here === key ? "page" : undefined}>
      {name}
    </a>
  );
  return (
    <header className="topbar">
      <div className="brand">
        <span className="logo">◉</span> Callboard Studio
      </div>
      {link("#/", "Flows", "flows")}
      {can("admin") && link("#/team", "Team", "team")}
      {can("admin") && link("#/audit", "Audit log", "audit")}
      <div className="spacer" />
      {user && (
        <span className="whoami muted small" data-role={user.role}>
          {user.email} · {user.role}
        </span>
      )}
      <button type="button" className="tb" onClick={onLogout}>
        Sign out
      </button>
    </header>
  );
}
