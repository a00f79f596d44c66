// The team (admins and owners): who has which role, invitations by one-time link.

import { useCallback, useEffect, useState } from "react";
import { inviteUser, listUsers, removeUser, resetUser, setRole } from "../api/team";
import { toast } from "../lib/toast";
import { can, getSession, ROLES, type Role, type User } from "../state/auth";
import { AppHeader } from "./AppHeader";
import { KeysSection } from "./KeysSection";

/** Owners manage everyone; admins manage viewers and editors. */
const grantable = (): Role[] => (can("owner") ? ROLES : ["viewer", "editor"]);
const manageable = (u: User) => can("owner") || (can("admin") && (u.role === "viewer" || u.role === "editor"));

export function TeamPage({ onLogout }: { onLogout: () => void }) {
  const [users, setUsers] = useState<User[] | null>(null);
  const [email, setEmail] = useState("");
  const [role, setNewRole] = useState<Role>("editor");
  const [link, setLink] = useState<{ email: string; url: string } | null>(null);
  const me = getSession()?.user.sid;

  const load = useCallback(() => {
    listUsers()
      .then(setUsers)
      .catch((e: Error) => toast(e.message, "error"));
  }, []);
  useEffect(load, [load]);

  const invite = async () => {
    try {
      const created = await inviteUser(email.trim(), role);
      setLink({ email: created.email, url: created.invitation_url ?? "" });
      setEmail("");
      load();
    } catch (e) {
      toast((e as Error).message, "error");
    }
  };

  const act = (p: Promise<unknown>, done: string) =>
    p
      .then(() => {
        toast(done, "success");
        load();
      })
      .catch((e: Error) => toast(e.message, "error"));

  return (
    <div className="flows-page">
      <AppHeader onLogout={onLogout} here="team" />
      <main className="flows-main team-page">
        <div className="flows-head">
          <h1>Team</h1>
        </div>
        {!can("admin") ? (
          <div className="empty-state">Only admins and owners manage the team.</div>
        ) : (
          <>
            <form
              className="invite-form"
              onSubmit={(e) => {
                e.preventDefault();
                void invite();
              }}
            >
              <label htmlFor="invite-email">Invite by email</label>
              <input id="invite-email" type="email" value={email} placeholder="name@example.com" onChange={(e) => setEmail(e.target.value)} />
              <label htmlFor="invite-role">Role</label>
              <select id="invite-role" value={role} onChange={(e) => setNewRole(e.target.value as Role)}>
                {grantable().map((r) => (
                  <option key={r} value={r}>
                    {r}
                  </option>
                ))}
              </select>
              <button type="submit" className="btn primary" disabled={!email.trim()}>
                Invite
              </button>
            </form>
            {link && (
              <div className="invite-link" role="status">
                <p>
                  Send this one-time link to <strong>{link.email}</strong> (shown once; it expires in 7 days):
                </p>
                <input aria-label="Invitation link" readOnly value={link.url} onFocus={(e) => e.target.select()} />
              </div>
            )}
            {users === null ? (
              <div className="muted">Loading…</div>
            ) : (
              <table className="flows-table users-table">
                <thead>
                  <tr>
                    <th>Email</th>
                    <th>Role</th>
                    <th>Status</th>
                    <th />
                  </tr>
                </thead>
                <tbody>
                  {users.map((u) => (
                    <tr key={u.sid} data-email={u.email}>
                      <td>{u.email}</td>
                      <td>
                        {manageable(u) && u.sid !== me ? (
                          <select
                            aria-label={`Role of ${u.email}`}
                            value={u.role}
                            onChange={(e) => void act(setRole(u.sid, e.target.value as Role), `${u.email} is now ${e.target.value}`)}
                          >
                            {(grantable().includes(u.role) ? grantable() : [u.role, ...grantable()]).map((r) => (
                              <option key={r} value={r}>
                                {r}
                              </option>
                            ))}
                          </select>
                        ) : (
                          u.role
                        )}
                      </td>
                      <td>{u.status === "invited" ? <span className="muted">invited</span> : "active"}</td>
                      <td className="row-actions">
                        {manageable(u) && u.sid !== me && (
                          <button
                            type="button"
                            className="link-btn"
                            onClick={() =>
                              resetUser(u.sid)
                                .then((r) => {
                                  setLink({ email: u.email, url: r.invitation_url });
                                  load();
                                })
                                .catch((e: Error) => toast(e.message, "error"))
                            }
                          >
                            Reset password
                          </button>
                        )}
                        {manageable(u) && u.sid !== me && (
                          <button
                            type="button"
                            className="link-btn danger"
                            onClick={() => {
                              if (window.confirm(`Remove ${u.email} from the team?`)) void act(removeUser(u.sid), `Removed ${u.email}`);
                            }}
                          >
                            Remove
                          </button>
                        )}
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            )}
            <KeysSection />
          </>
        )}
      </main>
    </div>
  );
}
